// The desk's only script besides htmx: the drop zone and the upload progress bar.
// No inline script anywhere (the Content-Security-Policy allows only files from this server).
(function () {
  "use strict";
  function setup() {
    var form = document.getElementById("drop-form");
    if (!form) return;
    var zone = document.getElementById("drop-zone");
    var input = document.getElementById("files");
    var chosen = document.getElementById("chosen");
    var bar = document.getElementById("upload-progress");
    function show() {
      var n = input.files ? input.files.length : 0;
      chosen.textContent = n ? "已选 " + n + " 个文件" : "";
    }
    input.addEventListener("change", show);
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      show();
      if (window.htmx) { htmx.trigger(form, "submit"); } else { form.submit(); }
    });
    form.addEventListener("htmx:xhr:progress", function (e) {
      if (!e.detail.lengthComputable) return;
      bar.hidden = false;
      bar.value = Math.round(100 * e.detail.loaded / e.detail.total);
    });
    form.addEventListener("htmx:afterRequest", function () {
      bar.hidden = true;
      bar.value = 0;
      input.value = "";
      show();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
