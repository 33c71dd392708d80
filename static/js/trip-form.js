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
      group.querySelectorAll("input, select, textarea, button").forEach(function (input) {
        input.disabled = !relevant;
      });
    });
  }

  // Working-time shares: one number field per country of work (the destination first, then the
  // chosen countries), following the country pickers, and their total as you type. The server
  // renders the same fields and checks the same total (web/trips/input.py); without JavaScript a
  // field for a newly chosen country appears when the form is saved.
  function workCountries(form) {
    var countries = [];
    var destination = form.querySelector('select[name="destination_state"]');
    var work = form.querySelector('select[name="work_states"]');
    var options = [];
    if (destination && destination.value) {
      options.push(destination.selectedOptions[0]);
    }
    if (work) {
      options = options.concat(Array.prototype.slice.call(work.selectedOptions));
    }
    options.forEach(function (option) {
      if (!countries.some(function (c) { return c.code === option.value; })) {
        countries.push({code: option.value, name: option.text});
      }
    });
    return countries;
  }

  function syncShares(form, box) {
    var holder = box.querySelector("[data-share-fields]");
    var template = box.querySelector("template[data-share-template]");
    var existing = {};
    holder.querySelectorAll("[data-share]").forEach(function (row) {
      existing[row.dataset.share] = row;
    });
    var wanted = workCountries(form);
    wanted.forEach(function (country) {
      var row = existing[country.code];
      if (!row) {
        row = template.content.firstElementChild.cloneNode(true);
        var id = "share-" + country.code;
        row.dataset.share = country.code;
        row.querySelector("label").htmlFor = id;
        row.querySelector("label").textContent = country.name;
        var input = row.querySelector("input");
        input.id = id;
        input.name = id;
      }
      delete existing[country.code];
      holder.appendChild(row); // in the order of the countries
    });
    // A country no longer chosen loses its field; one sent back with an error stays until its
    // value is emptied (the server said why).
    Object.keys(existing).forEach(function (code) {
      var row = existing[code];
      if (!row.classList.contains("field-error") || !row.querySelector("input").value) {
        row.remove();
      }
    });
    box.querySelector("[data-share-empty]").hidden = holder.children.length > 0;
  }

  function showTotal(box) {
    var lang = document.documentElement.lang || "en";
    var percent = new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 2});
    var total = 0;
    box.querySelectorAll("[data-share-fields] input").forEach(function (input) {
      var value = parseFloat(input.value);
      if (isFinite(value)) {
        total += value;
      }
    });
    total = Math.round(total * 100) / 100;
    var tolerance = parseFloat(box.dataset.tolerance) || 0;
    var right = Math.abs(total - 100) <= tolerance + 1e-9;
    var text = (right ? box.dataset.totalRight : box.dataset.totalWrong)
      .replace("{total}", percent.format(total / 100))
      .replace("{target}", percent.format(1));
    var output = box.querySelector("[data-share-total]");
    if (output.textContent !== text) {
      output.textContent = text;
    }
    output.classList.toggle("share-total-wrong", !right);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      var box = form.querySelector("[data-work-shares]");
      if (box) {
        showTotal(box);
        form.addEventListener("input", function (event) {
          if (box.contains(event.target)) {
            showTotal(box);
          }
        });
      }
      if (form.querySelector(".js-relevant")) {
        update(form);
        form.addEventListener("change", function (event) {
          var name = event.target.name;
          if (box && (name === "destination_state" || name === "work_states")) {
            syncShares(form, box);
            showTotal(box);
          }
          update(form);
        });
      }
    });
  });
})();
