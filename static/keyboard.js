// The list from the keyboard (the map is in the shortcuts dialog and docs/product.md).
(function () {
  "use strict";
  var desk = window.CustomerDesk;

  function focusRow(index) {
    var list = desk.rows();
    if (list.length === 0) return;
    var row = list[Math.max(0, Math.min(index, list.length - 1))];
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return target.isContentEditable ||
      (target.closest("input, select, textarea") !== null && !target.matches("input[type=checkbox]"));
  }

  function click(selector) {
    var element = document.querySelector(selector);
    if (element && !element.disabled) { element.click(); return true; }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (typing(event.target)) return;
    var key = event.key;
    var table = document.getElementById("customer-table");
    var index = desk.focusedRowIndex();
    var row = index >= 0 ? desk.rows()[index] : null;

    if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { event.preventDefault(); desk.openDialog(help, document.activeElement); }
      return;
    }
    if (key === "/") {
      var search = document.querySelector('input[type="search"]');
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (!table) return;
    if (key === "j" || key === "ArrowDown") {
      event.preventDefault();
      focusRow(index + 1);
    } else if (key === "k" || key === "ArrowUp") {
      event.preventDefault();
      focusRow(index < 0 ? 0 : index - 1);
    } else if ((key === "x" || key === "X" || key === " ") && row) {
      // Space on a checkbox is the browser's own toggle.
      if (key === " " && event.target.matches("input[type=checkbox]")) return;
      event.preventDefault();
      desk.toggleRow(row, event.shiftKey);
    } else if (key === "Enter" && row && event.target === row) {
      event.preventDefault();
      window.location.href = row.getAttribute("data-href");
    } else if (key === "]") {
      event.preventDefault();
      click('[data-page="next"], a[rel="next"]');
    } else if (key === "[") {
      event.preventDefault();
      click('[data-page="prev"], a[rel="prev"]');
    } else if (key === "#" || key === "Delete") {
      event.preventDefault();
      // Agents have no trash can, and nothing to be told.
      desk.setKeyOpener(row);
      if (document.querySelector("button.trash") && !click("button.trash")) {
        desk.setKeyOpener(null);
        desk.announce("Nothing is selected: select customers with x first.");
      }
    }
  });
})();
