// The selection menu beside the header checkbox: a WAI-ARIA menu button.
(function () {
  "use strict";

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

})();
