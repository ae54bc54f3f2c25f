// Shows and hides questions while the form is filled in. The server decides the same
// on every save (regie.share.questionnaire.form.evaluate), so the form works without this.
(function () {
  "use strict";
  var form = document.querySelector("form[data-questionnaire]");
  if (!form) { return; }
  var items = Array.prototype.slice.call(form.querySelectorAll("[data-q-when]"));

  function answers(linkId) {
    var out = [];
    var wrapper = form.querySelector('[data-q-item="' + CSS.escape(linkId) + '"]');
    if (!wrapper || wrapper.hidden) { return out; }
    var fields = form.querySelectorAll('[name="' + CSS.escape("q-" + linkId) + '"]');
    Array.prototype.forEach.call(fields, function (field) {
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) { return; }
      if (field.dataset.code) { out.push("code:" + field.dataset.code); return; }
      var value = field.value.trim();
      if (value) { out.push(value.replace(",", ".")); }
    });
    return out;
  }

  function holds(condition) {
    var given = answers(condition.q);
    if (condition.op === "exists") { return (given.length > 0) === Boolean(condition.v); }
    var wanted = String(condition.v);
    var equal = given.some(function (value) {
      return value === wanted || (!isNaN(parseFloat(value)) && parseFloat(value) === parseFloat(wanted));
    });
    if (condition.op === "=") { return equal; }
    if (condition.op === "!=") { return given.length > 0 && !equal; }
    return given.some(function (value) {
      var a = parseFloat(value), b = parseFloat(wanted);
      if (isNaN(a) || isNaN(b)) { return false; }
      return { ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b }[condition.op] || false;
    });
  }

  function update() {
    // In document order: a question depends on earlier ones, as on the server.
    items.forEach(function (item) {
      var rule = JSON.parse(item.dataset.qWhen);
      var results = rule.when.map(holds);
      var on = rule.any ? results.some(Boolean) : results.every(Boolean);
      var parent = item.parentElement && item.parentElement.closest("[data-q-item]");
      item.hidden = !on || Boolean(parent && parent.hidden);
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
