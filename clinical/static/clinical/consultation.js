// The consultation page. The notes save themselves as the vet types (htmx posts each box after a pause); this adds
// what htmx cannot: quick texts, picking a search result into a form, the vaccine's default next due date, showing
// why a save was refused, and sending what is still unsaved when the tab is closed or hidden.
(function () {
  "use strict";

  function boxes() { return document.querySelectorAll("textarea[data-autosave]"); }
  boxes().forEach(function (box) { box.dataset.saved = box.value; });

  // A save answered: remember what the server holds, so closing the tab only sends what it does not.
  document.addEventListener("htmx:afterRequest", function (event) {
    var box = event.detail.elt;
    if (box && box.matches && box.matches("textarea[data-autosave]") && event.detail.successful) {
      box.dataset.saved = box.value;
    }
  });

  // A refused save (409 signed elsewhere, 422 too long) still shows its reason in the status line.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if ((status === 409 || status === 422) && event.detail.target && event.detail.target.id === "save-status") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Closing or hiding the tab: send every box whose text the server does not have yet (a beacon survives the
  // page; it carries the CSRF token as a form field).
  function flush() {
    var form = document.querySelector("form[data-autosave-url]");
    if (!form || !navigator.sendBeacon) { return; }
    var data = new FormData();
    var pending = false;
    boxes().forEach(function (box) {
      if (box.value !== box.dataset.saved) { data.append(box.name, box.value); pending = true; box.dataset.saved = box.value; }
    });
    if (!pending) { return; }
    data.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    navigator.sendBeacon(form.getAttribute("data-autosave-url"), data);
  }
  window.addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { flush(); } });

  document.addEventListener("click", function (event) {
    // Quick texts: add the template's text to its section and save it like typing would.
    var quick = event.target.closest("[data-quick-target]");
    if (quick) {
      var box = document.getElementById(quick.getAttribute("data-quick-target"));
      if (box) {
        var text = quick.getAttribute("data-quick-text");
        box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n" + text : text;
        box.dispatchEvent(new Event("input", { bubbles: true }));
        box.focus();
      }
      return;
    }
    // A search result that fills a form (the medicine to dispense, the diagnosis of a problem).
    var pick = event.target.closest("[data-pick-target]");
    if (pick) {
      var target = document.getElementById(pick.getAttribute("data-pick-target"));
      var label = document.getElementById(pick.getAttribute("data-pick-target") + "_label");
      if (target) { target.value = pick.getAttribute("data-pick-value"); }
      if (label) { label.textContent = pick.getAttribute("data-pick-label"); }
      var list = pick.closest("[id$=-results]");
      if (list) {
        // The chosen result disappears with the list: the keyboard goes back to the search box it came from.
        var box = document.querySelector("input[aria-controls='" + list.id + "']");
        list.innerHTML = "";
        if (box) { box.focus(); }
      }
    }
  });

  // The vaccine's default next due date, unless the user typed their own.
  document.addEventListener("input", function (event) {
    if (event.target.id === "id_next_due_on") { event.target.dataset.typed = "1"; }
  });
  document.addEventListener("change", function (event) {
    var select = event.target;
    var targetId = select.getAttribute && select.getAttribute("data-next-due-target");
    if (!targetId) { return; }
    var due = document.getElementById(targetId);
    var option = select.options[select.selectedIndex];
    if (due && !due.dataset.typed && option) { due.value = option.getAttribute("data-next-due") || ""; }
  });
})();
