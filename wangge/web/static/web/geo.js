// Shared map helpers: base tiles or a plain background, and WGS-84 → GCJ-02 for AMap-style tiles.
// Data is WGS-84 everywhere; GCJ-02 tiles need points shifted, done here for display only.
window.wanggeMap = (function () {
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

  // The site's map settings (base.html: json_script "wangge-map-config"): tiles, if any, and the
  // city's own extent. A map element's data-tile-* attributes, where set, win.
  let cached = null;
  function config() {
    if (cached) return cached;
    const node = document.getElementById("wangge-map-config");
    cached = node ? JSON.parse(node.textContent) : {};
    return cached;
  }

  function create(el, options) {
    const cfg = config();
    const url = el.dataset.tileUrl !== undefined ? el.dataset.tileUrl : cfg.url || "";
    const crs = el.dataset.tileCrs || cfg.crs;
    const gcj = crs === "gcj02";
    const map = L.map(el, Object.assign({ attributionControl: !!url }, options || {}));
    if (url) {
      const tileOptions = { attribution: el.dataset.tileAttribution || cfg.attribution || "", maxZoom: 19 };
      if (cfg.subdomains) tileOptions.subdomains = cfg.subdomains;
      L.tileLayer(url, tileOptions).addTo(map);
      if (cfg.overlay && url === cfg.url) L.tileLayer(cfg.overlay, { subdomains: tileOptions.subdomains, maxZoom: 19 }).addTo(map);
    } else {
      el.classList.add("plain"); // no tile source: boundaries and points on a plain background
    }
    const toMap = (lng, lat) => { if (gcj) { const p = toGcj(lng, lat); return L.latLng(p[1], p[0]); } return L.latLng(lat, lng); };
    return {
      map: map,
      gcj: gcj,
      // WGS-84 [lng, lat] → the LatLng to draw on this map
      toMap: toMap,
      // GeoJSON (WGS-84) → this map's LatLng, for L.geoJSON's coordsToLatLng
      coords: (c) => toMap(c[0], c[1]),
      // a click on this map → WGS-84 {lat, lng} (GCJ shifted back approximately by the local offset)
      fromMap: (latlng) => {
        let lat = latlng.lat, lng = latlng.lng;
        if (gcj) { const p = toGcj(lng, lat); lng -= p[0] - lng; lat -= p[1] - lat; }
        return { lat: lat, lng: lng };
      },
      // Nothing of its own to show: the city's extent (from its boundary), else the whole world.
      home: () => home(map, toMap, el),
    };
  }

  function home(map, toMap, el) {
    let extent = config().home;
    if (el && el.dataset.home) extent = JSON.parse(el.dataset.home);
    toMap = toMap || ((lng, lat) => L.latLng(lat, lng));
    if (extent && extent.bbox) {
      const [[s, w], [n, e]] = extent.bbox;
      map.fitBounds(L.latLngBounds(toMap(w, s), toMap(e, n)));
    } else {
      map.fitWorld();
    }
  }
  // Tooltips and popups render a string as HTML: names typed by users go in as a text node.
  function text(value) { return document.createTextNode(value == null ? "" : String(value)); }
  // A marker's HTML built as elements (divIcon takes one), never from strings of user data.
  function div(className, data) {
    const node = document.createElement("div");
    node.className = className;
    Object.assign(node.dataset, data || {});
    return node;
  }
  return { toGcj: toGcj, create: create, config: config, home: home, text: text, div: div };
})();
