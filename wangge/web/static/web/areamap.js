// The area map: the area's boundary and its children's, on configured tiles or a plain background.
// Data is WGS-84; GCJ-02 tiles (AMap) need points shifted, done here for display only.
(function () {
  const el = document.getElementById("map");
  if (!el || !window.L) return;
  const gcj = el.dataset.tileCrs === "gcj02";
  const map = L.map(el, { attributionControl: !!el.dataset.tileUrl });
  if (el.dataset.tileUrl) {
    L.tileLayer(el.dataset.tileUrl, { attribution: el.dataset.tileAttribution, maxZoom: 19 }).addTo(map);
  } else {
    el.classList.add("plain"); // no tile source: boundaries on a plain background (offline networks)
  }

  // WGS-84 → GCJ-02 (same formula as wangge/areas/coords.py), only when tiles are GCJ-02.
  function toGcj(lng, lat) {
    const a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    function tLat(x, y) {
      let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
      r += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
      r += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
      return r;
    }
    function tLng(x, y) {
      let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
      r += (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
      r += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
      r += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
      return r;
    }
    let dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    const rad = lat / 180 * PI, magic = 1 - ee * Math.sin(rad) ** 2, sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * PI);
    dLng = (dLng * 180) / (a / sq * Math.cos(rad) * PI);
    return [lng + dLng, lat + dLat];
  }
  const project = gcj ? (c) => { const p = toGcj(c[0], c[1]); return L.latLng(p[1], p[0]); } : null;

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
            l.bindTooltip(f.properties.name);
            l.on("dblclick", () => { window.location = "/areas/" + f.properties.code + "/"; });
          }
        },
      }).addTo(map);
      if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
      else map.setView([23.02, 113.75], 10);
      el.dataset.loaded = String(data.features.length);
    });

  // Click → which grid is this? (the API answers in WGS-84; with GCJ tiles the click is shifted back
  // approximately by subtracting the local offset.)
  const result = document.getElementById("locate-result");
  map.on("click", (e) => {
    let lat = e.latlng.lat, lng = e.latlng.lng;
    if (gcj) { const p = toGcj(lng, lat); lng -= p[0] - lng; lat -= p[1] - lat; }
    fetch(el.dataset.locate + "?lat=" + lat.toFixed(6) + "&lng=" + lng.toFixed(6), { credentials: "same-origin" })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
      .then(({ ok, body }) => {
        result.textContent = ok ? body.name + " (" + body.code + ")" : body.detail;
        result.dataset.code = ok ? body.code : "";
      });
  });
})();
