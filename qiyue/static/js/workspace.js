/* Qiyue workspaces (the contract and customer pages): tabs remembered in the address's #fragment,
   dialogs opened by [data-dialog-open="id"] and closed by [data-dialog-close], a dialog marked
   [data-open] opened again after the server answered with an error, and the focus moved to the
   answer's message after an action swapped the workspace in. */
(function () {
  "use strict";
  if (window.qiyueWorkspace) { return; }
  window.qiyueWorkspace = true;

  function showTab(root) {
    var key = window.location.hash.replace(/^#/, "");
    if (!key || !window.bootstrap) { return; }
    var button = root.querySelector('[data-bs-toggle="tab"][data-tab="' + CSS.escape(key) + '"]');
    if (button) { window.bootstrap.Tab.getOrCreateInstance(button).show(); }
  }

  function openDialog(dialog) {
    if (!dialog || dialog.open) { return; }
    dialog.showModal();
    var field = dialog.querySelector(".is-invalid, textarea, select, input:not([type=hidden])");
    if (field) { field.focus(); }
  }

  function init(root) {
    if (!root || !root.querySelectorAll) { return; }
    showTab(root);
    var again = root.querySelector("dialog[data-open]");
    if (again) { openDialog(again); return; }
    var message = root.querySelector("[data-focus]");
    if (message && root !== document) { message.focus(); }
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      openDialog(document.getElementById(opener.getAttribute("data-dialog-open")));
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer && closer.closest("dialog")) { closer.closest("dialog").close(); }
  });

  // Back and forward between tabs, and a link to "#documents" on the same page.
  window.addEventListener("hashchange", function () { showTab(document); });

  document.addEventListener("shown.bs.tab", function (event) {
    var key = event.target.getAttribute("data-tab");
    if (key && window.history.replaceState) { window.history.replaceState(null, "", "#" + key); }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  // A workspace swapped in by an action: the same tab stays open, a failed dialog opens again.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.hasAttribute || !target.hasAttribute("data-workspace")) { return; }
    init(document.querySelector("[data-workspace]"));
  });
}());
