/* The contract form shows the fields of the chosen contract type only (the others stay in the page,
   hidden, and the server ignores them). */
(function () {
  "use strict";
  var select = document.getElementById("id_contract_type");
  if (!select) { return; }
  function show() {
    document.querySelectorAll("[data-type-fields]").forEach(function (group) {
      group.hidden = group.getAttribute("data-type-fields") !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
}());
