// The live audience count of the campaign editor and the segment page: as lists are ticked,
// a segment chosen or the audience builder's conditions change, the server counts the
// contacts (debounced; only the latest answer is shown). What is counted is the URL's: the
// campaign's audience (lists narrowed by the conditions), or a segment's matches.
(function () {
  "use strict";
  var box = document.querySelector("[data-audience]");
  if (!box) return;
  var output = box.querySelector("[data-audience-size]");
  var problems = box.querySelector("[data-audience-problems]");
  var form = box.closest("form");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var numbers = new Intl.NumberFormat();
  var asked = 0;
  var timer = null;

  function ticked(name) {
    return Array.prototype.map.call(
      box.querySelectorAll("input[name=" + name + "]:checked"),
      function (input) { return Number(input.value); }
    );
  }

  function show(data) {
    if (data.size !== undefined) {
      output.textContent = numbers.format(data.size);
      if (problems) problems.textContent = "";
      return;
    }
    output.textContent = "?";
    if (!problems) return;
    problems.textContent = Object.keys(data.problems || {}).map(function (path) {
      return path + ": " + data.problems[path].join("; ");
    }).join(" · ");
  }

  function count() {
    var definition = form.querySelector("textarea[name=definition]");
    var segment = box.querySelector("select[name=segment]");
    var body = {
      lists: ticked("lists"),
      exclusion_lists: ticked("exclusion_lists"),
      segment: segment && segment.value ? Number(segment.value) : null,
      definition: definition ? JSON.parse(definition.value || "null") : null,
    };
    var number = ++asked;
    fetch(box.getAttribute("data-audience"), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (number === asked) show(data); })
      .catch(function () { if (number === asked) output.textContent = "?"; });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(count, 300);
  }

  box.addEventListener("change", later);
  box.addEventListener("input", later);
  count();
})();
