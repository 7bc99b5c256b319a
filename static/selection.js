// The list's selection: the header checkbox, ranges (Shift+click, Shift+x), and the counter
// never going back to an older answer.
(function () {
  "use strict";
  var desk = window.CustomerDesk;

  // An answer older than the counter on screen is never swapped in (each bar carries the
  // selection's version; requests are queued, this guards against anything out of order).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "selection-bar") return;
    var match = /data-version="(\d+)"/.exec(event.detail.serverResponse || "");
    var shown = Number(target.getAttribute("data-version") || 0);
    if (match && Number(match[1]) < shown) event.detail.shouldSwap = false;
  });


  // The header checkbox shows the page's state: checked, mixed (indeterminate) or unchecked.
  function syncHeaderCheckbox() {
    var header = document.getElementById("select-page");
    if (!header) return;
    var rows = Array.prototype.slice.call(document.querySelectorAll("input.row-check"));
    var ticked = rows.filter(function (box) { return box.checked; }).length;
    var state = ticked === 0 ? "false" : ticked === rows.length ? "true" : "mixed";
    header.checked = state === "true";
    header.indeterminate = state === "mixed";
    header.setAttribute("aria-checked", state);
    var prompt = document.getElementById("select-all-prompt");
    if (prompt) prompt.hidden = state !== "true";
    rows.forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("selected", box.checked);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input.row-check")) syncHeaderCheckbox();
    // The header checkbox ticks or unticks the whole page (through the form, so it is saved).
    // A click (not requestSubmit) so that htmx, which tracks the clicked button, sends its action.
    if (target.id === "select-page" && target.form) {
      var button = document.getElementById(target.checked ? "select-page-all" : "select-page-none");
      if (button) button.click();
    }
  });

  desk.syncHeaderCheckbox = syncHeaderCheckbox;
  document.addEventListener("DOMContentLoaded", syncHeaderCheckbox);

  // The trash can is disabled while nothing is selected (the server leaves it enabled, for
  // browsers without JavaScript, where it is what saves the boxes).
  function syncTrash() {
    var trash = document.querySelector("#selection-bar .trash");
    if (!trash) return;
    var empty = trash.getAttribute("data-empty") === "true";
    trash.disabled = empty;
    trash.setAttribute("aria-disabled", empty ? "true" : "false");
  }
  document.addEventListener("DOMContentLoaded", syncTrash);
  document.addEventListener("htmx:afterSettle", syncTrash);

  // Enter in a row's checkbox does nothing here: its tick is already saved (without
  // JavaScript it presses the form's default button, which saves the page's boxes).
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("input.row-check")) {
      event.preventDefault();
    }
  });

  var lastToggled = null;

  // Sets a row's box; returns it when it changed. Each changed box fires its change event, so
  // htmx posts that one change ("this id on/off"); the posts queue behind each other (hx-sync).
  function setRow(row, checked) {
    var box = row.querySelector("input.row-check");
    if (!box || box.checked === checked) return null;
    box.checked = checked;
    return box;
  }

  function commit(boxes) {
    boxes.forEach(function (box) {
      if (box) box.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  desk.toggleRow = function (row, range) {
    var box = row.querySelector("input.row-check");
    if (!box) return;
    var list = desk.rows();
    var target = !box.checked;
    var changed = [];
    if (range && lastToggled !== null && list.indexOf(lastToggled) !== -1) {
      var from = list.indexOf(lastToggled);
      var to = list.indexOf(row);
      target = lastToggled.querySelector("input.row-check").checked;
      for (var i = Math.min(from, to); i <= Math.max(from, to); i++) {
        changed.push(setRow(list[i], target));
      }
    } else {
      changed.push(setRow(row, target));
    }
    lastToggled = row;
    commit(changed);
  };

  // Shift+click on a row's box selects the range from the last toggled row.
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.row-check")) return;
    var row = box.closest("tr");
    if (event.shiftKey && lastToggled && lastToggled !== row) {
      // The click already flipped this box: make the whole range match the last toggled row.
      var list = desk.rows();
      var from = list.indexOf(lastToggled);
      var to = list.indexOf(row);
      var target = lastToggled.querySelector("input.row-check").checked;
      var changed = [];
      for (var i = Math.min(from, to); i <= Math.max(from, to); i++) {
        var each = list[i].querySelector("input.row-check");
        if (each !== box && each.checked !== target) {
          each.checked = target;
          changed.push(each);
        }
      }
      box.checked = target;
      commit(changed);
    }
    lastToggled = row;
  });

  // A new list has no last toggled row.
  desk.forgetRange = function () { lastToggled = null; };
})();
