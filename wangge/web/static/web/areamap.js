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
            l.bindTooltip(wanggeMap.text(f.properties.name));
            l.on("dblclick", () => { window.location = "/areas/" + f.properties.code + "/"; });
          }
        },
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else m.home(); // the city's own extent
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
