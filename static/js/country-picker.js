// Country picker: a native <select data-country-picker> (what works without JavaScript, and what
// the form still submits) gets a text box to type a country's name in, a list of the countries
// that match, and, for a multiple select, the chosen countries as chips with a remove button.
//
// The pattern is the WAI-ARIA APG "editable combobox with list autocomplete": focus stays in the
// text box (role=combobox), the list (role=listbox) is pointed at with aria-activedescendant.
// The arrow keys, Enter and Escape come from GitHub's @github/combobox-nav (vendored, pinned);
// this file filters, shows and chooses. Not a ready-made widget (docs/design.md §13): Tom Select's
// remove buttons are divs out of the tab order, all titled alike; GOV.UK's accessible-autocomplete
// chooses one value and writes style attributes the CSP blocks; a <datalist> chooses one value
// and screen readers announce it unevenly.
// No inline style (CSP style-src 'self'): the list is shown and hidden with the hidden attribute.
import Combobox from "../vendor/combobox-nav-3.0.2.js";

let pickers = 0;
const enhanced = new WeakSet(); // the selects with a working picker on this page

// "Österreich" is found with "oster", "Åland" with "aland": compare without accents or case.
function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function fill(template, country) {
  return (template || "").replace("{country}", country);
}

// How well a country's name matches what was typed: 0 the name starts with it, 1 its code is
// it ("de" finds Germany too), 2 a word of the name starts with it, 3 it is inside; -1 no match.
function rank(query, name, code) {
  if (!query) {
    return 0;
  }
  if (name.startsWith(query)) {
    return 0;
  }
  if (query.length === 2 && code.toLowerCase() === query) {
    return 1;
  }
  if (name.split(/[\s\-(),.'’]+/).some((word) => word.startsWith(query))) {
    return 2;
  }
  return name.includes(query) ? 3 : -1;
}

function enhance(select) {
  const multiple = select.multiple;
  const texts = select.dataset;
  const id = select.id;
  const number = ++pickers;

  const wrapper = document.createElement("div");
  wrapper.className = "picker" + (multiple ? " picker-multiple" : "");
  enhanced.add(select);

  const chips = document.createElement("ul");
  chips.className = "picker-chips";
  chips.setAttribute("aria-label", texts.pickerChosen || "");

  const input = document.createElement("input");
  input.type = "text";
  input.className = "picker-input";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = texts.pickerPlaceholder || "";

  const list = document.createElement("ul");
  list.className = "picker-list";
  list.id = (id || "picker-" + number) + "-listbox";
  list.setAttribute("role", "listbox");
  list.hidden = true;

  const none = document.createElement("p");
  none.className = "picker-none";
  none.hidden = true;
  none.textContent = texts.pickerNone || "";

  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");

  // The label, hint and error of the select now belong to the text box.
  input.id = id;
  select.id = id + "-select";
  for (const name of ["aria-describedby", "aria-invalid"]) {
    if (select.hasAttribute(name)) {
      input.setAttribute(name, select.getAttribute(name));
    }
  }
  const label = document.querySelector('label[for="' + id + '"]');
  if (label) {
    if (!label.id) {
      label.id = id + "-label";
    }
    list.setAttribute("aria-labelledby", label.id);
  }
  input.disabled = select.disabled;
  select.hidden = true;
  select.tabIndex = -1;

  // One option element per country, made once; filtering hides and reorders them.
  const entries = [];
  Array.from(select.options).forEach((option, index) => {
    if (!option.value) {
      return;
    }
    const item = document.createElement("li");
    item.setAttribute("role", "option");
    item.id = list.id + "-" + option.value;
    item.textContent = option.text;
    item.dataset.value = option.value;
    list.appendChild(item);
    entries.push({option, item, index, name: fold(option.text)});
  });
  const blank = Array.from(select.options).find((option) => !option.value);

  if (multiple) {
    wrapper.appendChild(chips);
  }
  wrapper.append(input, list, none, status);
  select.after(wrapper);

  const combobox = new Combobox(input, list, {
    tabInsertsSuggestions: false,
    firstOptionSelectionMode: "active",
  });
  // Started once and kept: its keys act only on options that are shown. Whether the list is
  // open is this file's business (aria-expanded below).
  combobox.start();
  input.setAttribute("aria-expanded", "false");

  function announce(message) {
    status.textContent = "";
    // A fresh text node each time, so the same words twice are still spoken.
    window.setTimeout(() => {
      status.textContent = message;
    }, 50);
  }

  function chosenName() {
    const option = select.selectedOptions[0];
    return option && option.value ? option.text : "";
  }

  function isOpen() {
    return input.getAttribute("aria-expanded") === "true";
  }

  function close() {
    combobox.clearSelection();
    list.hidden = true;
    none.hidden = true;
    input.setAttribute("aria-expanded", "false");
  }

  function open() {
    const query = fold(input.value.trim());
    const matches = entries
      .filter((entry) => !(multiple && entry.option.selected))
      .map((entry) => ({entry, score: rank(query, entry.name, entry.option.value)}))
      .filter((match) => match.score >= 0)
      .sort((a, b) => a.score - b.score || a.entry.index - b.entry.index);
    const shown = new Set(matches.map((match) => match.entry));
    for (const entry of entries) {
      entry.item.hidden = !shown.has(entry);
    }
    for (const match of matches) {
      list.appendChild(match.entry.item);
    }
    list.hidden = matches.length === 0;
    none.hidden = matches.length !== 0;
    input.setAttribute("aria-expanded", matches.length ? "true" : "false");
    combobox.resetSelection();
    if (!matches.length) {
      announce(texts.pickerNone || "");
    }
    list.scrollTop = 0;
  }

  function changed() {
    select.dispatchEvent(new Event("change", {bubbles: true}));
  }

  function renderChips() {
    chips.replaceChildren();
    for (const option of select.selectedOptions) {
      const chip = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "picker-chip";
      button.dataset.value = option.value;
      button.setAttribute("aria-label", fill(texts.pickerRemove, option.text));
      const name = document.createElement("span");
      name.textContent = option.text;
      const cross = document.createElement("span");
      cross.setAttribute("aria-hidden", "true");
      cross.className = "picker-chip-cross";
      cross.textContent = "×";
      button.append(name, cross);
      button.disabled = select.disabled;
      chip.appendChild(button);
      chips.appendChild(chip);
    }
    chips.hidden = select.selectedOptions.length === 0;
  }

  function choose(value) {
    const entry = entries.find((candidate) => candidate.option.value === value);
    if (!entry) {
      return;
    }
    if (multiple) {
      entry.option.selected = true;
      input.value = "";
      renderChips();
      announce(fill(texts.pickerAdded, entry.option.text));
    } else {
      select.value = value;
      input.value = entry.option.text;
    }
    close();
    changed();
  }

  function remove(button) {
    const entry = entries.find((candidate) => candidate.option.value === button.dataset.value);
    const buttons = Array.from(chips.querySelectorAll("button"));
    const next = buttons[buttons.indexOf(button) + 1] || buttons[buttons.indexOf(button) - 1];
    const nextValue = next ? next.dataset.value : null;
    entry.option.selected = false;
    renderChips();
    // Focus stays near: on the next chip, or back in the text box when none is left.
    const target = nextValue && chips.querySelector('button[data-value="' + nextValue + '"]');
    (target || input).focus();
    announce(fill(texts.pickerRemoved, entry.option.text));
    changed();
  }

  // A single picker keeps what was typed only if it names a country; empty means "none".
  function settle() {
    if (multiple) {
      return;
    }
    const typed = fold(input.value.trim());
    if (!typed) {
      if (blank && select.value !== "") {
        select.value = "";
        changed();
      }
      input.value = "";
      return;
    }
    const exact = entries.find((entry) => entry.name === typed);
    if (exact && exact.option.value !== select.value) {
      choose(exact.option.value);
      return;
    }
    input.value = chosenName();
  }

  input.addEventListener("input", open);
  // The text box has no name: its own change event is not the form's business (htmx filters
  // listen for changes of the select).
  input.addEventListener("change", (event) => event.stopPropagation());
  input.addEventListener("click", () => {
    if (!isOpen()) {
      open();
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!isOpen()) {
        open();
        combobox.navigate(event.key === "ArrowDown" ? 1 : -1);
      }
    } else if (event.key === "Enter") {
      // combobox-nav has chosen the active option if there was one; an open list never lets
      // Enter submit the form.
      if (isOpen() || !none.hidden) {
        event.preventDefault();
      }
    } else if (event.key === "Escape") {
      if (isOpen() || !none.hidden) {
        close();
      } else if (multiple) {
        input.value = "";
      } else {
        input.value = chosenName();
      }
      event.preventDefault();
    }
  });
  list.addEventListener("combobox-commit", (event) => {
    choose(event.target.dataset.value);
    input.focus();
  });
  // A click on an option must not take the focus from the text box before it counts.
  list.addEventListener("mousedown", (event) => event.preventDefault());
  wrapper.addEventListener("focusout", (event) => {
    if (!wrapper.contains(event.relatedTarget)) {
      close();
      settle();
    }
  });
  chips.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button) {
      remove(button);
    }
  });
  // The trip form turns fields that do not apply off and on (trip-form.js): follow the select.
  new MutationObserver(() => {
    input.disabled = select.disabled;
    chips.querySelectorAll("button").forEach((button) => {
      button.disabled = select.disabled;
    });
  }).observe(select, {attributes: true, attributeFilter: ["disabled"]});

  input.value = multiple ? "" : chosenName();
  if (multiple) {
    renderChips();
  }
}

function enhanceAll() {
  // htmx's history (the dashboard's filters) puts back a copy of the page without its listeners:
  // its picker is dropped and the select, as the server sent it, is enhanced again.
  document.querySelectorAll(".picker").forEach((stale) => {
    const select = stale.previousElementSibling;
    if (select && select.matches("select[data-country-picker]") && !enhanced.has(select)) {
      select.id = stale.querySelector(".picker-input").id;
      select.hidden = false;
      select.removeAttribute("tabindex");
      stale.remove();
    }
  });
  document.querySelectorAll("select[data-country-picker]").forEach((select) => {
    if (!enhanced.has(select)) {
      enhance(select);
    }
  });
}

enhanceAll();
document.body.addEventListener("htmx:historyRestore", enhanceAll);
