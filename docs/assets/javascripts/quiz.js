// Multiple-choice self-checks that answer back, written in Markdown on the stage pages:
//
//   <div class="quiz" markdown>
//   **题干**
//
//   - [ ] 一个错误的选项
//   - [x] 正确的选项
//   - [ ] 另一个错误的选项
//
//   解析：为什么对，为什么另外几个不对。
//   </div>
//
// Without JavaScript the ticked box and the explanation are simply visible (an answer key).
// With it, the boxes become buttons, the explanation waits until the reader has chosen,
// and the choice is marked right or wrong.  tests/content/test_quizzes.py checks the
// Markdown (one right option, an explanation); tests/site/test_quizzes.py the behaviour.
(function () {
  function setUp(quiz, n) {
    if (quiz.hasAttribute("data-quiz-ready")) return;
    var items = Array.prototype.slice.call(quiz.querySelectorAll("ul.task-list > li"));
    var explanation = Array.prototype.filter.call(quiz.querySelectorAll(":scope > p"), function (p) {
      return p.textContent.trim().indexOf("解析") === 0;
    })[0];
    var feedback = document.createElement("p");
    feedback.className = "quiz-feedback";
    feedback.setAttribute("role", "status");
    feedback.setAttribute("aria-live", "polite");
    if (explanation) {
      explanation.hidden = true;
      explanation.parentNode.insertBefore(feedback, explanation);
    } else {
      quiz.appendChild(feedback);
    }
    items.forEach(function (item) {
      var input = item.querySelector("input[type=checkbox]");
      var right = Boolean(input && input.checked);
      var label = item.querySelector("label.task-list-control");
      if (label) label.remove(); else if (input) input.remove();
      // a link inside a button would take the click: keep its text only
      item.querySelectorAll("a").forEach(function (a) { a.replaceWith(document.createTextNode(a.textContent)); });
      var button = document.createElement("button");
      button.type = "button";
      button.className = "quiz-option";
      button.setAttribute("aria-pressed", "false");
      while (item.firstChild) button.appendChild(item.firstChild);
      item.appendChild(button);
      item.classList.add("quiz-item");
      button.addEventListener("click", function () {
        items.forEach(function (other) {
          var b = other.querySelector(".quiz-option");
          b.setAttribute("aria-pressed", String(b === button));
          other.classList.remove("quiz-chosen", "quiz-wrong");
          other.classList.toggle("quiz-right", other.getAttribute("data-right") === "true" && !right);
        });
        item.classList.add("quiz-chosen", right ? "quiz-right" : "quiz-wrong");
        feedback.textContent = right ? "✓ 答对了。" : "✗ 不对，正确答案已标出。";
        if (explanation) explanation.hidden = false;
      });
      item.setAttribute("data-right", String(right));
    });
    quiz.setAttribute("data-quiz-ready", String(n));
  }

  document$.subscribe(function () {
    document.querySelectorAll(".quiz").forEach(setUp);
  });
})();
