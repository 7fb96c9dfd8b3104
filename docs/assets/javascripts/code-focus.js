// A code block or table wider than the page scrolls sideways; keyboard users can only scroll it
// if it can take focus (axe: scrollable-region-focusable).  Tables are checked by their scroll
// wrapper (Material's, or a notebook output's).  Runs after every navigation.
document$.subscribe(function () {
  var wide = "article pre > code, article pre.nb-text, article .nb-html, article .md-typeset__scrollwrap";
  document.querySelectorAll(wide).forEach(function (region) {
    if (region.scrollWidth > region.clientWidth && !region.hasAttribute("tabindex")) {
      region.setAttribute("tabindex", "0");
    }
  });
});
