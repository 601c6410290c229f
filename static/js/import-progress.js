// Live progress of an import: polls the import's JSON endpoint and updates the page in place.
(function () {
  "use strict";
  var root = document.querySelector("[data-import-progress]");
  if (!root) return;
  var url = root.getAttribute("data-import-progress");
  var bar = root.querySelector(".progress");
  var fill = bar.querySelector("rect");
  var numbers = new Intl.NumberFormat();

  function show(selector, visible) {
    root.querySelectorAll(selector).forEach(function (el) { el.hidden = !visible; });
  }

  function render(data) {
    fill.setAttribute("width", data.percent + "%");
    bar.setAttribute("aria-valuenow", String(data.percent));
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var value = data[el.getAttribute("data-field")];
      el.textContent = typeof value === "number" ? numbers.format(value) : (value || "");
    });
    var badge = root.querySelector(".badge");
    badge.className = "badge badge-" + data.status;
    show("[data-field=error]", Boolean(data.error));
    show("[data-show-when=rejected]", data.rejected > 0);
    show("[data-show-when=finished]", data.finished);
    show("[data-show-when=stalled]", data.stalled);
    show("[data-hide-when=finished]", !data.finished);
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (!data.finished) window.setTimeout(poll, data.stalled ? 5000 : 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });  // server restarting: keep trying
  }

  if (root.getAttribute("data-finished") !== "true") poll();
})();
