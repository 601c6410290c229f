// The campaign report updates itself: every few seconds it fetches the live endpoint (JSON
// with the report's HTML regions and the chart's data) and swaps them in place. Once the
// campaign is finished or cancelled it keeps looking, slowly: bounces, complaints and
// unsubscribes still come in for days.
(function () {
  "use strict";
  var root = document.querySelector("[data-report-live]");
  if (!root) return;
  var url = root.getAttribute("data-report-live");
  var EVERY = 2000; // ms between updates while the campaign may send
  var EVERY_FINAL = 20000; // ms between updates once it is over
  var chartElement = document.getElementById("throughput-chart");
  var chart = window.EdmCharts.throughput(
    chartElement, JSON.parse(document.getElementById("throughput-data").textContent)
  );

  function apply(data) {
    Object.keys(data.html).forEach(function (name) {
      var region = root.querySelector('[data-region="' + name + '"]');
      if (region) region.innerHTML = data.html[name];
    });
    chart.update(data.throughput);
    root.setAttribute("data-final", data.final ? "true" : "false");
    root.setAttribute("data-updated-at", data.at);
    // Other parts of the page (the engagement chart) update from the same data.
    root.dispatchEvent(new CustomEvent("report:update", { detail: data }));
  }

  function poll() {
    if (document.hidden) {
      window.setTimeout(poll, EVERY);
      return;
    }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        apply(data);
        window.setTimeout(poll, data.final ? EVERY_FINAL : EVERY);
      })
      .catch(function () { window.setTimeout(poll, EVERY * 3); }); // server restarting: keep trying
  }

  window.setTimeout(poll, root.getAttribute("data-final") === "true" ? EVERY_FINAL : EVERY);
})();
