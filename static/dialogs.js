// Dialogs: confirmations loaded by htmx, the placeholder shown while the bulk one counts, the
// shortcuts, Tab kept inside, the focus given back to the opener.
(function () {
  "use strict";
  var desk = window.CustomerDesk;

  // Confirmations loaded by htmx into #dialog-slot open as modal dialogs. The browser traps
  // focus in a modal <dialog>, focuses its [autofocus] control (Cancel) and closes it on Esc;
  // we return focus to whatever opened it.
  var opener = null;
  var keyOpener = null;
  // The keyboard's # and Delete open the confirmation for a row: the focus returns to it.
  desk.setKeyOpener = function (row) { keyOpener = row; };

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.target && event.detail.target.id === "dialog-slot") {
      opener = event.detail.elt;
      if (opener.hasAttribute("data-count")) showPending(opener, event.detail.target);
      // Opened from the keyboard (#, Delete): the focus goes back to the row, not the trash can.
      if (keyOpener) { opener = keyOpener; keyOpener = null; }
    }
  });

  // The bulk confirmation opens at once with the number of customers; the counts of what goes
  // with them (which take a while for a big selection) arrive with the real dialog, whose
  // "Yes, permanently delete" is the only one that works.
  function showPending(trigger, slot) {
    var count = Number(trigger.getAttribute("data-count") || 0);
    var dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-labelledby", "pending-title");
    dialog.setAttribute("aria-busy", "true");
    var title = document.createElement("h1");
    title.id = "pending-title";
    title.textContent = "Permanently delete " + count.toLocaleString("en-GB") + (count === 1 ? " customer?" : " customers?");
    var wait = document.createElement("p");
    wait.className = "is-busy";
    wait.textContent = "Counting their tickets, live chat conversations and notes…";
    var actions = document.createElement("div");
    actions.className = "confirm-actions";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = "Cancel";
    cancel.setAttribute("data-close-dialog", "");
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button danger";
    yes.disabled = true;
    yes.textContent = "Yes, permanently delete";
    actions.appendChild(cancel);
    actions.appendChild(yes);
    dialog.appendChild(title);
    dialog.appendChild(wait);
    dialog.appendChild(actions);
    slot.innerHTML = "";
    slot.appendChild(dialog);
    dialog.addEventListener("close", function () {
      if (!dialog.isConnected) return;
      dialog.remove();
      htmx.trigger(trigger, "htmx:abort");
      if (opener && document.body.contains(opener)) opener.focus();
    });
    dialog.showModal();
    cancel.focus();
  }

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

  desk.syncRequiredChecks = syncRequiredChecks;
  document.addEventListener("DOMContentLoaded", function () {
    syncRequiredChecks(document);
  });
  // A checkbox that recounts the bulk confirmation in place keeps the focus: htmx would move it
  // to the swapped content's [autofocus] (Cancel).
  var keepFocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var from = event.detail.elt;
    keepFocus = from && from.id === "skip-open-tickets" ? from.id : null;
  });
  // The whole document: after an outerHTML swap (the confirmation recounted in place) the
  // event's target is the element that was replaced.
  document.addEventListener("htmx:afterSettle", function () {
    syncRequiredChecks(document);
    if (!keepFocus) return;
    var id = keepFocus;
    keepFocus = null;
    setTimeout(function () {
      var box = document.getElementById(id);
      if (box) box.focus();
    }, 0);
  });

  // --- Dialogs: Tab stays inside; focus returns to the opener when they close -------------

  function focusable(root) {
    return Array.prototype.slice.call(root.querySelectorAll(
      'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'
    )).filter(function (el) { return el.offsetParent !== null || el === document.activeElement; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    var dialog = document.querySelector("dialog[open]");
    if (!dialog) return;
    var items = focusable(dialog);
    if (items.length === 0) return;
    var first = items[0];
    var last = items[items.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (event.shiftKey && (document.activeElement === first || !inside)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
      event.preventDefault();
      first.focus();
    }
  });

  // In the bulk confirmation, Enter on the ticked "I understand" checkbox deletes.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || !box.matches || !box.matches("input[type=checkbox][id=understood]")) return;
    event.preventDefault();
    var button = box.form && box.form.querySelector('[data-requires="understood"]');
    if (box.checked && button && !button.disabled) box.form.requestSubmit(button);
  });

  // A static dialog on the page (the shortcuts) opens the same way as a loaded one.
  function openDialog(dialog, from) {
    opener = from || document.activeElement;
    if (!dialog.dataset.bound) {
      dialog.addEventListener("close", function () {
        if (opener && document.body.contains(opener)) opener.focus();
        opener = null;
      });
      dialog.dataset.bound = "yes";
    }
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]") || focusable(dialog)[0];
    if (first) first.focus();
  }
  desk.openDialog = openDialog;

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-opens-dialog]");
    if (!trigger) return;
    var dialog = document.getElementById(trigger.getAttribute("data-opens-dialog"));
    if (dialog) {
      event.preventDefault();
      openDialog(dialog, trigger);
    }
  });

})();
