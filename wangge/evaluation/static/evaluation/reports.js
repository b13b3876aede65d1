// Evaluation report pages: a subject's score over the last 12 periods (ECharts line; drafts drawn
// hollow), and the print page's button. Data only from json_script / data- attributes (CSP).
(function () {
  const chartEl = document.getElementById("score-chart");
  if (chartEl && window.echarts) {
    const data = JSON.parse(document.getElementById("score-chart-data").textContent);
    const labels = chartEl.dataset;
    const chart = echarts.init(chartEl);
    chart.setOption({
      tooltip: {
        trigger: "axis",
        formatter: (items) => {
          const p = items[0];
          if (p.value === null || p.value === undefined) return p.name + ": —";
          const draft = data.published[p.dataIndex] ? "" : " (" + labels.draft + ")";
          return p.name + ": " + p.value + draft;
        },
      },
      grid: { left: 48, right: 24, top: 24, bottom: 48 },
      xAxis: { type: "category", data: data.periods, axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: (v) => (isFinite(v.max) ? Math.max(100, Math.ceil(v.max / 10) * 10) : 100) },
      series: [{
        name: labels.score, type: "line", connectNulls: false, symbolSize: 8,
        data: data.scores.map((s, i) => ({
          value: s, itemStyle: data.published[i] ? { color: "#1d4ed8" } : { color: "#fff", borderColor: "#d97706", borderWidth: 2 },
        })),
        lineStyle: { color: "#1d4ed8" },
      }],
    });
    window.addEventListener("resize", () => chart.resize());
    chartEl.dataset.ready = "1";
  }

  const printButton = document.querySelector("[data-print]");
  if (printButton) printButton.addEventListener("click", () => window.print());
})();
