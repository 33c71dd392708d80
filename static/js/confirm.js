// Irreversible actions ask first (templates/_macros.html, confirm_form). The form's own button
// opens the form's <dialog>, which says what will happen; the dialog's confirm button submits the
// same form, so the POST and its CSRF token are unchanged. Without this script (or without
// <dialog> support) the button submits at once and the server alone decides.
(function () {
  "use strict";

  function setUp(form) {
    var dialog = form.querySelector("dialog");
    var opener = form.querySelector("[data-confirm-open]");
    var confirmButton = dialog && dialog.querySelector("[data-confirm-submit]");
    if (!opener || !confirmButton || typeof dialog.showModal !== "function") {
      return;
    }
    // The reason is asked in the dialog, beside what the action does (still inside the form).
    var field = form.querySelector("[data-confirm-field]");
    var slot = dialog.querySelector("[data-confirm-slot]");
    if (field && slot) {
      slot.appendChild(field);
    }

    function open() {
      dialog.showModal();
      // The reason when there is one, else Cancel: Enter never confirms by accident.
      var first = dialog.querySelector("input:not([type=hidden]), [data-confirm-cancel]");
      if (first) {
        first.focus();
      }
    }

    // A click, not a submit listener: the browser checks a required reason before "submit",
    // and would refuse a field hidden in the closed dialog.
    opener.addEventListener("click", function (event) {
      event.preventDefault();
      if (dialog.open) {
        // Enter in the dialog's field "clicks" the form's first button, this one: confirm.
        form.requestSubmit(confirmButton);
        return;
      }
      open();
    });
    dialog.querySelector("[data-confirm-cancel]").addEventListener("click", function () {
      dialog.close();
    });
    // Escape (the browser's "cancel") and Cancel both close it; focus goes back to the button.
    dialog.addEventListener("close", function () {
      opener.focus();
    });
    // The server refused the reason: show the dialog again with its message beside the field.
    if (field && field.classList.contains("field-error")) {
      open();
    }
  }

  document.querySelectorAll("form[data-confirm]").forEach(setUp);
})();
