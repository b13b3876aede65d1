// Towns, villages and grids with their names as the user zooms in, so a map without any base tiles
// still says where one is. Boundaries come simplified from /report/areas.geojson (public, by view).
window.wanggeAreas = (function () {
  const LEVELS = [
    // level, shown from this zoom, labels from this zoom, style
    { level: "town", min: 0, labels: 10, style: { color: "#2563eb", weight: 1.5, fillOpacity: 0.03 } },
    { level: "village", min: 13, labels: 13, style: { color: "#b45309", weight: 1, fillOpacity: 0, dashArray: "4" } },
    { level: "grid", min: 15, labels: 15, style: { color: "#64748b", weight: 0.8, fillOpacity: 0, dashArray: "2 3" } },
  ];

  // m: a wanggeMap.create() result; url: the areas endpoint; towns: a FeatureCollection already
  // loaded (the outline), or null to load towns by view as well.
  function attach(m, url, towns) {
    const map = m.map;
    const state = {};
    LEVELS.forEach((l) => {
      state[l.level] = { shapes: L.layerGroup(), labels: L.layerGroup(), seen: new Set(), conf: l };
    });
    function add(level, data) {
      const s = state[level];
      data.features.forEach((f) => {
        if (s.seen.has(f.properties.code)) return;
        s.seen.add(f.properties.code);
        L.geoJSON(f, { coordsToLatLng: m.coords, style: s.conf.style, interactive: false }).addTo(s.shapes);
        const at = f.properties.label;
        if (at && at[0] != null) {
          L.tooltip({ permanent: true, direction: "center", className: "area-label " + level, interactive: false })
            .setLatLng(m.toMap(at[1], at[0]))
            .setContent(wanggeMap.text(f.properties.name))
            .addTo(s.labels);
        }
      });
    }
    if (towns) add("town", { features: towns.features.filter((f) => !f.properties.self) });
    let timer = null;
    function refresh() {
      const zoom = map.getZoom();
      const b = map.getBounds().pad(0.3);
      const sw = m.fromMap(b.getSouthWest()), ne = m.fromMap(b.getNorthEast());
      const bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(5)).join(",");
      LEVELS.forEach((l) => {
        const s = state[l.level];
        const show = zoom >= l.min;
        if (show && !map.hasLayer(s.shapes)) s.shapes.addTo(map);
        if (!show && map.hasLayer(s.shapes)) s.shapes.remove();
        const labels = zoom >= l.labels && !(l.level === "town" && zoom >= 13) && !(l.level === "village" && zoom >= 16);
        if (labels && !map.hasLayer(s.labels)) s.labels.addTo(map);
        if (!labels && map.hasLayer(s.labels)) s.labels.remove();
        if (show && !(l.level === "town" && towns)) {
          fetch(url + "?level=" + l.level + "&bbox=" + bbox)
            .then((r) => (r.ok ? r.json() : { features: [] }))
            .then((data) => { add(l.level, data); map.getContainer().dataset["areas" + l.level] = String(s.seen.size); });
        }
      });
      map.getContainer().dataset.zoom = String(zoom);
    }
    map.on("moveend", () => { clearTimeout(timer); timer = setTimeout(refresh, 150); });
    refresh();
    return state;
  }
  return { attach: attach };
})();
