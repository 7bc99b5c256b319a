// The list's in-place updates: the Sort and Per page menus apply a committed choice, and the
// focus stays on the equivalent row or control after htmx swaps #list-region.
(function () {
  "use strict";
  var desk = window.CustomerDesk;

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
    if (row) return { row: desk.rows().indexOf(row), box: active.matches("input.row-check") };
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
    desk.syncHeaderCheckbox();
    desk.forgetRange();
    var wanted = focusBefore;
    focusBefore = null;
    if (!wanted) return;
    var element = null;
    if (wanted.id) element = document.getElementById(wanted.id);
    if (!element && wanted.selector) element = document.querySelector(wanted.selector);
    if (!element && (wanted.row !== undefined || wanted.selector)) {
      var list = desk.rows();
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

})();
