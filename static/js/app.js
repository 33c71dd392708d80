// A1 Wallet page behaviour. No inline script anywhere (CSP script-src 'self'): listeners live here.
(function () {
  "use strict";

  // The page's CSRF token (Flask-WTF reads X-CSRFToken), for every script of a console or
  // settings page: htmx below, passkeys.js and push.js (loaded after this file).
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  window.A1W = Object.freeze({csrfToken: csrfToken});

  // htmx sends the CSRF token with every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
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
