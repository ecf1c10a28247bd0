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

  // Search boxes and their results (the header's search, the booking's pet search, the consultation's diagnoses,
  // charges and medicines): a box names its result list with aria-controls. The arrow keys walk from the box
  // through the results and back (Enter opens or picks the one that has focus, as a link or button does); Escape
  // goes back to the box, and closes the header's dropdown, as a click elsewhere does.
  function dropdown() { return document.getElementById("global-search-results"); }
  function searchPair(element) {
    if (!element || !element.matches) { return null; }
    if (element.matches("input[aria-controls]")) {
      var own = document.getElementById(element.getAttribute("aria-controls"));
      return own ? { input: element, box: own } : null;
    }
    var inputs = document.querySelectorAll("input[aria-controls]");
    for (var i = 0; i < inputs.length; i++) {
      var box = document.getElementById(inputs[i].getAttribute("aria-controls"));
      if (box && box.contains(element)) { return { input: inputs[i], box: box }; }
    }
    return null;
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var pair = searchPair(document.activeElement);
    if (!pair) {
      if (event.key === "Escape" && dropdown()) { dropdown().innerHTML = ""; }
      return;
    }
    if (event.key === "Escape") {
      if (pair.box.contains(document.activeElement)) { pair.input.focus(); }
      if (pair.box === dropdown()) { pair.box.innerHTML = ""; }
      return;
    }
    var items = Array.prototype.slice.call(pair.box.querySelectorAll(".list-group-item-action"));
    if (!items.length) { return; }
    event.preventDefault();
    var at = items.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? Math.min(at + 1, items.length - 1) : at - 1;
    if (next < 0) { pair.input.focus(); } else { items[next].focus(); }
  });
  document.addEventListener("click", function (event) {
    var box = dropdown();
    if (box && !event.target.closest(".global-search")) { box.innerHTML = ""; }
  });

  // htmx swaps: when the element that had focus is gone after a swap (a search result that was chosen, the
  // button of a form that was replaced), focus goes where the keyboard user carries on instead of to the top of
  // the page: the first field with an error in what was swapped in, else the element its data-focus-after-swap
  // names, else the swapped element itself. (htmx itself keeps the focus on an element whose id survives.)
  var lastTarget = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    lastTarget = target && target.id && active && active !== document.body && target.contains(active) ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!lastTarget) { return; }
    var id = lastTarget;
    lastTarget = null;
    if (document.activeElement && document.activeElement !== document.body) { return; }
    var swapped = document.getElementById(id);
    if (!swapped) { return; }
    var named = swapped.getAttribute("data-focus-after-swap");
    var next = swapped.querySelector(".is-invalid") || (named && document.getElementById(named));
    if (!next) {
      next = swapped;
      if (!next.hasAttribute("tabindex")) { next.setAttribute("tabindex", "-1"); }
    }
    next.focus();
  });

  // A page drawn again with form errors puts the keyboard on the first field to correct.
  document.addEventListener("DOMContentLoaded", function () {
    var active = document.activeElement;
    if (active && active !== document.body) { return; }
    var invalid = document.querySelector("main .is-invalid");
    if (invalid && invalid.focus) { invalid.focus(); }
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
