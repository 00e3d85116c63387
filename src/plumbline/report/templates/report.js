// Filters of the plumbline report: severity and engine toggles, a rule, free text. Reads the cards'
// data-* attributes and text; writes nothing but their hidden flag and the count shown.
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  var chosen = { severity: new Set(), engine: new Set() };
  var rule = document.getElementById("filter-rule");
  var text = document.getElementById("filter-text");
  var shown = document.getElementById("filter-count");

  function matches(card) {
    for (var name in chosen) {
      if (chosen[name].size === 0) continue;
      var values = card.getAttribute("data-" + name).split(" ");
      if (!values.some(function (value) { return chosen[name].has(value); })) return false;
    }
    if (rule.value && card.getAttribute("data-rule").split(" ").indexOf(rule.value) < 0) return false;
    var wanted = text.value.trim().toLowerCase();
    return !wanted || card.textContent.toLowerCase().indexOf(wanted) >= 0;
  }

  function apply() {
    var visible = 0;
    cards.forEach(function (card) {
      var show = matches(card);
      card.hidden = !show;
      if (show) visible += 1;
    });
    shown.textContent = visible + " of " + cards.length + " shown";
  }

  document.querySelectorAll("button[data-filter]").forEach(function (button) {
    button.addEventListener("click", function () {
      var values = chosen[button.getAttribute("data-filter")];
      var value = button.getAttribute("data-value");
      if (values.has(value)) values.delete(value); else values.add(value);
      button.setAttribute("aria-pressed", values.has(value) ? "true" : "false");
      apply();
    });
  });
  document.getElementById("filter-clear").addEventListener("click", function () {
    Object.keys(chosen).forEach(function (name) { chosen[name].clear(); });
    document.querySelectorAll("button[data-filter]").forEach(function (button) {
      button.setAttribute("aria-pressed", "false");
    });
    rule.value = "";
    text.value = "";
    apply();
  });
  rule.addEventListener("change", apply);
  text.addEventListener("input", apply);
  apply();
})();
