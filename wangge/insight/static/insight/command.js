// The command map: boundaries with drill-down, open cases (clustered; cells from the server when
// many), recurring spots, field workers' last positions (from the field app), live updates.
window.wanggeCommandMap = function (el, options) {
  options = options || {};
  const m = wanggeMap.create(el, { doubleClickZoom: false, maxZoom: 19 });
  const map = m.map;
  const project = m.gcj ? (c) => m.toMap(c[0], c[1]) : L.GeoJSON.coordsToLatLng;
  const state = { area: el.dataset.area, path: el.dataset.path, kind: "points" };
  const boundaries = L.featureGroup().addTo(map);
  const cases = L.markerClusterGroup({ maxClusterRadius: 40, disableClusteringAtZoom: 17, showCoverageOnHover: false });
  const cells = L.layerGroup();
  const caseLayers = L.layerGroup([cases, cells]).addTo(map);
  const spots = L.layerGroup().addTo(map);
  const workers = L.layerGroup().addTo(map); // last positions; moved by "worker.position" events
  const markers = new Map();
  const workerMarkers = new Map();
  function placeWorker(w) {
    const ll = m.toMap(w.lng, w.lat);
    const dot = () => wanggeMap.div("worker-dot" + (w.on_duty === false ? " off" : ""), { worker: w.username });
    let marker = workerMarkers.get(w.username);
    if (!marker) {
      marker = L.marker(ll, { icon: L.divIcon({ className: "", html: dot(), iconSize: [14, 14] }) }).addTo(workers);
      workerMarkers.set(w.username, marker);
    } else {
      marker.setLatLng(ll);
      marker.setIcon(L.divIcon({ className: "", html: dot(), iconSize: [14, 14] }));
    }
    marker.bindTooltip(wanggeMap.text(w.name + " · " + (w.at || "").slice(11, 16)));
  }
  if (el.dataset.positions) {
    fetch(el.dataset.positions, { credentials: "same-origin" }).then((r) => r.json()).then((list) => list.forEach(placeWorker)).catch(() => {});
  }
  // Heat map of the cases reported in a period, of a category: bins counted by the server
  // (/api/v1/insight/heat, the user's jurisdiction only); off until toggled in the layers control.
  const heatForm = options.heatForm || null;
  // maxZoom 0: full weight at every zoom (the plugin fades points below its maxZoom); the layers
  // control disables a layer above its maxZoom, so the control holds a group around the layer.
  const heat = el.dataset.heat && L.heatLayer ? L.heatLayer([], { radius: 25, blur: 18, maxZoom: 0, minOpacity: 0.35 }) : null;
  const heatGroup = heat ? L.layerGroup([heat]) : null;
  function loadHeat() {
    if (!heat || !map.hasLayer(heat)) return;
    const q = new URLSearchParams({ area: state.area });
    if (heatForm) new FormData(heatForm).forEach((v, k) => q.set(k, v));
    fetch(el.dataset.heat + "?" + q, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        const max = Math.max(data.max || 0, 1);
        heat.setOptions({ max: max });
        heat.setLatLngs((data.points || []).map((p) => { const ll = m.toMap(p[1], p[0]); return [ll.lat, ll.lng, p[2]]; }));
        el.dataset.heatCount = String(data.count || 0);
        el.dataset.heatBins = String((data.points || []).length);
        const counter = document.getElementById("heat-count");
        if (counter) counter.textContent = String(data.count || 0);
      })
      .catch(() => {});
  }
  if (!options.bare) {
    const overlays = {
      [el.dataset.labelBoundaries]: boundaries,
      [el.dataset.labelCases]: caseLayers,
      [el.dataset.labelSpots]: spots,
      [el.dataset.labelWorkers]: workers,
    };
    if (heat) overlays[el.dataset.labelHeat] = heatGroup;
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
  }
  if (heat) {
    map.on("overlayadd", (e) => { if (e.layer === heatGroup) { if (heatForm) heatForm.hidden = false; el.dataset.heat_on = "1"; loadHeat(); } });
    map.on("overlayremove", (e) => { if (e.layer === heatGroup) { if (heatForm) heatForm.hidden = true; delete el.dataset.heat_on; delete el.dataset.heatCount; } });
    if (heatForm) heatForm.addEventListener("change", loadHeat);
  }

  function icon(c, fresh) {
    const cls = "case-dot " + c.status + (c.overdue ? " overdue" : "") + (fresh ? " fresh" : "");
    return L.divIcon({ className: "", html: wanggeMap.div(cls, { id: c.id, status: c.status }), iconSize: [16, 16] });
  }
  function addMarker(c, fresh) {
    const old = markers.get(c.id);
    if (old) cases.removeLayer(old);
    const marker = L.marker(m.toMap(c.lng, c.lat), { icon: icon(c, fresh), title: c.number });
    marker.bindTooltip(wanggeMap.text((c.number || "") + " " + (c.category || "")));
    marker.on("click", () => options.onCase && options.onCase(c.id));
    markers.set(c.id, marker);
    cases.addLayer(marker);
  }
  function removeMarker(id) {
    const old = markers.get(id);
    if (old) { cases.removeLayer(old); markers.delete(id); }
  }

  function bbox() {
    const b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",");
  }
  let loading = null;
  function loadCases() {
    if (!map.getBounds().isValid()) return;
    if (loading) loading.abort();
    loading = new AbortController();
    const url = el.dataset.cases + "?bbox=" + bbox() + "&area=" + state.area;
    fetch(url, { credentials: "same-origin", signal: loading.signal })
      .then((r) => r.json())
      .then((data) => {
        state.kind = data.kind;
        cases.clearLayers(); markers.clear(); cells.clearLayers();
        if (data.kind === "points") data.points.forEach((c) => addMarker(c, false));
        else data.cells.forEach((c) => {
          const size = Math.min(60, 22 + Math.round(Math.sqrt(c.n) * 2));
          const count = wanggeMap.div("cell-count" + (c.overdue ? " has-overdue" : ""));
          count.style.width = count.style.height = size + "px";
          count.textContent = String(c.n);
          L.marker(m.toMap(c.lng, c.lat), { icon: L.divIcon({ className: "", iconSize: [size, size], html: count }) })
            .on("click", (e) => map.setView(e.latlng, map.getZoom() + 2)).addTo(cells);
        });
        el.dataset.cases_loaded = String(data.count);
        el.setAttribute("data-count", String(data.count));
      })
      .catch(() => {});
  }
  let timer = null;
  map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(loadCases, 150); });

  function loadSpots() {
    if (!el.dataset.spots) return;
    fetch(el.dataset.spots + "?area=" + state.area, { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        spots.clearLayers();
        (data.spots || []).forEach((s) => {
          L.circle(m.toMap(s.lng, s.lat), { radius: options.spotRadius || 100, color: "#f97316", weight: 2, fillOpacity: 0.25 })
            .bindTooltip(wanggeMap.text(s.category + " × " + s.count + " · " + s.area)).addTo(spots);
        });
      });
  }

  function loadArea(code, path, fit) {
    state.area = code; state.path = path;
    return fetch("/areas/" + code + "/geojson/", { credentials: "same-origin" })
      .then((r) => r.json())
      .then((data) => {
        boundaries.clearLayers();
        L.geoJSON(data, {
          coordsToLatLng: project,
          style: (f) => f.properties.self ? { color: "#c0392b", weight: 3, fill: false }
            : { color: "#2563eb", weight: 1, fillOpacity: 0.05, dashArray: f.properties.generated ? "4" : null },
          onEachFeature: (f, l) => {
            if (f.properties.self) return;
            l.bindTooltip(wanggeMap.text(f.properties.name), { sticky: true });
            l.on("dblclick", () => options.onDrill && options.onDrill(f.properties.code, path + f.properties.code + "/", f.properties.name));
          },
        }).addTo(boundaries);
        if (fit !== false && boundaries.getBounds().isValid()) map.fitBounds(boundaries.getBounds(), { padding: [10, 10] });
        else if (!boundaries.getBounds().isValid()) m.home(); // the city's own extent
        el.dataset.loaded = code;
        loadCases();
        loadSpots();
        loadHeat();
      });
  }

  return {
    map: map, state: state, loadArea: loadArea, loadCases: loadCases, loadHeat: loadHeat, heat: heat, markers: markers,
    inArea: (c) => (c.area_path || "").startsWith(state.path),
    upsert: (c, fresh) => {
      const open = ["reported", "registered", "handling", "verifying"].includes(c.status);
      if (!open) { removeMarker(c.id); return; }
      if (state.kind === "points" && c.lat != null) addMarker(c, fresh);
      else loadCases();
    },
    workers: workers,
    placeWorker: placeWorker,
  };
};

(function () {
  const el = document.getElementById("command-map");
  if (!el || !window.L) return;
  const panel = document.getElementById("case-panel");
  function showCase(id) {
    htmx.ajax("GET", el.dataset.panel + id + "/", { target: "#case-panel" });
    document.querySelectorAll("ul.board li.selected").forEach((li) => li.classList.remove("selected"));
    const li = document.querySelector('ul.board li[data-case-id="' + id + '"]');
    if (li) li.classList.add("selected");
  }
  let boardTimer = null;
  function refreshBoard(freshId) {
    clearTimeout(boardTimer);
    boardTimer = setTimeout(() => {
      htmx.ajax("GET", el.dataset.board + "?area=" + cm.state.area, { target: "#board" }).then(() => {
        if (freshId) {
          const li = document.querySelector('ul.board li[data-case-id="' + freshId + '"]');
          if (li) li.classList.add("fresh");
        }
      });
    }, 300);
  }
  function toast(text) {
    const t = document.createElement("div");
    t.className = "toast"; t.textContent = text; document.body.appendChild(t);
    setTimeout(() => t.remove(), 4000);
  }
  const crumbs = document.getElementById("crumbs");
  const cm = wanggeCommandMap(el, {
    heatForm: document.getElementById("heat-filters"),
    onCase: showCase,
    onDrill: (code, path, name) => {
      const current = document.getElementById("crumb-current");
      const link = document.createElement("a");
      link.href = "?area=" + current.dataset.code; link.textContent = current.textContent;
      current.replaceWith(link); link.insertAdjacentText("afterend", " ›");
      const b = document.createElement("b"); b.id = "crumb-current"; b.dataset.code = code; b.textContent = name;
      link.nextSibling.after(b);
      history.replaceState(null, "", "?area=" + code);
      cm.loadArea(code, path).then(() => refreshBoard());
    },
  });
  cm.loadArea(el.dataset.area, el.dataset.path);
  // A case panel that changed the case (dispatch, escalate): refresh the list and the marker.
  document.body.addEventListener("htmx:afterSwap", (e) => {
    if (e.target === panel && panel.querySelector("[data-case-id]") && panel.querySelector(".message")) refreshBoard();
  });
  wanggeLive(el.dataset.live, {
    "case.created": (c) => {
      if (!cm.inArea(c)) return;
      cm.upsert(c, true); refreshBoard(c.id);
      toast(el.dataset.labelNew + " " + c.number + " · " + (c.category || c.summary || ""));
    },
    "case.changed": (c) => {
      if (!cm.inArea(c)) return;
      cm.upsert(c, false); refreshBoard();
      const open = panel.querySelector("#panel-body");
      if (open && open.dataset.caseId === String(c.id) && open.dataset.version !== String(c.version)) showCase(c.id);
    },
    "worker.position": (w) => cm.placeWorker(Object.assign({ on_duty: true }, w)),
    reset: () => { cm.loadCases(); refreshBoard(); },
  }, document.getElementById("live-state"), el.dataset);
  window.wanggeCommand = cm;
})();
