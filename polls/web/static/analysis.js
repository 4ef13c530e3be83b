// Keyboard shortcuts for reading responses one at a time. Progressive enhancement only: the
// links, checkboxes and buttons they press work the same without this file.
(function () {
  "use strict";
  var form = document.querySelector("[data-analysis-form]");
  var nav = document.querySelector("[data-analysis-nav]");

  function typing(target) {
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "checkbox");
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
    var key = event.key.toLowerCase();
    var target = null;
    if (/^[1-9]$/.test(key) && form) {
      target = form.querySelectorAll("input[name=themes]")[parseInt(key, 10) - 1];
    } else if (key === "q" || key === "s") {
      target = form && form.querySelector("[data-key=" + key + "]");
    } else if (key === "j" || key === "k") {
      target = nav && nav.querySelector("[data-key=" + key + "]");
    }
    if (!target) return;
    event.preventDefault();
    target.click();
    if (target.type === "checkbox") target.focus();
  });
})();
