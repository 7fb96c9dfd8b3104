// Render the math on the current page with the site's own KaTeX.
// Every page, notebook pages included, carries arithmatex's \( \) and \[ \] (never a bare $).
(function () {
  var root = document.querySelector("article") || document.body;
  renderMathInElement(root, {
    delimiters: [
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false }
    ],
    ignoredClasses: ["nb-output", "highlight"],
    throwOnError: false
  });
})();
