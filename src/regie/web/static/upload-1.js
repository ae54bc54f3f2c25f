// Drag and drop for the upload page: a progressive enhancement of <input type=file multiple>.
// Without this script the form works the same; dropped files go into the same input.
(function () {
  "use strict";
  var zone = document.querySelector("[data-drop-zone]");
  var input = document.getElementById("files");
  if (!zone || !input || typeof DataTransfer === "undefined") { return; }
  var hint = zone.querySelector("[data-drop-hint]");
  if (hint) { hint.hidden = false; }
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("drop-active");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("drop-active"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    var dropped = event.dataTransfer && event.dataTransfer.files;
    if (!dropped || !dropped.length) { return; }
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { all.items.add(file); });
    Array.prototype.forEach.call(dropped, function (file) { all.items.add(file); });
    input.files = all.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
