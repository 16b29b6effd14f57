/* The pages' own script: no inline code (the CSP forbids it), no token ever written to storage. */
(function () {
  "use strict";
  var lang = document.body.getAttribute("data-lang") || "nl";
  function say(nl, en) { return lang === "en" ? en : nl; }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"]; } catch (e) { return ""; }
  }
  function formatBytes(n) {
    var units = ["B", "kB", "MB", "GB"], i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return n.toLocaleString(lang === "en" ? "en-GB" : "nl-NL", { maximumFractionDigits: 1 }) + " " + units[i];
  }

  /* A double click sends a form once: later submits are ignored and the buttons say so. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-allow-resubmit")) { return; }
    if (form.getAttribute("data-submitted") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "1");
    setTimeout(function () {
      if (event.defaultPrevented) { form.removeAttribute("data-submitted"); return; }
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = true; b.setAttribute("aria-disabled", "true");
      });
    }, 0);
  }, true);
  /* Coming back to a page (bfcache) re-enables its forms. */
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitted]").forEach(function (form) {
      form.removeAttribute("data-submitted");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
    });
  });

  /* Files over the limit are refused before anything is sent. */
  function tooLarge(input) {
    var max = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    var out = document.getElementById(input.getAttribute("data-error-id"));
    var file = input.files && input.files[0];
    if (max && file && file.size > max) {
      input.setAttribute("aria-invalid", "true");
      if (out) {
        out.textContent = say("Dit bestand is te groot (" + formatBytes(file.size) + "); het mag hoogstens " +
          formatBytes(max) + " zijn.", "This file is too large (" + formatBytes(file.size) + "); at most " +
          formatBytes(max) + " is allowed.");
      }
      return true;
    }
    input.removeAttribute("aria-invalid");
    if (out) { out.textContent = ""; }
    return false;
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-max-bytes]")) { tooLarge(event.target); }
    if (event.target.matches && event.target.matches("input[data-select-all]")) {
      var on = event.target.checked;
      document.querySelectorAll("input[name=student_ids]").forEach(function (b) { b.checked = on; });
    }
  });
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector("input[type=file][data-max-bytes]");
    if (input && tooLarge(input)) { event.preventDefault(); event.target.removeAttribute("data-submitted"); }
  }, true);

  /* A short-lived access token for uploads straight to the evidence service, kept in memory only. */
  var held = { token: null, until: 0 };
  function uploadToken() {
    if (held.token && Date.now() < held.until) { return Promise.resolve(held.token); }
    return fetch("/upload-token", { method: "POST", credentials: "same-origin",
                                    headers: { "X-CSRF-Token": csrf() } })
      .then(function (r) {
        if (!r.ok) { throw new Error(say("Je sessie is verlopen; log opnieuw in.", "Your session has expired; sign in again.")); }
        return r.json();
      })
      .then(function (body) {
        held.token = body.token; held.until = Date.now() + Math.max(10, body.expires_in - 60) * 1000;
        return held.token;
      });
  }

  /* The upload control: tus (resumable) straight to the evidence service through the gateway. */
  function setupUpload(box) {
    var input = box.querySelector("input[type=file]");
    var start = box.querySelector("[data-action=start]");
    var pause = box.querySelector("[data-action=pause]");
    var resume = box.querySelector("[data-action=resume]");
    var bar = box.querySelector("progress");
    var status = box.querySelector(".upload-status");
    var upload = null;
    function show(text) { status.textContent = text; }
    function metadata() {
      var meta = { filename: input.files[0].name };
      var roles = Array.prototype.map.call(box.querySelectorAll("input[name=roles]:checked"), function (b) { return b.value; });
      if (box.hasAttribute("data-roles")) {
        if (!roles.length) { return null; }
        meta.roles = roles.join(",");
      }
      ["attempt_id", "part_id", "case_id", "assignment_id", "kind"].forEach(function (k) {
        if (box.getAttribute("data-" + k)) { meta[k] = box.getAttribute("data-" + k); }
      });
      return meta;
    }
    start.addEventListener("click", function () {
      var file = input.files && input.files[0];
      if (!file) { show(say("Kies eerst een bestand.", "Choose a file first.")); input.focus(); return; }
      if (tooLarge(input)) { input.focus(); return; }
      var meta = metadata();
      if (!meta) { show(say("Kies voor wie het document is.", "Choose who the document is for.")); return; }
      upload = new window.tus.Upload(file, {
        endpoint: box.getAttribute("data-endpoint"),
        chunkSize: parseInt(box.getAttribute("data-chunk-bytes") || "0", 10) || Infinity,
        retryDelays: [0, 1000, 2000, 3000, 5000, 10000, 10000, 20000, 20000, 30000],
        metadata: meta,
        removeFingerprintOnSuccess: true,
        storeFingerprintForResuming: false,
        onBeforeRequest: function (req) {
          return uploadToken().then(function (t) { req.setHeader("Authorization", "Bearer " + t); });
        },
        onProgress: function (sent, total) {
          bar.max = total; bar.value = sent;
          bar.setAttribute("aria-valuetext", Math.floor(sent / total * 100) + "%");
          show(say("Verstuurd: ", "Sent: ") + formatBytes(sent) + " / " + formatBytes(total));
        },
        onError: function (err) {
          var text = (err && err.originalResponse && err.originalResponse.getBody()) || "";
          var detail = "";
          try { detail = JSON.parse(text).detail || JSON.parse(text).title || ""; } catch (e) { detail = ""; }
          show(say("Uploaden mislukt. ", "Upload failed. ") + detail);
          box.setAttribute("data-state", "failed");
          pause.hidden = true; resume.hidden = false;
        },
        onShouldRetry: function (err, attempt) {
          var res = err.originalResponse, status = res ? res.getStatus() : 0;
          /* A 409 that is not about the offset or a lease (evidence refusing the file, e.g. an assessment that is
             final) is said at once, after one more try, instead of after minutes of retrying. */
          if (status === 409 && attempt >= 1 && !res.getHeader("Retry-After") && !res.getHeader("Upload-Offset")) {
            return false;
          }
          box.setAttribute("data-state", "retrying");
          show(say("Verbinding verbroken; het uploaden gaat vanzelf verder…", "Connection lost; the upload resumes by itself…"));
          return !(status >= 400 && status < 500 && status !== 409 && status !== 423);
        },
        onSuccess: function () {
          box.setAttribute("data-state", "done");
          box.setAttribute("data-file-id", upload.url.split("/").pop());
          show(say("Klaar: ", "Done: ") + file.name);
          pause.hidden = true; resume.hidden = true;
          if (box.hasAttribute("data-attach")) { attach(box, upload.url.split("/").pop(), file.name); upload = null; }
          var done = box.getAttribute("data-done-url");
          if (done) { window.location.assign(done.replace("__file__", encodeURIComponent(upload.url.split("/").pop()))); }
        }
      });
      box.setAttribute("data-state", "uploading");
      pause.hidden = false; resume.hidden = true;
      upload.start();
    });
    pause.addEventListener("click", function () {
      if (!upload) { return; }
      upload.abort();
      box.setAttribute("data-state", "paused");
      pause.hidden = true; resume.hidden = false;
      show(say("Gepauzeerd.", "Paused.") + " " + status.textContent);
      resume.focus();
    });
    resume.addEventListener("click", function () {
      if (!upload) { start.click(); return; }
      box.setAttribute("data-state", "uploading");
      pause.hidden = false; resume.hidden = true;
      upload.start();
    });
  }
  /* A finished message attachment joins its form (id and name), and the control takes the next file. */
  function attach(box, fileId, name) {
    var li = document.createElement("li");
    li.textContent = name;
    [["attachment_ids", fileId], ["attachment_names", name]].forEach(function (pair) {
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = pair[0]; hidden.value = pair[1];
      li.appendChild(hidden);
    });
    box.querySelector("ul.attachments").appendChild(li);
    box.querySelector("input[type=file]").value = "";
    box.querySelector(".upload-status").textContent = say("Bijgevoegd: ", "Attached: ") + name;
  }
  document.querySelectorAll(".upload[data-endpoint]").forEach(setupUpload);

  /* A form is not sent while one of its uploads is still under way (its file would be missing). */
  document.addEventListener("submit", function (event) {
    var busy = event.target.querySelector(".upload[data-state=uploading], .upload[data-state=retrying], " +
                                          ".upload[data-state=paused]");
    if (!busy) { return; }
    event.preventDefault(); event.target.removeAttribute("data-submitted");
    busy.querySelector(".upload-status").textContent = say("Wacht tot de bijlage klaar is met uploaden.",
                                                           "Wait until the attachment has finished uploading.");
  }, true);

  /* Long commands (the import) show their progress indicator while the server works. */
  document.addEventListener("submit", function (event) {
    var id = event.target.getAttribute("data-progress");
    if (id && !event.defaultPrevented) { document.getElementById(id).hidden = false; }
  });

  /* Links that confirm first (archive and the like). */
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); event.target.removeAttribute("data-submitted"); }
  }, true);
})();
