// The campaign editor's audience size, counted by the server as target and exclusion lists
// are ticked and a segment chosen: distinct contacts who would receive the campaign if it
// started now.
(function () {
  "use strict";
  var box = document.querySelector("[data-audience]");
  if (!box) return;
  var output = box.querySelector("[data-audience-size]");
  var numbers = new Intl.NumberFormat();
  var asked = 0;
  var timer = null;

  function ticked(name) {
    return Array.prototype.map.call(
      box.querySelectorAll("input[name=" + name + "]:checked"),
      function (input) { return input.value; }
    );
  }

  function count() {
    var params = new URLSearchParams();
    ticked("lists").forEach(function (id) { params.append("list", id); });
    ticked("exclusion_lists").forEach(function (id) { params.append("exclude", id); });
    var segment = box.querySelector("select[name=segment]");
    if (segment && segment.value) params.append("segment", segment.value);
    var number = ++asked;
    fetch(box.getAttribute("data-audience") + "?" + params.toString(), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (number === asked) output.textContent = numbers.format(data.size);
      })
      .catch(function () { output.textContent = "?"; });
  }

  box.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(count, 200);
  });
  count();
})();
