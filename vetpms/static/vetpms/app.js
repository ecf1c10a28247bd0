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

  // Global search dropdown: close on Escape or a click elsewhere; reopen when the box is focused again.
  function dropdown() { return document.getElementById("global-search-results"); }
  document.addEventListener("keydown", function (event) {
    var box = dropdown();
    if (event.key === "Escape" && box) { box.innerHTML = ""; }
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
