// The report's opens and clicks by people per hour since sending, drawn with the vendored
// uPlot. It reads its first data from the page (json_script "engagement-data") and follows
// the live report: campaign-report.js dispatches "report:update" with each JSON it fetches.
(function () {
  "use strict";
  var root = document.querySelector("[data-report-live]");
  var element = document.getElementById("engagement-chart");
  var source = document.getElementById("engagement-data");
  if (!root || !element || !source) return;

  var SERIES = [
    { key: "opens", label: "Opens", stroke: "#2454d6", fill: "rgba(36, 84, 214, 0.25)" },
    { key: "clicks", label: "Clicks", stroke: "#1a7f37", fill: "rgba(26, 127, 55, 0.25)" },
  ];
  var empty = element.querySelector("[data-chart-empty]");
  var chart = null;

  function columns(data) {
    return [data.x].concat(SERIES.map(function (s) { return data[s.key]; }));
  }

  function options() {
    return {
      width: Math.max(element.clientWidth, 280),
      height: 220,
      scales: {
        x: { time: false, range: function (u, min, max) { return [0, Math.max(max + 1, 12)]; } },
        y: { range: function (u, min, max) { return [0, Math.max(max, 1)]; } },
      },
      axes: [
        { stroke: "#667085", grid: { stroke: "#eef0f4" }, label: "hours since sending",
          values: function (u, ticks) { return ticks.map(function (v) { return v + " h"; }); } },
        { stroke: "#667085", grid: { stroke: "#eef0f4" }, size: 60 },
      ],
      series: [{ label: "Hour", value: function (u, v) { return v == null ? "—" : v + " h"; } }]
        .concat(SERIES.map(function (s) {
          return {
            label: s.label, stroke: s.stroke, fill: s.fill, width: 2,
            points: { show: function (u) { return u.data[0].length < 3; } },
            paths: uPlot.paths.bars({ size: [0.8, 30] }),
          };
        })),
    };
  }

  function draw(data) {
    var hasData = data.x.length > 0;
    element.setAttribute("data-points", String(data.x.length));
    if (empty) empty.hidden = hasData;
    if (!hasData) return;
    if (chart) chart.setData(columns(data));
    else chart = new uPlot(options(), columns(data), element);
  }

  root.addEventListener("report:update", function (event) {
    if (event.detail.engagement_chart) draw(event.detail.engagement_chart);
  });
  window.addEventListener("resize", function () {
    if (chart) chart.setSize({ width: Math.max(element.clientWidth, 280), height: chart.height });
  });
  draw(JSON.parse(source.textContent));
})();
