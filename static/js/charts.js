// Throughput charts drawn with the vendored uPlot (static/vendor/uplot): messages per minute,
// sent / deferred / bounced, over time. EdmCharts.throughput(element, data) draws one and
// returns {update(data)}; data is the columns the server sends: {x: [epoch seconds], sent: [],
// deferred: [], bounced: []}.
(function () {
  "use strict";

  var SERIES = [
    { key: "sent", label: "Sent", stroke: "#2454d6", fill: "rgba(36, 84, 214, 0.35)", bars: true },
    { key: "deferred", label: "Deferred", stroke: "#b76e00" },
    { key: "bounced", label: "Bounced", stroke: "#c4312b" },
  ];
  var numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
  var MIN_SPAN = 600; // seconds

  function columns(data) {
    return [data.x].concat(SERIES.map(function (s) { return data[s.key]; }));
  }

  function options(element, height) {
    return {
      width: Math.max(element.clientWidth, 280),
      height: height,
      scales: {
        // At least ten minutes wide: uPlot spreads a single point over a wide range.
        x: { time: true, range: function (u, min, max) {
          if (u.data[0].length === 1) min = max = u.data[0][0];
          return max - min < MIN_SPAN ? [min - 60, min - 60 + MIN_SPAN] : [min, max];
        } },
        y: { range: function (u, min, max) { return [0, Math.max(max, 1)]; } },
      },
      axes: [
        { stroke: "#667085", grid: { stroke: "#eef0f4" } },
        { stroke: "#667085", grid: { stroke: "#eef0f4" }, size: 60,
          values: function (u, ticks) { return ticks.map(function (v) { return numbers.format(v); }); } },
      ],
      series: [{}].concat(SERIES.map(function (s) {
        return {
          label: s.label + " / min",
          stroke: s.stroke,
          fill: s.fill,
          width: s.bars ? 1 : 2,
          // Dots only where a line could not be seen: a chart of one or two minutes.
          points: { show: function (u) { return u.data[0].length < 3; } },
          paths: s.bars ? uPlot.paths.bars({ size: [0.7, 40] }) : undefined,
          value: function (u, v) { return v == null ? "—" : numbers.format(v); },
        };
      })),
    };
  }

  function throughput(element, data, height) {
    var empty = element.querySelector("[data-chart-empty]");
    var chart = null;

    function draw(next) {
      var hasData = next.x.length > 0;
      if (empty) empty.hidden = hasData;
      if (!hasData) return;
      if (chart) {
        chart.setData(columns(next));
      } else {
        chart = new uPlot(options(element, height || 220), columns(next), element);
      }
    }

    window.addEventListener("resize", function () {
      if (chart) chart.setSize({ width: Math.max(element.clientWidth, 280), height: chart.height });
    });
    draw(data);
    return { update: draw };
  }

  window.EdmCharts = { throughput: throughput };
})();
