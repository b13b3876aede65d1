// The area map: the area's boundary and its children's, on configured tiles or a plain background.
(function () {
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const m = wanggeMap.create(el);
  const map = m.map;
  const project = m.gcj ? (c) => m.toMap(c[0], c[1]) : null;
  fetch(el.dataset.geojson, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      const layer = L.geoJSON(data, {
        coordsToLatLng: project || L.GeoJSON.coordsToLatLng,
        style: (f) => f.properties.self
          ? { color: "#c0392b", weight: 3, fill: false }
          : { color: "#2563eb", weight: 1, fillOpacity: 0.08, dashArray: f.properties.generated ? "4" : null },
        onEachFeature: (f, l) => {
          if (!f.properties.self) {
            // Named on the map itself (no base tiles needed to know where one is); the labels
            // appear once the map has zoomed in far enough for them not to pile up.
            l.bindTooltip(wanggeMap.text(f.properties.name), { permanent: true, direction: "center", className: "area-label" });
            l.on("dblclick", () => { window.location = "/areas/" + f.properties.code + "/"; });
          }
        },
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else m.home(); // the city's own extent
      const children = data.features.filter((f) => !f.properties.self).length;
      function labels() { el.classList.toggle("labels-hidden", children > 12 && map.getZoom() < 12); }
      map.on("zoomend", labels);
      labels();
      el.dataset.loaded = String(data.features.length);
    });

  // Click → which grid is this? (the API answers in WGS-84.)
  const result = document.getElementById("locate-result");
  map.on("click", (e) => {
    const { lat, lng } = m.fromMap(e.latlng);
    fetch(el.dataset.locate + "?lat=" + lat.toFixed(6) + "&lng=" + lng.toFixed(6), { credentials: "same-origin" })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
      .then(({ ok, body }) => {
        result.textContent = ok ? body.name + " (" + body.code + ")" : body.detail;
        result.dataset.code = ok ? body.code : "";
      });
  });
})();
