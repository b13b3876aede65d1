// Evaluation report pages: a subject's score over the last 12 periods (ECharts line; drafts drawn
// hollow), and the print page's button. Data only from json_script / data- attributes (CSP).
(function () {
  const chartEl = document.getElementById("score-chart");
  if (chartEl && window.echarts) {
    const data = JSON.parse(document.getElementById("score-chart-data").textContent);
    const labels = chartEl.dataset;
    const chart = echarts.init(chartEl);
    // The line joins neighbouring periods; the points are scatter series, so that a period between
    // two empty ones still shows (published solid, drafts and live scores hollow).
    const points = (published) => data.scores
      .map((s, i) => [data.periods[i], s, data.published[i]])
      .filter((p) => p[1] !== null && p[2] === published)
      .map((p) => [p[0], p[1]]);
    chart.setOption({
      animationDuration: 300,
      tooltip: {
        trigger: "item",
        formatter: (p) => p.value[0] + ": " + p.value[1] + (p.seriesIndex === 2 ? " (" + labels.draft + ")" : ""),
      },
      grid: { left: 48, right: 24, top: 24, bottom: 64 },
      xAxis: { type: "category", data: data.periods, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: (v) => (isFinite(v.max) ? Math.max(100, Math.ceil(v.max / 10) * 10) : 100) },
      series: [
        { name: labels.score, type: "line", data: data.scores, connectNulls: false, showSymbol: false,
          silent: true, lineStyle: { color: "#1d4ed8" } },
        { name: labels.score, type: "scatter", symbolSize: 9, data: points(true), itemStyle: { color: "#1d4ed8" } },
        { name: labels.draft, type: "scatter", symbolSize: 9, data: points(false),
          itemStyle: { color: "#fff", borderColor: "#d97706", borderWidth: 2 } },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
    chartEl.dataset.ready = "1";
  }

  const printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", () => window.print());
})();
