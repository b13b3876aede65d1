// The arrival button (报到): takes one fresh, high-accuracy fix from the browser and sends it with its
// accuracy. Without a fix (refused, unavailable, timed out) the report is sent without coordinates:
// the server records it flagged "no location", never a guessed place.
(function () {
  const form = document.getElementById("arrive-form");
  if (!form) return;
  const status = document.getElementById("arrive-status");
  const button = document.getElementById("arrive-button");
  let located = false;
  function send() { located = true; form.submit(); }
  form.addEventListener("submit", (e) => {
    if (located) return;
    e.preventDefault();
    button.disabled = true;
    if (!navigator.geolocation) { status.textContent = form.dataset.noFix; send(); return; }
    status.textContent = form.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        form.elements.lat.value = pos.coords.latitude.toFixed(7);
        form.elements.lng.value = pos.coords.longitude.toFixed(7);
        form.elements.accuracy.value = Math.round(pos.coords.accuracy * 10) / 10;
        send();
      },
      () => { status.textContent = form.dataset.noFix; send(); },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
    );
  });
})();
