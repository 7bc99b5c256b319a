// Customer Desk: the little behaviour htmx does not give. No framework, no inline script (the
// Content-Security-Policy allows scripts from /static only). This file holds what the others
// share (window.CustomerDesk) and loads first; dialogs.js, selection.js, list.js, menu.js and
// keyboard.js follow, each one concern.
(function () {
  "use strict";
  var desk = window.CustomerDesk = {};

  // CSS shows the script's controls (the menu button) only when this script runs.
  document.documentElement.classList.add("js");

  // Every request htmx sends carries the session's CSRF token, read once from the page's meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });

  // The list's rows, and the one holding the focus (-1 for none).
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#customer-table tbody tr"));
  }
  desk.rows = rows;
  desk.focusedRowIndex = function () {
    return rows().indexOf(document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("#customer-table tbody tr") : null);
  };

  document.addEventListener("DOMContentLoaded", function () {
    toastFlashes();
    localTimes(document);
    // After a refused form, the focus goes to the summary of what to correct.
    var summary = document.getElementById("form-errors");
    if (summary) summary.focus();
  });
  document.addEventListener("htmx:afterSettle", function () {
    localTimes(document);
  });

  // --- Toasts ------------------------------------------------------------------------------

  // A visible, dismissible toast (role="status", so screen readers hear it too).
  desk.announce = function (text) {
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
  };


  // Dismissed by its button, or by Esc from inside it; the focus then goes to the page's main
  // content rather than to nowhere.
  function dismiss(toast) {
    var hadFocus = toast.contains(document.activeElement);
    toast.remove();
    var main = document.getElementById("main");
    if (hadFocus && main) main.focus();
  }

  document.addEventListener("click", function (event) {
    var close = event.target.closest ? event.target.closest(".toast-close") : null;
    if (close) dismiss(close.closest(".toast, .flash"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var toast = event.target.closest("#toasts .toast");
    if (toast) {
      event.preventDefault();
      dismiss(toast);
    }
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
      var close = document.createElement("button");
      close.type = "button";
      close.className = "toast-close";
      close.setAttribute("aria-label", "Dismiss");
      close.textContent = "×";
      flash.appendChild(close);
      stack.appendChild(flash);
      // Filled after it is in the live region, so that screen readers announce it.
      window.setTimeout(function () { flash.insertBefore(message, close); }, 30);
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
      // Within a week: "now", "5 minutes ago", "3 hours ago", "2 days ago"; older: the date.
      var seconds = (at.getTime() - now) / 1000, away = Math.abs(seconds);
      if (relative && away < 45) time.textContent = relative.format(0, "second");
      else if (relative && away < 3600) time.textContent = relative.format(Math.round(seconds / 60), "minute");
      else if (relative && away < 86400) time.textContent = relative.format(Math.round(seconds / 3600), "hour");
      else if (relative && away <= 7 * 86400) time.textContent = relative.format(Math.round(seconds / 86400), "day");
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

})();
