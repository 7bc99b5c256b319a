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

  // The list's sort and page-size menus apply at once when JavaScript is on.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
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

  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-opens-dialog]");
    if (!trigger) return;
    var dialog = document.getElementById(trigger.getAttribute("data-opens-dialog"));
    if (dialog) {
      event.preventDefault();
      openDialog(dialog, trigger);
    }
  });

  // --- The list from the keyboard ---------------------------------------------------------

  function announce(text) {
    var region = document.getElementById("announcer");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 30);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#customer-table tbody tr"));
  }

  function focusedRowIndex() {
    return rows().indexOf(document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("#customer-table tbody tr") : null);
  }

  function focusRow(index) {
    var list = rows();
    if (list.length === 0) return;
    var row = list[Math.max(0, Math.min(index, list.length - 1))];
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  var lastToggled = null;

  // Sets a row's box; returns it when it changed. The change event (which htmx posts with the
  // whole form) is fired once per gesture by the caller.
  function setRow(row, checked) {
    var box = row.querySelector("input.row-check");
    if (!box || box.checked === checked) return null;
    box.checked = checked;
    return box;
  }

  function commit(box) {
    if (!box) return;
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function toggleRow(row, range) {
    var box = row.querySelector("input.row-check");
    if (!box) return;
    var list = rows();
    var target = !box.checked;
    var changed = null;
    if (range && lastToggled !== null && list.indexOf(lastToggled) !== -1) {
      var from = list.indexOf(lastToggled);
      var to = list.indexOf(row);
      target = lastToggled.querySelector("input.row-check").checked;
      for (var i = Math.min(from, to); i <= Math.max(from, to); i++) {
        changed = setRow(list[i], target) || changed;
      }
    } else {
      changed = setRow(row, target);
    }
    lastToggled = row;
    commit(changed);
  }

  // Shift+click on a row's box selects the range from the last toggled row.
  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input.row-check")) return;
    var row = box.closest("tr");
    if (event.shiftKey && lastToggled && lastToggled !== row) {
      // The click already flipped this box: make the whole range match the last toggled row.
      var list = rows();
      var from = list.indexOf(lastToggled);
      var to = list.indexOf(row);
      var target = lastToggled.querySelector("input.row-check").checked;
      for (var i = Math.min(from, to); i <= Math.max(from, to); i++) {
        var each = list[i].querySelector("input.row-check");
        if (each !== box) each.checked = target;
      }
      box.checked = target;
    }
    lastToggled = row;
  });

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
    var index = focusedRowIndex();
    var row = index >= 0 ? rows()[index] : null;

    if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { event.preventDefault(); openDialog(help, document.activeElement); }
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
      toggleRow(row, event.shiftKey);
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
      if (!click("button.trash")) announce("Nothing is selected: select customers with x first.");
    }
  });
})();
