// Customer Desk: the little behaviour htmx does not give. No framework, no inline script (the
// Content-Security-Policy allows scripts from /static only).
(function () {
  "use strict";

  // Confirmations loaded by htmx into #dialog-slot open as modal dialogs. The browser traps
  // focus in a modal <dialog>, focuses its [autofocus] control (Cancel) and closes it on Esc;
  // we return focus to whatever opened it.
  var opener = null;

  // Every request htmx sends carries the session's CSRF token, read once from the page's meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-slot") {
      opener = event.detail.elt;
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "dialog-slot") return;
    var dialog = event.detail.target.querySelector("dialog[data-modal]");
    if (!dialog) return;
    dialog.addEventListener("close", function () {
      dialog.remove();
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
    syncRequiredChecks(dialog);
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]");
    if (first) first.focus();
  });

  // Cancel inside a dialog closes it; without JavaScript it is a plain link back.
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-close-dialog]");
    if (!cancel) return;
    var dialog = cancel.closest("dialog");
    if (!dialog) return;
    event.preventDefault();
    dialog.close();
  });

  // --- The list's selection -------------------------------------------------------------

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
    rows.forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("selected", box.checked);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("input.row-check")) syncHeaderCheckbox();
    // The header checkbox ticks or unticks the whole page (through the form, so it is saved).
    if (target.id === "select-page" && target.form) {
      var button = document.getElementById(target.checked ? "select-page-all" : "select-page-none");
      if (button) target.form.requestSubmit(button);
    }
  });

  // "Yes, permanently delete" stays disabled until "I understand the consequences" is ticked
  // (the server checks it too).
  function syncRequiredChecks(root) {
    (root || document).querySelectorAll("[data-requires]").forEach(function (button) {
      var box = document.getElementById(button.getAttribute("data-requires"));
      if (!box) return;
      var update = function () { button.disabled = !box.checked; };
      if (!box.dataset.bound) {
        box.addEventListener("change", update);
        box.dataset.bound = "yes";
      }
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncHeaderCheckbox();
    syncRequiredChecks(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    syncRequiredChecks(event.detail.target);
  });

  // The list's sort and page-size menus apply at once when JavaScript is on.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
})();
