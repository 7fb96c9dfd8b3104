// Math on every page, also after Material's instant navigation: KaTeX (the site's own copy,
// about 190 KB with its fonts) is loaded the first time a formula comes near the screen,
// and each formula is rendered when it does.
// arithmatex writes inline math as \( \) in <span class="arithmatex"> and display math as
// \[ \] in <div class="arithmatex">.
(function () {
  var base = new URL("../vendor/katex/", document.currentScript.src).href;
  var loading = null;

  function load(tag, attrs) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement(tag);
      Object.keys(attrs).forEach(function (k) { el[k] = attrs[k]; });
      el.onload = resolve;
      el.onerror = function () { reject(new Error("could not load " + (attrs.src || attrs.href))); };
      // Into <body>, not <head>: on instant navigation Material removes every <head> element that
      // the next page's <head> lacks, which took KaTeX's stylesheet away after the first click
      // (formulas then showed twice) or left the download pending for good.  <body> keeps it.
      document.body.appendChild(el);
    });
  }

  function katexReady() {
    if (!loading) {
      loading = Promise.all([
        load("link", { rel: "stylesheet", href: base + "katex.min.css" }),
        load("script", { src: base + "katex.min.js" })
      ]).catch(function (error) {
        loading = null;  // a failed download is tried again when the next formula comes near
        throw error;
      });
    }
    return loading;
  }

  function renderOne(node) {
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
    node.setAttribute("data-math-done", "");
  }

  // Render in slices of about 10 ms and let the browser breathe in between: a phone
  // rendering twenty formulas in one go is busy for a third of a second.
  var queue = [];
  function drain() {
    var start = Date.now();
    while (queue.length && Date.now() - start < 10) renderOne(queue.shift());
    if (queue.length) setTimeout(drain, 0);
  }
  function enqueue(nodes) {
    var idle = !queue.length;
    queue.push.apply(queue, nodes);
    if (idle) drain();
  }

  var observer = null;

  function render() {
    if (observer) observer.disconnect();
    queue.length = 0;  // formulas of the page before an instant navigation
    var nodes = document.querySelectorAll(".arithmatex:not([data-math-done])");
    if (!nodes.length) return;
    if (!("IntersectionObserver" in window)) {
      katexReady().then(function () { enqueue(Array.prototype.slice.call(nodes)); });
      return;
    }
    var retryDelay = 1000;
    observer = new IntersectionObserver(function (entries, self) {
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
    }, { rootMargin: "600px 0px" });
    nodes.forEach(function (node) { observer.observe(node); });
  }

  document$.subscribe(render);
})();
