// The workbench: its panels are fetched again (htmx) when a live event about a case the user may
// see arrives — the command center's server-sent events, read in polling mode so that home pages
// never hold the streams the command center needs — and every minute by the clock (hx-trigger).
// The phone outbox panel reads the field app's IndexedDB outbox when this browser has one.
(function () {
  "use strict";
  const board = document.getElementById("workbench");
  if (!board) return;

  // ---- live events → refresh (debounced: a dispatch sends several events at once) ----
  const stateEl = document.getElementById("workbench-live");
  let timer = null;
  function refreshSoon() {
    clearTimeout(timer);
    timer = setTimeout(() => htmx.trigger(board, "workbench-refresh"), 800);
  }
  if (window.EventSource && board.dataset.live) {
    const source = new EventSource(board.dataset.live);
    const state = (on) => {
      if (!stateEl) return;
      stateEl.textContent = on ? board.dataset.labelLive : board.dataset.labelOff;
      stateEl.classList.toggle("on", on);
    };
    source.addEventListener("hello", () => state(true));
    source.addEventListener("open", () => state(true));
    source.addEventListener("error", () => { if (source.readyState === EventSource.CLOSED) state(false); });
    ["case.created", "case.changed", "reset"].forEach((kind) => source.addEventListener(kind, refreshSoon));
    window.addEventListener("pagehide", () => source.close());
  }

  // ---- the field app's outbox in this browser (IndexedDB "wangge-field", store "outbox") ----
  // Opened only when it exists: opening a missing database would create an empty one, which the
  // field app (it creates its store on the first open) could then not upgrade.
  async function outboxCount(username) {
    if (!window.indexedDB || !indexedDB.databases) return null;
    const found = (await indexedDB.databases()).some((d) => d.name === "wangge-field");
    if (!found) return null;
    const database = await new Promise((resolve, reject) => {
      const request = indexedDB.open("wangge-field");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    try {
      if (!database.objectStoreNames.contains("outbox")) return null;
      const items = await new Promise((resolve, reject) => {
        const request = database.transaction("outbox", "readonly").objectStore("outbox").getAll();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return items.filter((item) => !item.username || item.username === username).length;
    } finally {
      database.close();
    }
  }
  async function showOutbox() {
    const panel = board.querySelector("[data-outbox]");
    if (!panel) return;
    let count = null;
    try { count = await outboxCount(panel.dataset.username); } catch (e) { count = null; }
    const tile = panel.querySelector(".tile");
    panel.querySelector("[data-outbox-count]").textContent = count === null ? "–" : String(count);
    tile.classList.toggle("zero", !count);
    tile.classList.toggle("alert", !!count);
    panel.querySelector("[data-outbox-none]").hidden = count !== null;
    panel.querySelector("[data-outbox-some]").hidden = count === null;
    panel.dataset.loaded = count === null ? "none" : "yes";
  }
  showOutbox();
  board.addEventListener("htmx:afterSwap", showOutbox);
})();
