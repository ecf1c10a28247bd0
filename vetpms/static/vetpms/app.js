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
})();
