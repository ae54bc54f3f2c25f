// Draws the trend charts with the vendored Chart.js. Each chart box names a JSON data block
// (written by regie.web.chart); nothing here is inline, so the Content-Security-Policy holds.
// Values outside the range get a ring (a legend entry says so in words), self-measured values
// are squares, care-provider values circles; each series also has its own line pattern.
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var COLOURS = ["#0b5a7a", "#7a3b9a", "#8a5a00", "#2f6b2f"];
  var BANDS = ["rgba(47, 133, 90, 0.18)", "rgba(122, 59, 154, 0.14)", "rgba(138, 90, 0, 0.14)", "rgba(47, 107, 47, 0.14)"];
  var DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  var RING = "#a4161a";
  var lang = document.documentElement.lang || "nl";
  var dayFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  // Within a few days the clock time matters (several measurements a day).
  var timeFormat = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
  var numberFormat = new Intl.NumberFormat(lang, { maximumFractionDigits: 3 });
  Chart.defaults.color = "#333";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;

  // The time axis: the points' span with a little room at both ends (a day each way for one date).
  function timeSpan(data) {
    var first = Infinity, last = -Infinity;
    data.series.forEach(function (s) {
      s.points.forEach(function (p) { first = Math.min(first, p.x); last = Math.max(last, p.x); });
    });
    var room = first === last ? 86400000 : (last - first) * 0.03;
    return { min: first - room, max: last + room, first: first, last: last };
  }

  function datasets(data, span) {
    var out = [];
    var first = span.min, last = span.max;
    var bands = data.series.filter(function (s) { return s.low !== null || s.high !== null; }).length;
    data.series.forEach(function (s, index) {
      var axis = s.axis === 1 ? "y1" : "y";
      if (s.low !== null || s.high !== null) {
        // The range as a band: a flat line at the top (or bottom) filled to the other edge.
        var edge = s.high !== null ? s.high : s.low;
        var target = s.high !== null && s.low !== null ? { value: s.low } : (s.high !== null ? "start" : "end");
        out.push({
          label: bands > 1 ? data.labels.band + " (" + s.name + ")" : data.labels.band,
          data: [{ x: first, y: edge }, { x: last, y: edge }], yAxisID: axis,
          borderWidth: 0, pointRadius: 0, pointHitRadius: 0, pointStyle: "rect",
          backgroundColor: BANDS[index % 4], borderColor: BANDS[index % 4],
          fill: { target: target, above: BANDS[index % 4], below: BANDS[index % 4] },
          order: 3, band: true
        });
      }
      out.push({
        label: s.name + (s.unit ? " (" + s.unit + ")" : ""),
        data: s.points, yAxisID: axis, parsing: false,
        borderColor: COLOURS[index % 4], backgroundColor: COLOURS[index % 4],
        borderDash: DASHES[index % 4], borderWidth: 2, tension: 0,
        pointStyle: s.self ? "rect" : "circle", pointRadius: 5, pointHoverRadius: 7,
        pointBorderColor: "#fff", pointBorderWidth: 1.5, fill: false, order: 1
      });
    });
    [0, 1].forEach(function (axisIndex) {
      var outside = [];
      data.series.forEach(function (s) {
        if (s.axis === axisIndex) { s.points.forEach(function (p) { if (p.out) { outside.push(p); } }); }
      });
      if (outside.length) {
        out.push({
          label: data.labels.out, data: outside, parsing: false, yAxisID: axisIndex ? "y1" : "y",
          showLine: false, pointStyle: "circle", pointRadius: 10, pointHoverRadius: 11,
          borderColor: RING, backgroundColor: "rgba(0, 0, 0, 0)", pointBorderWidth: 2.5, borderWidth: 2.5,
          order: 0
        });
      }
    });
    return out;
  }

  // Each value axis shows its points and the whole band.
  function bounds(data, axis) {
    var values = [];
    data.series.forEach(function (s) {
      if (s.axis !== axis) { return; }
      s.points.forEach(function (p) { values.push(p.y); });
      if (s.low !== null) { values.push(s.low); }
      if (s.high !== null) { values.push(s.high); }
    });
    return { suggestedMin: Math.min.apply(null, values), suggestedMax: Math.max.apply(null, values) };
  }

  function scales(data, span) {
    var days = span.last - span.first;
    var withTime = days > 0 && days < 4 * 86400000;
    var format = withTime ? timeFormat : dayFormat;
    var result = {
      x: {
        type: "linear", min: span.min, max: span.max,
        ticks: {
          maxTicksLimit: 5, maxRotation: 0,
          // One label per date: ticks within the same day (or minute) would repeat it.
          callback: function (value, index, ticks) {
            var text = format.format(new Date(value));
            return index > 0 && format.format(new Date(ticks[index - 1].value)) === text ? null : text;
          }
        },
        grid: { color: "#e1e6ea" }
      },
      y: {
        type: "linear", position: "left", grace: "5%",
        suggestedMin: bounds(data, 0).suggestedMin, suggestedMax: bounds(data, 0).suggestedMax,
        title: { display: Boolean(data.units[0]), text: data.units[0] || "" },
        ticks: { callback: function (value) { return numberFormat.format(value); } },
        grid: { color: "#e1e6ea" }
      }
    };
    if (data.scale) { result.y.min = data.scale[0]; result.y.max = data.scale[1]; }
    if (data.units.length > 1) {
      result.y1 = {
        type: "linear", position: "right", grace: "5%",
        suggestedMin: bounds(data, 1).suggestedMin, suggestedMax: bounds(data, 1).suggestedMax,
        title: { display: true, text: data.units[1] },
        ticks: { callback: function (value) { return numberFormat.format(value); } },
        grid: { drawOnChartArea: false }
      };
    }
    return result;
  }

  function draw(box) {
    var block = document.getElementById(box.getAttribute("data-chart"));
    if (!block || box.getAttribute("data-drawn")) { return; }
    var data = JSON.parse(block.textContent);
    var span = timeSpan(data);
    box.hidden = false;
    var legend = box.nextElementSibling;
    if (legend && legend.classList.contains("chart-legend")) { legend.hidden = false; }
    box.setAttribute("data-drawn", "1");
    new Chart(box.querySelector("canvas"), {
      type: "line",
      data: { datasets: datasets(data, span) },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: scales(data, span),
        plugins: {
          // The legend is the page's own text under the chart: it wraps on a phone and is read aloud.
          legend: { display: false },
          tooltip: {
            filter: function (item) { return !item.dataset.band; },
            callbacks: {
              title: function () { return ""; },
              label: function (item) { return item.raw.label || ""; }
            }
          }
        }
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  // Parts of a page that htmx swaps in may bring a chart along.
  document.addEventListener("htmx:afterSettle", function (event) {
    Array.prototype.forEach.call(event.target.querySelectorAll("[data-chart]"), draw);
  });
}());
