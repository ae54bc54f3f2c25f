// Live progress of collections: polls GET /api/v1/collections/{id} for every element
// with data-collection-poll, updates its text, and reloads the page once all are finished.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-collection-poll]"));
  if (!items.length || !window.fetch) { return; }
  var finished = { done: true, failed: true, interrupted: true };
  // Once the person follows a link or sends a form (say, DigiD at the next care provider),
  // a reload would cancel that navigation and lose their click: stop polling then.
  var leaving = false;
  var timer = null;
  function schedule(ms) { window.clearTimeout(timer); timer = window.setTimeout(poll, ms); }
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function (event) {
    // Back from the browser's page cache: polling had stopped, so start again.
    if (event.persisted) { leaving = false; schedule(500); }
  });
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
    if (leaving) { return; }
    Promise.all(items.map(function (el) {
      return fetch("/api/v1/collections/" + encodeURIComponent(el.getAttribute("data-collection-poll")),
                   { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { render(el, data); } return data ? data.state : "failed"; })
        .catch(function () { return null; });
    })).then(function (states) {
      if (leaving) { return; }
      if (states.every(function (s) { return finished[s]; })) { window.location.reload(); }
      else { schedule(1000); }
    });
  }
  schedule(500);
})();
