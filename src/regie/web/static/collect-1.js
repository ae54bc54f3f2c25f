// Live progress of collections: polls GET /api/v1/collections/{id} for every element
// with data-collection-poll, updates its text, and reloads the page once all are finished.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-collection-poll]"));
  if (!items.length || !window.fetch) { return; }
  var finished = { done: true, failed: true, interrupted: true };
  function render(el, data) {
    var services = (data.progress && data.progress.services) || {};
    var done = 0, total = 0;
    Object.keys(services).forEach(function (k) { done += services[k].done || 0; total += services[k].total || 0; });
    var resources = (data.progress && data.progress.resources) || 0;
    var text = el.getAttribute("data-text") || "";
    el.querySelector("[data-progress-text]").textContent = text
      .replace("{done}", done).replace("{total}", total).replace("{resources}", resources);
    var bar = el.querySelector("progress");
    if (bar && total > 0) { bar.max = total; bar.value = done; }
  }
  function poll() {
    Promise.all(items.map(function (el) {
      return fetch("/api/v1/collections/" + encodeURIComponent(el.getAttribute("data-collection-poll")),
                   { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { render(el, data); } return data ? data.state : "failed"; })
        .catch(function () { return null; });
    })).then(function (states) {
      if (states.every(function (s) { return finished[s]; })) { window.location.reload(); }
      else { window.setTimeout(poll, 1000); }
    });
  }
  window.setTimeout(poll, 500);
})();
