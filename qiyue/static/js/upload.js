/* Qiyue file uploads: drag and drop onto [data-upload-drop], a progress bar from XMLHttpRequest
   upload progress, then the panel named by data-upload-target is replaced with the server's answer
   (the refreshed panel, or the panel with the error). Without JavaScript the form posts normally. */
(function () {
  "use strict";
  if (window.qiyueUploads) { return; }  // included by several panels: bind once
  window.qiyueUploads = true;

  function swap(form, html) {
    var target = document.querySelector(form.getAttribute("data-upload-target"));
    if (!target) { window.location.reload(); return; }
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh) { window.location.reload(); return; }
    target.replaceWith(fresh);
    if (window.htmx) { window.htmx.process(fresh); }
  }

  function fail(form, message) {
    var box = form.querySelector("[data-upload-status]");
    if (!box) {
      box = document.createElement("div");
      box.className = "alert alert-danger py-2 mt-2";
      box.setAttribute("role", "alert");
      box.setAttribute("data-upload-status", "");
      form.appendChild(box);
    }
    box.textContent = message;
  }

  function upload(form) {
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files || input.files.length === 0) { input && input.click(); return; }
    var progress = form.querySelector("[data-upload-progress]");
    var bar = progress && progress.querySelector(".progress-bar");
    var button = form.querySelector("button[type=submit]");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("HX-Request", "true");
    if (token) { xhr.setRequestHeader("X-CSRFToken", token.value); }
    if (progress) { progress.classList.remove("d-none"); }
    if (button) { button.disabled = true; }
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable || !bar) { return; }
      var percent = Math.round((event.loaded / event.total) * 100);
      bar.style.width = percent + "%";
      bar.textContent = percent + "%";
      progress.setAttribute("aria-valuenow", String(percent));
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0 && xhr.status < 500) {
        swap(form, xhr.responseText);
      } else {
        if (button) { button.disabled = false; }
        fail(form, form.getAttribute("data-upload-failed") || ("HTTP " + xhr.status));
      }
    });
    xhr.addEventListener("error", function () {
      if (button) { button.disabled = false; }
      fail(form, form.getAttribute("data-upload-failed") || "Upload failed");
    });
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-upload]");
    if (!form) { return; }
    event.preventDefault();
    upload(form);
  });

  ["dragenter", "dragover"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      var zone = event.target.closest && event.target.closest("[data-upload-drop]");
      if (!zone) { return; }
      event.preventDefault();
      zone.classList.add("border-primary", "bg-light");
    });
  });

  document.addEventListener("dragleave", function (event) {
    var zone = event.target.closest && event.target.closest("[data-upload-drop]");
    if (zone) { zone.classList.remove("border-primary", "bg-light"); }
  });

  document.addEventListener("drop", function (event) {
    var zone = event.target.closest && event.target.closest("[data-upload-drop]");
    if (!zone) { return; }
    event.preventDefault();
    zone.classList.remove("border-primary", "bg-light");
    var form = zone.closest("form[data-upload]");
    var input = form && form.querySelector("input[type=file]");
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) { return; }
    input.files = event.dataTransfer.files;
    upload(form);
  });
})();
