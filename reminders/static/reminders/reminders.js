// Reminder pages: a button marked data-print prints the page (the CSP allows no inline handlers).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) { window.print(); }
  });
})();
