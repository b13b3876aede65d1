// Dashboard and big-screen charts (ECharts, vendored). Every bar, slice and point opens the cases
// behind it (item.url, the case queue with the matching filters).
window.wanggeCharts = (function () {
  function chart(id, option, items, dark) {
    const el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    const c = echarts.getInstanceByDom(el) || echarts.init(el, dark ? "dark" : null);
    const seriesUrl = option.seriesUrl; // per series: which url of the item a click opens
    delete option.seriesUrl;
    if (dark) option.backgroundColor = "transparent";
    c.setOption(option, true);
    c.off("click");
    c.on("click", (p) => {
      const item = items && items[p.dataIndex];
      const url = item && ((seriesUrl && item[seriesUrl[p.seriesIndex]]) || item.url);
      if (url && !dark) window.location = url;
    });
    el.dataset.ready = "1";
    window.addEventListener("resize", () => c.resize());
    return c;
  }
  function daily(id, rows, L, dark) {
    return chart(id, {
      seriesUrl: ["url", "url", "overdue_url"], // the overdue bars open that day's overdue cases
      tooltip: { trigger: "axis" }, legend: { top: 0, data: [L.reported, L.finished, L.overdue] },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: rows.map((r) => r.day.slice(5)) }, yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: L.reported, type: "line", smooth: true, data: rows.map((r) => r.total) },
        { name: L.finished, type: "line", smooth: true, data: rows.map((r) => r.finished) },
        { name: L.overdue, type: "bar", data: rows.map((r) => r.overdue), itemStyle: { color: "#c0392b" } },
      ],
    }, rows, dark);
  }
  function channels(id, rows, dark) {
    return chart(id, {
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "68%"], data: rows.map((r) => ({ name: r.name, value: r.n })),
        label: { formatter: "{b}\n{c} ({d}%)" } }],
    }, rows, dark);
  }
  function categories(id, rows, dark) {
    const top = rows.slice().reverse();
    return chart(id, {
      tooltip: {}, grid: { left: 110, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: top.map((r) => r.name) },
      series: [{ type: "bar", data: top.map((r) => r.n), itemStyle: { color: "#2563eb" } }],
    }, top, dark);
  }
  function rates(id, rows, L) {
    return chart(id, {
      tooltip: { trigger: "axis" }, legend: { top: 0, data: [L.closure, L.ontime] },
      grid: { left: 40, right: 16, top: 36, bottom: 60 },
      xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: 40 } },
      yAxis: { type: "value", max: 100 },
      series: [
        { name: L.closure, type: "bar", data: rows.map((r) => r.closure_rate) },
        { name: L.ontime, type: "bar", data: rows.map((r) => r.on_time_rate) },
      ],
    }, rows);
  }
  function dashboard(data, L) {
    daily("chart-daily", data.daily, L);
    channels("chart-channels", data.channels);
    categories("chart-categories", data.categories);
    rates("chart-areas", data.areas, L);
    rates("chart-departments", data.departments, L);
  }

  function screen(el) {
    const L = el.dataset;
    const mapEl = document.getElementById("screen-map");
    const cm = wanggeCommandMap(mapEl, { bare: true });
    cm.loadArea(mapEl.dataset.area, mapEl.dataset.path);
    const set = (id, v, suffix) => { document.getElementById(id).textContent = v == null ? "—" : v + (suffix || ""); };
    function load() {
      const base = el.dataset.figures + "?area=" + el.dataset.area;
      Promise.all([fetch(base + "&period=today", { credentials: "same-origin" }).then((r) => r.json()),
                   fetch(base + "&period=month", { credentials: "same-origin" }).then((r) => r.json())])
        .then(([today, month]) => {
          set("k-today-total", today.summary.total); set("k-today-open", today.summary.open);
          set("k-today-finished", today.summary.finished); set("k-overdue-now", month.overdue.length);
          set("k-month-total", month.summary.total); set("k-month-closure", month.summary.closure_rate, "%");
          set("k-month-ontime", month.summary.on_time_rate, "%"); set("k-month-satisfaction", month.summary.satisfaction);
          channels("s-channels", month.channels, true); categories("s-categories", month.categories, true);
          daily("s-daily", month.daily, L, true);
          el.dataset.loaded = String(Date.now());
        });
    }
    load();
    setInterval(load, 60000); // figures move with the worker's refresh too, not only with events
    let timer = null;
    const ticker = document.getElementById("ticker");
    wanggeLive(el.dataset.live, {
      any: (c, kind) => {
        if (kind === "reset") { cm.loadCases(); load(); return; }
        if (!cm.inArea(c)) return;
        cm.upsert(c, kind === "case.created");
        const li = document.createElement("li");
        li.className = "fresh";
        li.textContent = c.created_at.slice(11, 16) + " " + (c.number || "") + " " + (c.area || "") + " " + (c.category || c.summary || "");
        ticker.prepend(li);
        while (ticker.children.length > 14) ticker.lastChild.remove();
        clearTimeout(timer); timer = setTimeout(load, 2000);
      },
    }, document.getElementById("live-state"), {});
    setInterval(() => {
      const now = new Date();
      document.getElementById("clock").textContent = now.toLocaleString("zh-CN", { hour12: false });
    }, 1000);
  }
  return { dashboard: dashboard, screen: screen };
})();

// Each page starts its charts from its own data block (no inline script: the CSP forbids it).
(function () {
  const data = document.getElementById("dashboard-data");
  if (data) wanggeCharts.dashboard(JSON.parse(data.textContent), document.getElementById("chart-labels").dataset);
  const screen = document.getElementById("screen");
  if (screen) wanggeCharts.screen(screen);
})();
