// Live events (server-sent events) with reconnects: EventSource sends Last-Event-ID by itself.
// The server holds a stream for a while, or answers at once and asks to come back (polling).
window.wanggeLive = function (url, handlers, stateEl, labels) {
  const source = new EventSource(url);
  labels = labels || {};
  function state(text, on) { if (stateEl) { stateEl.textContent = text; stateEl.classList.toggle("on", on); } }
  source.addEventListener("hello", (e) => {
    const held = JSON.parse(e.data).held;
    state(held ? labels.labelLive : labels.labelPolling, true);
  });
  source.addEventListener("open", () => state(labels.labelLive || "live", true));
  source.addEventListener("error", () => state(labels.labelOff || "…", false));
  ["case.created", "case.changed", "worker.position", "reset"].forEach((kind) => {
    source.addEventListener(kind, (e) => {
      const data = e.data ? JSON.parse(e.data) : {};
      (handlers[kind] || handlers.any || (() => {}))(data, kind);
    });
  });
  return source;
};
