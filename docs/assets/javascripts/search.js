// Search that costs nothing until it is used, and that hears every way of typing.
// - Material fetches the search index (about 200 KB gzip) with every first page view.
//   Here that request waits until the reader turns to search: focuses or points at the
//   search box, presses a search shortcut, or opens a link with ?q=.
// - Material runs a query on key release only; text pasted from a menu, dictated, or
//   picked from an input method with the mouse fires `input` and no key: pass it on.
(function () {
  var wanted;
  var searchWanted = new Promise(function (resolve) { wanted = resolve; });
  if (new URLSearchParams(location.search).has("q")) wanted();

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__url = String(url);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (/\/search\/search_index\.json$/.test(this.__url || "")) {
      var request = this, args = arguments;
      searchWanted.then(function () { send.apply(request, args); });
      return;
    }
    return send.apply(this, arguments);
  };

  function isSearch(target) {
    return target && target.closest && target.closest(".md-search, label[for='__search']");
  }
  ["focusin", "pointerover", "pointerdown", "touchstart"].forEach(function (type) {
    document.addEventListener(type, function (event) { if (isSearch(event.target)) wanted(); }, true);
  });
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "__search") wanted();
  }, true);
  document.addEventListener("keydown", function (event) {
    if (["/", "s", "f", "S", "F"].indexOf(event.key) >= 0) wanted();
  }, true);

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("[data-md-component=search-query]") && !event.isComposing) {
      box.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    }
  }, true);
})();
