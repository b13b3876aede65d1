// Play back a worker's day: the grid, the track (good fixes as a line, poor ones as grey dots) and a
// time slider moving a marker along it.
(function () {
  const el = document.getElementById("trackmap");
  if (!el || !window.L || !window.wanggeMap) return;
  const m = wanggeMap.create(el);
  const slider = document.getElementById("track-time");
  const output = document.getElementById("track-at");
  const play = document.getElementById("track-play");
  fetch(el.dataset.track, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((track) => {
      for (const [key, value] of Object.entries(track.figures)) {
        const dd = document.querySelector(`[data-figure="${key}"]`);
        if (dd) dd.textContent = value;
      }
      const grids = L.geoJSON(track.grids, {
        coordsToLatLng: (c) => m.toMap(c[0], c[1]),
        style: { color: "#2563eb", weight: 2, fillOpacity: 0.05 },
      });
      const points = track.points.map((p) => ({ at: p[0], ll: m.toMap(p[2], p[1]), good: p[4] }));
      // The view first: Leaflet draws paths only on a map that has one.
      const bounds = points.length ? L.latLngBounds(points.map((p) => p.ll)) : grids.getBounds();
      if (bounds.isValid()) m.map.fitBounds(bounds, { padding: [20, 20] });
      else m.home(); // the city's own extent
      grids.addTo(m.map);
      L.polyline(points.filter((p) => p.good).map((p) => p.ll), { color: "#c0392b", weight: 3 }).addTo(m.map);
      points.filter((p) => !p.good).forEach((p) => L.circleMarker(p.ll, { radius: 3, color: "#888" }).addTo(m.map));
      if (!points.length) { output.textContent = el.dataset.empty || "—"; play.disabled = true; return; }
      const marker = L.circleMarker(points[0].ll, { radius: 8, color: "#111", fillColor: "#facc15", fillOpacity: 1 }).addTo(m.map);
      slider.max = points.length - 1;
      function show(i) {
        marker.setLatLng(points[i].ll);
        output.textContent = points[i].at.slice(11, 19);
      }
      slider.addEventListener("input", () => show(+slider.value));
      let timer = null;
      play.addEventListener("click", () => {
        if (timer) { clearInterval(timer); timer = null; return; }
        if (+slider.value >= points.length - 1) slider.value = 0;
        timer = setInterval(() => {
          if (+slider.value >= points.length - 1) { clearInterval(timer); timer = null; return; }
          slider.value = +slider.value + 1;
          show(+slider.value);
        }, 50);
      });
      show(0);
    });
})();
