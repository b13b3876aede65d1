// Case maps. On the case page (data in the map's data-map): the case's point, its grid's boundary and the open cases nearby.
// On report forms: find the place by searching an address or building, by "use my location", or
// by clicking the map; towns, villages and grids are named as the user zooms in (no tiles needed).
(function () {
  if (!window.L || !window.wanggeMap) return;

  function el(tag, props, children) {
    const node = Object.assign(document.createElement(tag), props || {});
    (children || []).forEach((c) => node.append(c));
    return node;
  }

  function showCase() {
    const show = document.getElementById("casemap");
    if (!show || !show.dataset.map || show.dataset.ready) return;
    show.dataset.ready = "1";
    const data = JSON.parse(show.dataset.map);
    const m = wanggeMap.create(show);
    const grid = data.grid ? L.geoJSON(data.grid.geometry, {
      coordsToLatLng: m.coords, interactive: false, style: { color: "#2563eb", weight: 2, fillOpacity: 0.05 },
    }) : null;
    // The view first: Leaflet places labels only on a map that has one.
    const at = data.point ? m.toMap(data.point[1], data.point[0]) : null;
    if (at) m.map.setView(at, 16);
    else if (grid && grid.getBounds().isValid()) m.map.fitBounds(grid.getBounds(), { padding: [10, 10] });
    else m.home();
    if (grid) {
      grid.addTo(m.map);
      if (data.grid.label && data.grid.label[0] != null) {
        L.tooltip({ permanent: true, direction: "center", className: "area-label grid", interactive: false })
          .setLatLng(m.toMap(data.grid.label[1], data.grid.label[0])).setContent(wanggeMap.text(data.grid.name)).addTo(m.map);
      }
    }
    (data.nearby || []).forEach((c) => {
      const link = el("a", { href: c.url, textContent: c.number });
      L.circleMarker(m.toMap(c.lng, c.lat), { radius: 6, color: "#475569", fillColor: "#f59e0b", fillOpacity: 0.9, weight: 1, className: "nearby-case" })
        .bindPopup(el("div", {}, [link, el("div", { textContent: c.status + (c.category ? " · " + c.category : "") })]))
        .bindTooltip(wanggeMap.text(c.number + " · " + c.status))
        .addTo(m.map);
    });
    if (at) {
      L.circleMarker(at, { radius: 9, color: "#c0392b", fillOpacity: 0.8, className: "this-case" }).addTo(m.map);
      show.dataset.drawnAt = at.lat + "," + at.lng; // where it was drawn (GCJ-02 on GCJ tiles): for tests
    }
    show.dataset.nearby = String((data.nearby || []).length);
  }
  showCase();
  document.addEventListener("htmx:afterSettle", showCase); // the case body is swapped after an action

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
    latInput.dispatchEvent(new Event("change", { bubbles: true })); // the hotline desk reloads what is near
    pick.dataset.placed = "1";
  }
  fetch(pick.dataset.outline)
    .then((r) => r.json())
    .then((data) => {
      const city = L.geoJSON({ type: "FeatureCollection", features: data.features.filter((f) => f.properties.self) }, {
        coordsToLatLng: m.coords, interactive: false, style: { color: "#c0392b", weight: 2, fill: false },
      }).addTo(m.map);
      if (latInput.value && lngInput.value) {
        place(parseFloat(latInput.value), parseFloat(lngInput.value), "✓");
        m.map.setView(m.toMap(parseFloat(lngInput.value), parseFloat(latInput.value)), 15);
      } else if (city.getBounds().isValid()) {
        m.map.fitBounds(city.getBounds());
      } else {
        m.home();
      }
      wanggeAreas.attach(m, pick.dataset.areas, data);
      pick.dataset.loaded = "1";
    });
  m.map.on("click", (e) => { const p = m.fromMap(e.latlng); place(p.lat, p.lng, "✓"); });

  const gps = document.getElementById("use-gps");
  if (gps) gps.addEventListener("click", () => {
    if (!navigator.geolocation) { result.textContent = gps.dataset.unavailable || "GPS ✗"; return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => { place(pos.coords.latitude, pos.coords.longitude, "GPS ✓"); m.map.setView(m.toMap(pos.coords.longitude, pos.coords.latitude), 17); },
      (err) => { result.textContent = gps.dataset.unavailable || err.message; },
      { enableHighAccuracy: true, timeout: 10000 }
    );
  });

  // Place search: standard addresses and public buildings (address text and point only).
  const box = document.getElementById("place-search");
  if (!box) return;
  const q = document.getElementById("place-q");
  const list = document.getElementById("place-results");
  const status = document.getElementById("place-status");
  function search() {
    const text = q.value.trim();
    list.replaceChildren();
    if (text.length < 2) { status.textContent = box.dataset.tooShort; return; }
    status.textContent = box.dataset.searching;
    fetch(box.dataset.url + "?q=" + encodeURIComponent(text))
      .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
      .then(({ ok, body }) => {
        if (!ok) { status.textContent = body.detail; return; }
        status.textContent = body.results.length ? "" : box.dataset.none;
        body.results.forEach((hit) => {
          const choose = el("button", { type: "button", className: "link place-hit", textContent: hit.text });
          choose.addEventListener("click", () => {
            place(hit.lat, hit.lng, "✓ " + hit.text);
            m.map.setView(m.toMap(hit.lng, hit.lat), 17);
            list.replaceChildren();
          });
          list.append(el("li", {}, [choose]));
        });
      })
      .catch(() => { status.textContent = box.dataset.failed; });
  }
  document.getElementById("place-go").addEventListener("click", search);
  q.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); search(); } });
})();
