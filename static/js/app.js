// A1 Wallet page behaviour. No inline script anywhere (CSP script-src 'self'): listeners live here.
(function () {
  "use strict";

  // htmx sends the CSRF token with every request it makes (Flask-WTF reads X-CSRFToken).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });

  // The language picker submits on change; its button stays for keyboards and no-JS.
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.js-autosubmit");
    if (form) {
      form.submit();
    }
  });
  document.documentElement.classList.add("js");

  // Invitation links shown to the admin: one click selects the whole link for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy-field")) {
      event.target.select();
    }
  });
})();
