// Learning progress that stays on this device, also in the offline copy over file://.
// The goals under 「学习目标」 on each stage page and each notebook page can be ticked;
// the navigation and the roadmap on the home page show how far the reader is; the home
// page exports the progress as a small JSON file and imports it on another browser.
// Stored in localStorage under KEY as {version: 1, done: {id: true}, totals: {stage: n}}:
// a goal's id is its stage and a hash of its text, so reordering goals keeps the ticks
// (rewording a goal drops its tick).  Runs after every (instant) navigation.
// Nothing moves when this script runs: the notebook's checkbox and the export/import buttons
// are in the built pages already, disabled (tools/notebook_render.py, docs/index.md), and the
// goals keep room for their checkboxes in the stylesheet (extra.css).
(function () {
  var KEY = "llm-roadmap-progress";
  var STAGE = /\/stages\/(\d\d-[a-z0-9-]+)(?:\/|\.html)/;
  var NOTEBOOK = /\/notebooks\/(\d\d-[a-z0-9-]+)(?:\/|\.html)/;

  function empty() { return { version: 1, done: {}, totals: {} }; }

  function valid(data) {
    return data && data.version === 1 && typeof data.done === "object" && data.done !== null &&
      Object.keys(data.done).every(function (k) { return data.done[k] === true; }) &&
      typeof (data.totals || {}) === "object";
  }

  function load() {
    try {
      var data = JSON.parse(localStorage.getItem(KEY));
      return valid(data) ? Object.assign(empty(), data) : empty();
    } catch (error) {
      return empty();  // storage off (some private windows) or a damaged value
    }
  }

  function save(data) {
    try { localStorage.setItem(KEY, JSON.stringify(data)); } catch (error) { /* storage off */ }
  }

  function hash(text) {  // FNV-1a, 32 bits: short, stable ids for goal texts
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(36);
  }

  function pageOf(href) {
    var path = new URL(href, location.href).pathname, m;
    if ((m = STAGE.exec(path))) return { kind: "stage", stem: m[1] };
    if ((m = NOTEBOOK.exec(path))) return { kind: "notebook", stem: m[1] };
    return null;
  }

  function goalsList() {
    var heading = document.getElementById("学习目标");
    for (var el = heading && heading.nextElementSibling; el && el.tagName !== "H2"; el = el.nextElementSibling) {
      if (el.tagName === "UL") return el;
    }
    return null;
  }

  // Wire up `box` (a checkbox from the built page, or a new one) to the stored tick `id`.
  function checkbox(id, label, data, onChange, box) {
    if (!box) {
      box = document.createElement("input");
      box.type = "checkbox";
      box.className = "progress-check";
    }
    box.disabled = false;
    box.setAttribute("data-progress-id", id);
    box.setAttribute("aria-label", label);
    box.checked = Boolean(data.done[id]);
    box.addEventListener("change", function () {
      var current = load();
      if (box.checked) current.done[id] = true; else delete current.done[id];
      save(current);
      onChange(current);
    });
    return box;
  }

  function stageCount(data, stem) {
    var prefix = "stage:" + stem + ":";
    return Object.keys(data.done).filter(function (k) { return k.indexOf(prefix) === 0; }).length;
  }

  function badgeText(data, target) {
    if (target.kind === "notebook") return data.done["notebook:" + target.stem] ? "✓" : "";
    var total = data.totals[target.stem];
    var done = stageCount(data, target.stem);
    return total && done ? Math.min(done, total) + "/" + total : "";
  }

  // The navigation (and the stage cards on the home page) show what is done.
  function decorate(data) {
    document.querySelectorAll(".progress-badge").forEach(function (b) { b.remove(); });
    // The current page's entry on a phone is the label that opens its table of contents.
    var links = ".md-nav--primary .md-nav__link[href], .md-nav--primary label.md-nav__link[for='__toc'], " +
                ".roadmap-stage strong a[href]";
    document.querySelectorAll(links).forEach(function (link) {
      // Not the table of contents: its links name a #section (after instant navigation they are
      // absolute addresses of this page, so look at the address, not at the attribute's first character).
      var url = new URL(link.getAttribute("href") || "", location.href);
      var target = !url.hash && pageOf(url.href);
      var text = target && badgeText(data, target);
      if (!text) return;
      var badge = document.createElement("span");
      badge.className = "progress-badge";
      badge.textContent = text;
      badge.title = target.kind === "notebook" ? "已完成" : "已完成的学习目标";
      // In the navigation the badge is an item of the entry's own row (Material lays entries out as
      // flex rows): it stays on the title's first line, where in the title it wrapped under a long one.
      var title = link.querySelector(".md-ellipsis");
      if (title && link.classList.contains("md-nav__link")) title.after(badge);
      else (title || link).appendChild(badge);
    });
  }

  function tickGoals(stem, data) {
    var list = goalsList();
    if (!list) return;
    var items = list.querySelectorAll(":scope > li");
    if (data.totals[stem] !== items.length) {
      data.totals[stem] = items.length;
      save(data);
    }
    items.forEach(function (item) {
      if (item.querySelector(".progress-check")) return;
      var text = item.textContent.trim();
      var box = checkbox("stage:" + stem + ":" + hash(text), "已完成：" + text.slice(0, 40), data, decorate);
      item.classList.add("progress-item");
      item.insertBefore(box, item.firstChild);
    });
  }

  function tickNotebook(stem, data) {
    var header = document.querySelector(".nb-header");
    var built = header && header.querySelector(".progress-check");
    if (!header || (built && built.hasAttribute("data-progress-id"))) return;
    var box = checkbox("notebook:" + stem, "我已完成这个 notebook", data, decorate, built);
    box.removeAttribute("aria-label");  // the label's text names it
    if (built) return;
    var label = document.createElement("label");
    label.className = "progress-notebook";
    label.appendChild(box);
    label.appendChild(document.createTextNode(" 我已完成这个 notebook"));
    header.appendChild(label);
  }

  function exportProgress() {
    var blob = new Blob([JSON.stringify(load(), null, 2)], { type: "application/json" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "llm-roadmap-progress.json";
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
  }

  function importProgress(file, status) {
    file.text().then(function (text) {
      var incoming;
      try { incoming = JSON.parse(text); } catch (error) { incoming = null; }
      if (!valid(incoming)) {
        status.textContent = "没有导入：这不是本站导出的进度文件。";
        return;
      }
      var data = load();  // merge: what is ticked on either device stays ticked
      Object.keys(incoming.done).forEach(function (k) { data.done[k] = true; });
      Object.keys(incoming.totals || {}).forEach(function (k) {
        if (typeof incoming.totals[k] === "number" && !data.totals[k]) data.totals[k] = incoming.totals[k];
      });
      save(data);
      status.textContent = "已导入 " + Object.keys(incoming.done).length + " 项进度。";
      decorate(data);
    });
  }

  // The export and import buttons under the roadmap on the home page (in docs/index.md).
  function tools() {
    var box = document.querySelector(".progress-tools");
    if (!box || box.hasAttribute("data-progress-wired")) return;
    box.setAttribute("data-progress-wired", "");
    box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    box.querySelector("[data-progress-export]").addEventListener("click", exportProgress);
    var input = box.querySelector("[data-progress-import]");
    box.querySelector("[data-progress-choose]").addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      if (input.files[0]) importProgress(input.files[0], box.querySelector(".progress-status"));
      input.value = "";
    });
  }

  function render() {
    var data = load();
    var here = pageOf(location.href);
    if (here && here.kind === "stage") tickGoals(here.stem, data);
    if (here && here.kind === "notebook") tickNotebook(here.stem, data);
    tools();
    decorate(data);
  }

  document$.subscribe(render);
})();
