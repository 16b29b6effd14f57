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

  /* The assessment form saves its draft by itself a moment after each change (the button saves at once). */
  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var timer = null, status = form.querySelector(".autosave-status"), version = form.querySelector("#form-version");
    function save() {
      timer = null;
      fetch(form.getAttribute("data-autosave"), { method: "POST", body: new FormData(form), credentials: "same-origin",
                                                 headers: { "X-Autosave": "1" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          if (answer.ok) { version.value = answer.body.version; form.setAttribute("data-saved-version", answer.body.version); }
          status.textContent = answer.body.message || "";
        }, function () { status.textContent = document.body.getAttribute("data-lang") === "en" ?
          "Not saved automatically: no connection." : "Niet automatisch opgeslagen: geen verbinding."; });
    }
    function later() { if (timer) { clearTimeout(timer); } timer = setTimeout(save, 1500); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    form.addEventListener("submit", function () { if (timer) { clearTimeout(timer); timer = null; } });
  });
})();
