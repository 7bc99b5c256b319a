// Customer Desk: the little behaviour htmx does not give. No framework, no inline script (the
// Content-Security-Policy allows scripts from /static only).
(function () {
  "use strict";

  // CSS shows the script's controls (the menu button) only when this script runs.
  document.documentElement.classList.add("js");

  // Confirmations loaded by htmx into #dialog-slot open as modal dialogs. The browser traps
  // focus in a modal <dialog>, focuses its [autofocus] control (Cancel) and closes it on Esc;
  // we return focus to whatever opened it.
  var opener = null;
  var keyOpener = null;

  // Every request htmx sends carries the session's CSRF token, read once from the page's meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  // An answer older than the counter on screen is never swapped in (each bar carries the
  // selection's version; requests are queued, this guards against anything out of order).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "selection-bar") return;
    var match = /data-version="(\d+)"/.exec(event.detail.serverResponse || "");
    var shown = Number(target.getAttribute("data-version") || 0);
    if (match && Number(match[1]) < shown) event.detail.shouldSwap = false;
  });

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
    toastFlashes();
    localTimes(document);
    // After a refused form, the focus goes to the summary of what to correct.
    var summary = document.getElementById("form-errors");
    if (summary) summary.focus();
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
    localTimes(document);
    if (!keepFocus) return;
    var id = keepFocus;
    keepFocus = null;
    setTimeout(function () {
      var box = document.getElementById(id);
      if (box) box.focus();
    }, 0);
  });

  // The list's sort and page-size menus apply a committed choice: a pick with the mouse, Enter,
  // or leaving the field. Arrow keys on a closed select fire "change" at each step in Chromium;
  // those only move the choice (WCAG 3.2.2).
  function applySelect(select) {
    if (select.value === select.getAttribute("data-applied")) return;
    select.setAttribute("data-applied", select.value);
    select.removeAttribute("data-keyed");
    if (select.form) select.form.requestSubmit();
  }
  function autosubmit(target) {
    return target && target.closest ? target.closest("select[data-autosubmit]") : null;
  }
  document.addEventListener("keydown", function (event) {
    var select = autosubmit(event.target);
    if (!select) return;
    if (event.key === "Enter") {
      event.preventDefault();
      applySelect(select);
    } else if (event.key !== "Tab" && event.key !== "Escape") {
      select.setAttribute("data-keyed", "yes");
    }
  }, true);
  document.addEventListener("mousedown", function (event) {
    var select = autosubmit(event.target);
    if (select) select.removeAttribute("data-keyed");
  }, true);
  document.addEventListener("change", function (event) {
    var select = autosubmit(event.target);
    if (select && !select.hasAttribute("data-keyed")) applySelect(select);
  });
  document.addEventListener("focusout", function (event) {
    var select = autosubmit(event.target);
    if (select) applySelect(select);
  });

  // --- The selection menu: a WAI-ARIA menu button ----------------------------------------

  function menuOf(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }
  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
  }
  function openMenu(button, last) {
    var menu = menuOf(button);
    if (!menu) return;
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    var items = menuItems(menu);
    if (items.length) items[last ? items.length - 1 : 0].focus();
  }
  function closeMenu(button, refocus) {
    var menu = menuOf(button);
    if (menu) menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus) button.focus();
  }
  function openMenuButton() {
    return document.querySelector('.menu-button[aria-expanded="true"]');
  }
  var keyOpened = false;
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".menu-button") : null;
    var open = openMenuButton();
    if (button) {
      if (keyOpened) { keyOpened = false; return; }
      if (button.getAttribute("aria-expanded") === "true") closeMenu(button, true);
      else openMenu(button, false);
      return;
    }
    // A click outside closes the menu; a choice inside submits and the list comes back.
    if (open && !menuOf(open).contains(event.target)) closeMenu(open, true);
  });
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.closest) return;
    var button = target.closest(".menu-button");
    if (button) {
      if (event.key === "Enter" || event.key === " " || event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        event.stopPropagation();
        keyOpened = event.key === "Enter" || event.key === " ";
        window.setTimeout(function () { keyOpened = false; }, 300);
        openMenu(button, event.key === "ArrowUp");
      }
      return;
    }
    var menu = target.closest('[role="menu"]');
    if (!menu) return;
    var owner = document.querySelector('[aria-controls="' + menu.id + '"]');
    var items = menuItems(menu);
    var index = items.indexOf(target);
    var next = null;
    if (event.key === "ArrowDown") next = items[(index + 1) % items.length];
    else if (event.key === "ArrowUp") next = items[(index - 1 + items.length) % items.length];
    else if (event.key === "Home") next = items[0];
    else if (event.key === "End") next = items[items.length - 1];
    else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      if (owner) closeMenu(owner, true);
      return;
    } else if (event.key === "Tab") {
      if (owner) closeMenu(owner, false);
      return;
    } else if (event.key === "Enter" || event.key === " ") {
      return;
    }
    // Other keys (the list's shortcuts) do nothing while the menu is open.
    event.preventDefault();
    event.stopPropagation();
    if (next) next.focus();
  }, true);

  // --- In-place updates of the list: the focus stays on the equivalent row or control ------

  var focusBefore = null;
  var paging = false;
  function describeFocus() {
    var active = document.activeElement;
    if (!active || active === document.body) return null;
    // Focus outside the list (the search box, the sort menu) stays where it is.
    if (!active.closest("#list-region")) return null;
    if (active.closest(".select-menu")) return { id: "select-menu-button" };
    var row = active.closest ? active.closest("#customer-table tbody tr") : null;
    // A new page from the keyboard ([ or ]) starts at its first row.
    if (row && paging) return { row: 0 };
    if (row) return { row: rows().indexOf(row), box: active.matches("input.row-check") };
    if (active.id) return { id: active.id };
    if (active.hasAttribute("data-page")) return { selector: '[data-page="' + active.getAttribute("data-page") + '"]' };
    if (active.closest(".pagination")) return { selector: '.pagination [aria-current="page"]' };
    if (active.closest("thead a.sort-link")) return { selector: "thead th[aria-sort]:not([aria-sort=none]) a" };
    return { row: 0 };
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (target && target.id === "list-region") {
      var source = event.detail.elt;
      var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
        event.detail.requestConfig.triggeringEvent.submitter;
      paging = !!((submitter && submitter.name === "goto") || (source && source.closest && source.closest(".pagination")));
      focusBefore = describeFocus();
      paging = false;
      target.setAttribute("aria-busy", "true");
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var region = document.getElementById("list-region");
    if (!region || !target || (target !== region && target.id !== "list-region" && !target.contains(region))) return;
    region.removeAttribute("aria-busy");
    syncHeaderCheckbox();
    lastToggled = null;
    var wanted = focusBefore;
    focusBefore = null;
    if (!wanted) return;
    var element = null;
    if (wanted.id) element = document.getElementById(wanted.id);
    if (!element && wanted.selector) element = document.querySelector(wanted.selector);
    if (!element && (wanted.row !== undefined || wanted.selector)) {
      var list = rows();
      var row = list[Math.max(0, Math.min(wanted.row || 0, list.length - 1))];
      if (row) element = wanted.box ? row.querySelector("input.row-check") || row : row;
    }
    if (element && element !== document.activeElement) element.focus({ preventScroll: true });
    if (element && element.scrollIntoView) element.scrollIntoView({ block: "nearest" });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var region = document.getElementById("list-region");
    if (region && event.detail.failed) region.removeAttribute("aria-busy");
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

  // A visible, dismissible toast (role="status", so screen readers hear it too).
  function announce(text) {
    var stack = document.getElementById("toasts");
    if (!stack) return;
    var toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "status");
    var message = document.createElement("span");
    toast.appendChild(message);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    toast.appendChild(close);
    stack.appendChild(toast);
    // Filled after insertion so that the live region announces it.
    window.setTimeout(function () { message.textContent = text; }, 30);
    window.setTimeout(function () { toast.remove(); }, 8000);
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest ? event.target.closest(".toast-close") : null;
    if (close) close.closest(".toast, .flash").remove();
  });

  // Flash messages from the server become toasts too.
  function toastFlashes() {
    document.querySelectorAll("main > .flash[role=status]").forEach(function (flash) {
      var stack = document.getElementById("toasts");
      if (!stack) return;
      flash.classList.add("toast");
      // The message in one span, so that it reads as one line beside the close button.
      var message = document.createElement("span");
      while (flash.firstChild) message.appendChild(flash.firstChild);
      flash.appendChild(message);
      var close = document.createElement("button");
      close.type = "button";
      close.className = "toast-close";
      close.setAttribute("aria-label", "Dismiss");
      close.textContent = "×";
      flash.appendChild(close);
      stack.appendChild(flash);
    });
  }

  // --- Dates: the browser's time zone, relative where it helps ("3 days ago") -------------
  function localTimes(root) {
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var now = Date.now();
    var relative = Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
    var full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    var dayOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
    (root || document).querySelectorAll("time[datetime]").forEach(function (time) {
      if (time.dataset.localised) return;
      var at = new Date(time.getAttribute("datetime"));
      if (isNaN(at)) return;
      time.dataset.localised = "yes";
      time.title = full.format(at);
      var days = Math.round((at.getTime() - now) / 86400000);
      var hours = Math.round((at.getTime() - now) / 3600000);
      if (relative && Math.abs(hours) < 24) time.textContent = relative.format(hours, "hour");
      else if (relative && Math.abs(days) <= 7) time.textContent = relative.format(days, "day");
      else time.textContent = time.hasAttribute("data-time") ? full.format(at) : dayOnly.format(at);
    });
  }

  // --- Busy state: a control whose request takes over 150 ms says so ---------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.setAttribute) return;
    var busy = elt.tagName === "FORM" && event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
      event.detail.requestConfig.triggeringEvent.submitter || elt;
    elt.__busyTimer = window.setTimeout(function () {
      busy.setAttribute("aria-busy", "true");
      busy.classList.add("is-busy");
      document.documentElement.classList.add("is-waiting");
    }, 150);
    elt.__busy = busy;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt) return;
    window.clearTimeout(elt.__busyTimer);
    if (elt.__busy) {
      elt.__busy.removeAttribute("aria-busy");
      elt.__busy.classList.remove("is-busy");
    }
    document.documentElement.classList.remove("is-waiting");
  });

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

  function toggleRow(row, range) {
    var box = row.querySelector("input.row-check");
    if (!box) return;
    var list = rows();
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
      // Agents have no trash can, and nothing to be told.
      keyOpener = row;
      if (document.querySelector("button.trash") && !click("button.trash")) {
        keyOpener = null;
        announce("Nothing is selected: select customers with x first.");
      }
    }
  });
})();
