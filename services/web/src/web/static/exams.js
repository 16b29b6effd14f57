/* The exam pages' script (Web II): select-all boxes and showing the chosen way of scheduling. No inline code. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-select-all-name]")) {
      var name = box.getAttribute("data-select-all-name");
      box.closest("form").querySelectorAll("input[type=checkbox][name='" + name + "']").forEach(function (b) {
        b.checked = box.checked;
      });
    }
    if (box.matches && box.matches("input[name=mode]")) { showMode(); }
  });
  function showMode() {
    var chosen = document.querySelector("input[name=mode]:checked");
    if (!chosen) { return; }
    document.querySelectorAll("fieldset[data-mode]").forEach(function (set) {
      set.hidden = set.getAttribute("data-mode") !== chosen.value;
    });
  }
  showMode();
})();
