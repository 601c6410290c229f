// The overview's last-hour throughput chart (data embedded in the page by the server).
(function () {
  "use strict";
  var element = document.getElementById("throughput-chart");
  if (!element) return;
  window.EdmCharts.throughput(
    element, JSON.parse(document.getElementById("throughput-data").textContent)
  );
})();
