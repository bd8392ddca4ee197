/* The payment plan editor (contract page, money tab): add and remove installment rows, number them,
   and show the planned total against the contract amount as the user types. The server checks
   everything again; this only helps. */
(function () {
  "use strict";
  if (window.qiyuePlanEditor) { return; }
  window.qiyuePlanEditor = true;

  function amount(text) {
    var value = parseFloat(String(text || "").replace(/,/g, ""));
    return isFinite(value) ? value : 0;
  }

  function refresh(form) {
    var rows = form.querySelectorAll("[data-plan-rows] [data-plan-row]");
    var total = 0;
    rows.forEach(function (row, index) {
      var number = row.querySelector("[data-plan-number]");
      if (number) { number.textContent = String(index + 1); }
      var input = row.querySelector("[data-plan-amount]");
      total += amount(input && input.value);
    });
    var out = form.querySelector("[data-plan-total]");
    if (!out) { return; }
    var contract = amount(form.getAttribute("data-contract-amount"));
    var format = function (n) {
      return n.toLocaleString(document.documentElement.lang || undefined,
                              { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    };
    var rest = Math.round((contract - total) * 100) / 100;
    var text = out.getAttribute("data-label-planned") + " " + format(total) + " / " + format(contract);
    if (rest > 0) { text += " · " + format(rest) + " " + out.getAttribute("data-label-left"); }
    if (rest < 0) { text += " · " + format(-rest) + " " + out.getAttribute("data-label-over"); }
    out.textContent = text;
    out.classList.toggle("text-danger", rest < 0);
  }

  document.addEventListener("click", function (event) {
    var form = event.target.closest("[data-plan-editor]");
    if (!form) { return; }
    if (event.target.closest("[data-plan-add]")) {
      var template = form.querySelector("template[data-plan-template]");
      var body = form.querySelector("[data-plan-rows]");
      body.appendChild(template.content.cloneNode(true));
      var rows = body.querySelectorAll("[data-plan-row]");
      var last = rows[rows.length - 1].querySelector("[data-plan-amount]");
      if (last) { last.focus(); }
      refresh(form);
    } else if (event.target.closest("[data-plan-remove]")) {
      event.target.closest("[data-plan-row]").remove();
      refresh(form);
    }
  });

  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("[data-plan-editor]");
    if (form) { refresh(form); }
  });

  function init() { document.querySelectorAll("[data-plan-editor]").forEach(refresh); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  document.addEventListener("htmx:afterSettle", init);
}());
