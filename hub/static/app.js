// Strategy Hub: the little JavaScript the pages need. Everything works without it.
(function () {
  "use strict";

  // CSRF for htmx: every htmx request carries the token from <meta name="csrf-token">
  // as the X-CSRFToken header (Flask-WTF reads it there), so htmx-only forms and
  // buttons need no hidden field.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // htmx does not swap error responses, so say in the page's live region (#flashes)
  // that something went wrong, instead of failing silently.
  function announce(message) {
    var region = document.getElementById("flashes");
    if (!region) return;
    var flash = document.createElement("p");
    flash.className = "flash flash-error";
    var icon = document.createElement("span");
    icon.className = "flash-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = "!";
    var text = document.createElement("span");
    text.textContent = "Error: " + message;
    flash.appendChild(icon);
    flash.appendChild(text);
    region.replaceChildren(flash);
  }

  var FAILURES = {
    400: "Your form expired. Reload the page and try again.",
    403: "Your role in this workspace does not allow that.",
    404: "That is no longer here. Reload the page.",
    429: "Too many attempts. Wait a minute and try again.",
  };

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    announce(FAILURES[status] || "Something went wrong (" + status + "). Nothing was saved; try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    announce("Could not reach the server. Check your connection and try again.");
  });

  // After a form comes back with errors (422), move focus to its first invalid field,
  // as a full page load would let the user find it.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.xhr || event.detail.xhr.status !== 422) return;
    // Look inside what was swapped: other forms on the page may have errors of their own.
    var scope = event.detail.elt && event.detail.elt.isConnected ? event.detail.elt : document;
    var invalid = scope.querySelector('[aria-invalid="true"]');
    if (invalid) invalid.focus();
  });

  // Copy buttons: <button data-copy="#field" data-copy-status="#status"> copies the
  // field's value and says so in the status element (a live region).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    var status = document.querySelector(button.getAttribute("data-copy-status") || "");
    var say = function (message) {
      if (status) status.textContent = message;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () { say("Copied to the clipboard."); },
        function () { field.select(); say("Could not copy: the link is selected, copy it with your keyboard."); }
      );
    } else {
      // Plain http (e.g. a local install): select the text so it is one keystroke away.
      field.select();
      say("The link is selected: copy it with Ctrl+C or ⌘C.");
    }
  });
})();
