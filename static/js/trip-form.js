// Trip form: a field that only some trips need is shown (and submitted) only for them.
// Without JavaScript every field shows, and the server says which one does not apply.
(function () {
  "use strict";

  function update(form) {
    var kind = form.querySelector('[name="kind"]');
    var status = form.querySelector('[name="employment_status"]');
    if (!kind || !status) {
      return;
    }
    form.querySelectorAll(".js-relevant").forEach(function (group) {
      var relevant =
        group.dataset.kinds.split(",").indexOf(kind.value) !== -1 &&
        group.dataset.statuses.split(",").indexOf(status.value) !== -1;
      group.hidden = !relevant;
      group.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !relevant;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector(".js-relevant")) {
        update(form);
        form.addEventListener("change", function () {
          update(form);
        });
      }
    });
  });
})();
