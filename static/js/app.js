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

  // htmx answers: a 4xx is swapped into the region that asked (the server sends that region
  // with its message: web/rendering.py, web/errors.py; templates/base.html's htmx-config says
  // which codes swap). A 5xx, or no answer at all, swaps nothing: the region keeps what it
  // showed, marked as not updated, and a message right above it says so (role=alert).
  function requestErrorText(kind) {
    var texts = document.getElementById("request-error-messages");
    return texts ? texts.getAttribute("data-" + kind) || "" : "";
  }

  function clearRequestError(target) {
    if (!target || !target.parentNode) {
      return;
    }
    target.classList.remove("is-stale");
    var previous = target.previousElementSibling;
    if (previous && previous.classList.contains("request-error-js")) {
      previous.parentNode.removeChild(previous);
    }
  }

  function showRequestError(target, kind) {
    if (!target || !target.parentNode || target === document.body) {
      target = document.getElementById("main");
    }
    clearRequestError(target);
    var box = document.createElement("div");
    box.className = "request-error request-error-js";
    box.setAttribute("role", "alert");
    box.textContent = requestErrorText(kind);
    target.parentNode.insertBefore(box, target);
    target.classList.add("is-stale");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    clearRequestError(event.detail.target);
  });
  // A filter form's own messages came with the page; once htmx has an answer for the list, the
  // region holds the current ones (or none), so the page's older ones go.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    var form = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("form");
    if (!form || !xhr || xhr.status === 0 || xhr.status >= 500) {
      return;
    }
    var messages = form.querySelectorAll(".field-error .error[id]");
    for (var i = 0; i < messages.length; i++) {
      // Every control the message describes: a country picker's text box and its select both do.
      var fields = form.querySelectorAll('[aria-describedby="' + messages[i].id + '"]');
      for (var j = 0; j < fields.length; j++) {
        fields[j].removeAttribute("aria-describedby");
        fields[j].removeAttribute("aria-invalid");
      }
      messages[i].parentNode.classList.remove("field-error");
      messages[i].parentNode.removeChild(messages[i]);
    }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    showRequestError(event.detail.target, status >= 500 ? "server" : "other");
  });
  document.addEventListener("htmx:sendError", function (event) {
    showRequestError(event.detail.target, "network");
  });
  document.addEventListener("htmx:timeout", function (event) {
    showRequestError(event.detail.target, "network");
  });

  // Invitation links shown to the admin: one click selects the whole link for copying.
  document.addEventListener("focusin", function (event) {
    if (event.target.classList && event.target.classList.contains("copy-field")) {
      event.target.select();
    }
  });
})();
