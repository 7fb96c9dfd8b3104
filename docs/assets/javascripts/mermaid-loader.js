// Material draws diagrams with the global `mermaid`; when there is none it fetches mermaid
// from unpkg.com, which readers in mainland China often cannot reach.  This stand-in,
// loaded in <head> before Material's bundle, makes Material use the site's own copy, and
// only when a diagram comes near the screen (about 1 MB, loaded then and not before).
(function () {
  var src = new URL("../vendor/mermaid/mermaid.min.js", document.currentScript.src).href;
  var config = {};
  var loading = null;

  function real() {
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = function () {
          window.mermaid.initialize(config);
          resolve(window.mermaid);
        };
        script.onerror = function () { reject(new Error("could not load " + src)); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  // Material passes the diagram's source, not its element: find the element by its text.
  function nearTheScreen(text) {
    var source = Array.prototype.find.call(document.querySelectorAll("article pre"), function (pre) {
      return pre.textContent === text;
    });
    if (!source || !("IntersectionObserver" in window)) return Promise.resolve();
    return new Promise(function (resolve) {
      var observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (entry) { return entry.isIntersecting; })) {
          observer.disconnect();
          resolve();
        }
      }, { rootMargin: "600px 0px" });
      observer.observe(source);
    });
  }

  // Mermaid scales a diagram down to the column (its SVG has width 100% and its own width as
  // max-width): on a phone the text of a wide diagram shrank to 4-6 px.  It now keeps at least
  // its own width, up to WIDEST px, and scrolls sideways (extra.css: div.mermaid).
  var WIDEST = 600;
  function keepReadable(result) {
    result.svg = result.svg.replace(/(<svg[^>]*style="[^"]*max-width:\s*([\d.]+)px;?)/, function (all, start, width) {
      return start + " min-width: " + Math.min(parseFloat(width), WIDEST) + "px;";
    });
    return result;
  }

  window.mermaid = {
    initialize: function (options) { config = options; },
    render: function (id, text) {
      return nearTheScreen(text).then(real).then(function (mermaid) { return mermaid.render(id, text); })
        .then(keepReadable);
    }
  };
})();
