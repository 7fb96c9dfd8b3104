// Math on every page, also after Material's instant navigation: KaTeX's script (the site's
// own copy) is loaded the first time a formula comes near the screen, and each formula is
// rendered when it does.
// arithmatex writes inline math as \( \) in <span class="arithmatex"> and display math as
// \[ \] in <div class="arithmatex">.
(function () {
  var base = new URL("../vendor/katex/", document.currentScript.src).href;
  var loading = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      // Into <body>, not <head>: on instant navigation Material removes every <head> element that
      // the next page's <head> lacks, which could leave the download pending for good.
      document.body.appendChild(script);
    });
  }

  // KaTeX's stylesheet is in every page's <head> (mkdocs.yml, extra_css): appended here, its
  // @font-face rules made the browser lay out the whole page a second time.
  function katexReady() {
    if (!loading) {
      loading = loadScript(base + "katex.min.js").catch(function (error) {
        loading = null;  // a failed download is tried again when the next formula comes near
        throw error;
      });
    }
    return loading;
  }

  // A formula still to render: no KaTeX output in it and no error mark.
  function pending(node) {
    return !node.querySelector(".katex") && !node.classList.contains("math-error");
  }

  function renderOne(node) {
    if (!node.isConnected || !pending(node)) return;
    var tex = node.textContent.trim();
    var display = tex.indexOf("\\[") === 0;
    tex = tex.replace(/^\\[(\[]/, "").replace(/\\[)\]]$/, "");
    try {
      katex.render(tex, node, { displayMode: display, throwOnError: true });
    } catch (error) {
      // Leave the source visible and mark it: the browser tests fail on any such node.
      node.classList.add("math-error");
      node.title = String(error.message || error);
    }
    node.removeAttribute("data-math-queued");
    node.setAttribute("data-math-done", "");  // rendered (or marked as an error): what the tests wait for
  }

  // Render in slices of about 10 ms and let the browser breathe in between: a phone
  // rendering twenty formulas in one go is busy for a third of a second.
  var queue = [];
  var draining = false;
  function drain() {
    var start = Date.now();
    try {
      while (queue.length && Date.now() - start < 10) renderOne(queue.shift());
    } finally {
      // whatever happened to one formula, the others are not left waiting
      draining = queue.length > 0;
      if (draining) setTimeout(drain, 0);
    }
  }
  function enqueue(nodes) {
    queue.push.apply(queue, nodes);
    if (!draining) { draining = true; drain(); }
  }

  var started = false;  // render() has run: the page is set up
  var observer = null;
  var retryDelay = 1000;

  function nearTheScreen(entries, self) {
    var near = entries.filter(function (e) { return e.isIntersecting; }).map(function (e) { return e.target; });
    if (!near.length) return;
    near.forEach(function (node) { self.unobserve(node); });
    katexReady().then(function () { enqueue(near); }, function () {
      // The download failed: watch these formulas again after a pause (observe() reports
      // at once whether a formula is near), so they are not left as source for good.
      setTimeout(function () {
        if (self === observer) near.forEach(function (node) { self.observe(node); });
      }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    });
  }

  // Watch the formulas under `root` that still need rendering.
  function watch(root) {
    if (!started) return;  // render() will find them
    var nodes = Array.prototype.filter.call(
      root.matches && root.matches(".arithmatex") ? [root] : root.querySelectorAll(".arithmatex"), pending);
    if (!nodes.length) return;
    nodes.forEach(function (node) { node.removeAttribute("data-math-done"); node.removeAttribute("data-math-queued"); });
    if (!observer) {
      katexReady().then(function () { enqueue(nodes); });
      return;
    }
    nodes.forEach(function (node) { observer.observe(node); });
  }

  // A safety net under the observer: once a second, formulas within 600 px of the screen that are
  // still waiting are rendered directly.  CI saw pages where the observer stopped reporting part of
  // the formulas (about one load in fifty, cause not found); this keeps them from staying source.
  // A swept formula is marked as queued, not done, until KaTeX has rendered it.
  var WAITING = ".arithmatex:not([data-math-done]):not([data-math-queued])";
  function sweep() {
    if (!observer || !document.querySelector(WAITING)) return;
    var near = Array.prototype.filter.call(document.querySelectorAll(WAITING), function (node) {
      // A hidden formula (a closed quiz answer, another tab) has no box: its rectangle is all zeros,
      // which would count as "at the top of the screen" and download KaTeX on every such page.
      if (!node.getClientRects().length) return false;
      var box = node.getBoundingClientRect();
      return pending(node) && box.bottom > -600 && box.top < window.innerHeight + 600;
    });
    if (!near.length) return;
    near.forEach(function (node) { observer.unobserve(node); node.setAttribute("data-math-queued", ""); });
    katexReady().then(function () { enqueue(near); }, function () {
      near.forEach(function (node) { node.removeAttribute("data-math-queued"); if (observer) observer.observe(node); });
    });
  }
  setInterval(sweep, 1000);

  function render() {
    started = true;
    if (observer) observer.disconnect();
    queue.length = 0;  // formulas of the page before an instant navigation
    if ("IntersectionObserver" in window) {
      observer = new IntersectionObserver(nearTheScreen, { rootMargin: "600px 0px" });
    }
    watch(document.body);
  }

  // Formulas that arrive after a page is set up (content put in or replaced by another
  // script) are watched too: an observer only sees the nodes it was given.
  if ("MutationObserver" in window) {
    new MutationObserver(function (mutations) {
      mutations.forEach(function (m) {
        m.addedNodes.forEach(function (node) { if (node.nodeType === 1) watch(node); });
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  document$.subscribe(render);
})();
