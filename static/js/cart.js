/* The bag and checkout: small enhancements of plain forms that work without it.
   - a quantity change submits its form (the "Update" button is hidden with JS on);
   - checkout shows only the panel (pickup store or delivery address) that is chosen. */
(function () {
  "use strict";

  function initQuantities() {
    document.querySelectorAll("[data-autosubmit-qty]").forEach(function (input) {
      input.addEventListener("change", function () { input.form.submit(); });
    });
  }

  function initFulfilment() {
    var form = document.querySelector("[data-fulfilment-form]");
    if (!form) return;
    var choices = form.querySelectorAll("[data-fulfilment-choice]");
    function show() {
      var chosen = form.querySelector("[data-fulfilment-choice]:checked");
      form.querySelectorAll("[data-panel]").forEach(function (panel) {
        panel.hidden = !!chosen && panel.dataset.panel !== chosen.value;
      });
    }
    choices.forEach(function (c) { c.addEventListener("change", show); });
    show();
  }

  function init() {
    initQuantities();
    initFulfilment();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
