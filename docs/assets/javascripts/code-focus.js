// A code block wider than the page scrolls sideways; keyboard users can only scroll it
// if it can take focus (axe: scrollable-region-focusable).  Runs after every navigation.
document$.subscribe(function () {
  document.querySelectorAll("article pre > code, article pre.nb-text").forEach(function (code) {
    if (code.scrollWidth > code.clientWidth && !code.hasAttribute("tabindex")) {
      code.setAttribute("tabindex", "0");
    }
  });
});
