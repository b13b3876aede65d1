// Case maps: the case's point on its page; on report forms, a map to pick the point (click or GPS).
(function () {
  if (!window.L || !window.wanggeMap) return;

  function showPoint() {
    const show = document.getElementById("casemap");
    if (!show || show.dataset.ready) return;
    show.dataset.ready = "1";
    const m = wanggeMap.create(show);
    const [lat, lng] = JSON.parse(show.dataset.point);
    L.circleMarker(m.toMap(lng, lat), { radius: 8, color: "#c0392b", fillOpacity: 0.8 }).addTo(m.map);
    m.map.setView(m.toMap(lng, lat), 16);
  }
  showPoint();
  document.addEventListener("htmx:afterSwap", showPoint); // the case body is swapped after an action

  const pick = document.getElementById("pickmap");
  if (!pick) return;
  const m = wanggeMap.create(pick);
  const latInput = document.querySelector("input[name=lat]");
  const lngInput = document.querySelector("input[name=lng]");
  const result = document.getElementById("pick-result");
  let marker = null;
  function place(lat, lng, note) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    if (marker) marker.remove();
    marker = L.marker(m.toMap(lng, lat)).addTo(m.map);
    result.textContent = note + " " + lat.toFixed(5) + ", " + lng.toFixed(5);
  }
  fetch(pick.dataset.outline)
    .then((r) => r.json())
    .then((data) => {
      const layer = L.geoJSON(data, {
        coordsToLatLng: m.gcj ? (c) => m.toMap(c[0], c[1]) : L.GeoJSON.coordsToLatLng,
        style: (f) => f.properties.self ? { color: "#c0392b", weight: 2, fill: false } : { color: "#2563eb", weight: 1, fillOpacity: 0.04 },
        onEachFeature: (f, l) => { if (!f.properties.self) l.bindTooltip(wanggeMap.text(f.properties.name)); },
      }).addTo(m.map);
      if (latInput.value && lngInput.value) {
        place(parseFloat(latInput.value), parseFloat(lngInput.value), "✓");
        m.map.setView(m.toMap(parseFloat(lngInput.value), parseFloat(latInput.value)), 15);
      } else if (layer.getBounds().isValid()) {
        m.map.fitBounds(layer.getBounds());
      }
      pick.dataset.loaded = "1";
    });
  m.map.on("click", (e) => { const p = m.fromMap(e.latlng); place(p.lat, p.lng, "✓"); });
  const gps = document.getElementById("use-gps");
  if (gps) gps.addEventListener("click", () => {
    if (!navigator.geolocation) { result.textContent = gps.dataset.unavailable || "GPS ✗"; return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => { place(pos.coords.latitude, pos.coords.longitude, "GPS ✓"); m.map.setView(m.toMap(pos.coords.longitude, pos.coords.latitude), 16); },
      (err) => { result.textContent = err.message; },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });
})();
