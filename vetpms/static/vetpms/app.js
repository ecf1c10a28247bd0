// VetPMS behaviour. The CSP allows scripts from this origin only: no inline handlers, so everything is wired here.
(function () {
  "use strict";

  // Forms or buttons with data-confirm ask before they submit (deactivate, revoke, ...).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // Global search dropdown: the arrow keys walk from the box through the results and back (Enter opens the one
  // that has focus, as a link does); Escape or a click elsewhere closes it.
  function dropdown() { return document.getElementById("global-search-results"); }
  document.addEventListener("keydown", function (event) {
    var box = dropdown();
    if (!box) { return; }
    if (event.key === "Escape") {
      if (box.contains(document.activeElement)) { document.getElementById("global-q").focus(); }
      box.innerHTML = "";
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var input = document.getElementById("global-q");
    if (document.activeElement !== input && !box.contains(document.activeElement)) { return; }
    var items = Array.prototype.slice.call(box.querySelectorAll("a.list-group-item-action"));
    if (!items.length) { return; }
    event.preventDefault();
    var at = items.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : at - 1;
    if (next < 0) { input.focus(); } else { items[next].focus(); }
  });
  document.addEventListener("click", function (event) {
    var box = dropdown();
    if (box && !event.target.closest(".global-search")) { box.innerHTML = ""; }
  });

  // Selects and date inputs marked data-autosubmit reload their page as soon as they change (day and week pickers).
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit();
    }
  });

  // Booking: choosing an appointment type puts its default duration in the duration box. Capture phase, so the
  // box holds the new value before htmx (listening on an ancestor) reloads the free slots.
  document.addEventListener("change", function (event) {
    var select = event.target;
    var target = select.getAttribute && select.getAttribute("data-minutes-target");
    if (!target) { return; }
    var option = select.options[select.selectedIndex];
    var box = document.getElementById(target);
    if (option && box && option.getAttribute("data-minutes")) { box.value = option.getAttribute("data-minutes"); }
  }, true);
})();
