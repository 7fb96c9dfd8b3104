// Render the math on the current page with the site's own KaTeX.
// Markdown pages carry arithmatex's \( \) and \[ \]; notebook pages carry $ and $$.
(function () {
  var root = document.querySelector("article") || document.body;
  renderMathInElement(root, {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "$", right: "$", display: false },
      { left: "\\(", right: "\\)", display: false }
    ],
    ignoredClasses: ["jp-OutputArea", "highlight", "highlight-ipynb"],
    throwOnError: false
  });
})();
