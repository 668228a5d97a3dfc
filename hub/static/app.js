// Strategy Hub: the little JavaScript the pages need. Everything works without it.
(function () {
  "use strict";

  // CSRF for htmx: every htmx request carries the token from <meta name="csrf-token">.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // Copy buttons: <button data-copy="#field" data-copy-status="#status"> copies the
  // field's value and says so in the status element (a live region).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var done = function () {
      var status = document.querySelector(button.getAttribute("data-copy-status") || "");
      if (status) status.textContent = "Copied to the clipboard.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });
})();
