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

  // The list's sort and page-size menus apply at once when JavaScript is on.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
})();
