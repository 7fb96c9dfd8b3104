// Material draws diagrams with the global `mermaid`; when there is none it fetches mermaid
// from unpkg.com, which readers in mainland China often cannot reach.  This stand-in,
// loaded in <head> before Material's bundle, makes Material use the site's own copy, and
// only on pages that have a diagram (about 1 MB, loaded then and not before).
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

  window.mermaid = {
    initialize: function (options) { config = options; },
    render: function (id, text) {
      return real().then(function (mermaid) { return mermaid.render(id, text); });
    }
  };
})();
