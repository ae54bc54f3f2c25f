// Keyboard focus for the parts of the record pages that htmx updates in place
// (filters, year/month zoom, "older items", search as you type). Without this, focus would
// fall back to the top of the page each time the element that had it is replaced.
(function () {
  "use strict";
  var added = null;  // "older items": where the new rows start
  var href = null;   // a zoom link that was followed

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    added = null;
    if (event.detail.requestConfig && event.detail.requestConfig.elt &&
        event.detail.requestConfig.elt.getAttribute("rel") === "next") {
      added = { list: target, from: target.children.length };
    }
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    href = elt && elt.tagName === "A" && elt.getAttribute("rel") !== "next" ? elt.getAttribute("href") : null;
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (added) {
      // Focus the first of the rows just added, so Tab goes on from there.
      var row = added.list.children[added.from];
      var link = row && row.querySelector("a[href]");
      added = null;
      if (link) { link.focus(); }
      return;
    }
    if (href && (document.activeElement === document.body || !document.activeElement)) {
      var again = document.querySelector('a[href="' + href.replace(/"/g, '\\"') + '"]');
      if (again) { again.focus(); }
    }
    href = null;
  });
}());
