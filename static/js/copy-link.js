// "Copy" beside a one-time link shown to the admin (templates/admin/_invitation_link.html): the
// button is hidden until this script runs, so without JavaScript the read-only field alone is
// there, to select and copy by hand. The link may arrive by an htmx swap: listeners are delegated.
(function () {
  "use strict";

  function showButtons(root) {
    var buttons = (root || document).querySelectorAll("button.js-copy[hidden]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
    }
  }

  function say(button, key) {
    var status = button.parentNode.querySelector(".copy-status");
    if (status) {
      status.setAttribute("data-state", key);
      status.textContent = status.getAttribute("data-" + key) || "";
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.js-copy");
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy-from"));
    if (!field) {
      return;
    }
    say(button, "none");
    // The clipboard API needs a secure context (https or localhost); elsewhere the field is
    // selected and the admin copies with the keyboard.
    if (!navigator.clipboard || !window.isSecureContext) {
      field.focus();
      field.select();
      say(button, "failed");
      return;
    }
    navigator.clipboard.writeText(field.value).then(
      function () {
        say(button, "copied");
      },
      function () {
        field.focus();
        field.select();
        say(button, "failed");
      }
    );
  });

  document.addEventListener("DOMContentLoaded", function () {
    showButtons(document);
  });
  document.addEventListener("htmx:load", function (event) {
    showButtons(event.target);
  });
})();
