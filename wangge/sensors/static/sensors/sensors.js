// Sensor pages: the list's map of the page's sensors, coloured by state, and a sensor's readings
// chart (ECharts) with its threshold as a mark line. Times arrive as Asia/Shanghai wall-clock text.
(function () {
  const COLORS = { alarm: "#c0392b", silent: "#d97706", normal: "#16a34a", inactive: "#9ca3af" };

  const mapEl = document.getElementById("sensor-map");
  if (mapEl && window.L && window.wanggeMap) {
    const m = wanggeMap.create(mapEl);
    const points = JSON.parse(document.getElementById("sensor-points").textContent);
    const layer = L.featureGroup();
    points.forEach((p) => {
      L.circleMarker(m.toMap(p.lng, p.lat), { radius: 7, weight: 2, color: "#fff", fillColor: COLORS[p.state], fillOpacity: 0.9 })
        .bindTooltip(wanggeMap.text(p.code + " " + p.name))
        .on("click", () => { window.location = p.url; })
        .addTo(layer);
    });
    layer.addTo(m.map);
    if (points.length) m.map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 16 });
    else m.home(); // the city's own extent
    mapEl.dataset.loaded = String(points.length);
    // The area's boundaries under the dots, for orientation (the same GeoJSON as the area page).
    if (mapEl.dataset.geojson) {
      fetch(mapEl.dataset.geojson, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : { features: [] }))
        .then((data) => {
          L.geoJSON(data, {
            coordsToLatLng: m.gcj ? (c) => m.toMap(c[0], c[1]) : L.GeoJSON.coordsToLatLng,
            style: (f) => (f.properties.self ? { color: "#1d4ed8", weight: 2, fill: false }
              : { color: "#64748b", weight: 1, fillOpacity: 0.03, dashArray: f.properties.generated ? "4" : null }),
            interactive: false,
          }).addTo(m.map);
          layer.bringToFront();
        });
    }
  }

  const chartEl = document.getElementById("sensor-chart");
  if (chartEl && window.echarts) {
    const data = JSON.parse(document.getElementById("sensor-chart-data").textContent);
    const labels = chartEl.dataset;  // translated series names
    const values = data.points.map((p) => p[1]).concat([data.threshold]);
    const low = Math.min.apply(null, values), high = Math.max.apply(null, values);
    // The axis holds the readings and the threshold, on round steps.
    const step = Math.pow(10, Math.floor(Math.log10((high - low) || Math.abs(high) || 1))) / 2;
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    const axisMin = +(Math.floor(low / step - 0.2) * step).toFixed(digits);
    const axisMax = +(Math.ceil(high / step + 0.2) * step).toFixed(digits);
    const chart = echarts.init(chartEl);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0, data: [labels.value, labels.alarm] },
      grid: { left: 56, right: 72, top: 36, bottom: 32 },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: data.metric, min: axisMin, max: axisMax },
      series: [
        {
          name: labels.value, type: "line", showSymbol: false, data: data.points.map((p) => [p[0], p[1]]),
          lineStyle: { width: 1.5 }, itemStyle: { color: "#2563eb" },
          markLine: {
            symbol: "none", silent: true, lineStyle: { color: COLORS.alarm, type: "dashed" },
            label: { formatter: labels.threshold + " {c}" }, data: [{ yAxis: data.threshold }],
          },
        },
        {
          name: labels.alarm, type: "scatter", symbolSize: 7, itemStyle: { color: COLORS.alarm },
          data: data.points.filter((p) => p[2]).map((p) => [p[0], p[1]]),
        },
      ],
    });
    window.addEventListener("resize", () => chart.resize());
    chartEl.dataset.ready = "1";
  }
})();
