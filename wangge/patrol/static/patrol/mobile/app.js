// The field worker's app. Everything the worker enters goes into an outbox in IndexedDB first and
// is sent from there, in order, each with its own idempotency key: nothing is lost without a signal
// and nothing is made twice when an answer is lost on the way back.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("app-config").textContent);
  const T = JSON.parse(document.getElementById("app-text").textContent);
  const $ = (selector) => document.querySelector(selector);

  // ---- the outbox (IndexedDB) ----
  let dbPromise = null;
  function db() {
    dbPromise = dbPromise || new Promise((resolve, reject) => {
      const request = indexedDB.open("wangge-field", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return dbPromise;
  }
  async function store(mode, work) {
    const database = await db();
    return new Promise((resolve, reject) => {
      const tx = database.transaction("outbox", mode);
      const result = work(tx.objectStore("outbox"));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }
  const allItems = () => store("readonly", (s) => s.getAll());
  const putItem = (item) => store("readwrite", (s) => s.put(item));
  const deleteItem = (seq) => store("readwrite", (s) => s.delete(seq));

  // An item: where to POST, the JSON body, and photos to upload first, each put into the body at
  // its path (e.g. ["photo_ids", 0] or ["answers", 3, "photo_id"]) once the server has given its id.
  const URLS = { case: "/api/v1/cases", positions: "/api/v1/patrol/positions", inspection: "/api/v1/patrol/inspections",
                  resident: "/api/v1/patrol/residents" };
  async function enqueue(kind, body, photos) {
    const item = { key: crypto.randomUUID(), kind, body, photos: (photos || []).map((p) => ({ blob: p.blob, path: p.path, id: null })),
                   username: config.username, created: new Date().toISOString(), error: null };
    item.seq = await putItem(item);
    await refreshOutbox();
    return item;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }
  async function post(url, body, headers) {
    return fetch(url, { method: "POST", credentials: "same-origin", body,
                        headers: Object.assign({ "X-CSRFToken": csrfToken() }, headers || {}) });
  }
  function setPath(target, path, value) {
    let here = target;
    path.slice(0, -1).forEach((step) => { here = here[step]; });
    here[path[path.length - 1]] = value;
  }

  const sent = {}; // idempotency key → the server's answer, for the page that queued it
  const refusedNow = {}; // idempotency key → the item the server refused, for the page that queued it
  // The server's errors as {field: message}: ours ({"errors": {field: [..]}}) or the schema's (422).
  async function fieldErrors(response) {
    const errors = {};
    try {
      const data = await response.json();
      if (data.errors) Object.entries(data.errors).forEach(([k, v]) => { errors[k] = [].concat(v).join(" "); });
      else if (Array.isArray(data.detail)) data.detail.forEach((d) => { errors[(d.loc || []).slice(-1)[0] || "detail"] = d.msg; });
      else if (data.detail) errors.detail = String(data.detail);
    } catch (e) { errors.detail = String(response.status); }
    return errors;
  }
  let flushing = null;
  function flush() {
    if (!navigator.onLine) return Promise.resolve();
    flushing = flushing || sendAll().finally(() => { flushing = null; refreshOutbox(); });
    return flushing;
  }
  async function sendAll() {
    const items = (await allItems()).filter((i) => i.username === config.username && !i.error);
    for (const item of items) {
      if ((await send(item)) === "stop") return;
    }
  }
  async function send(item) {
    try {
      for (const photo of item.photos || []) {
        if (photo.id) continue;
        const form = new FormData();
        form.append("file", photo.blob, "photo.jpg");
        const response = await post("/api/v1/cases/photos", form);
        if (response.status !== 201) return refused(item, response);
        photo.id = (await response.json()).id;
        await putItem(item); // an uploaded photo is not uploaded again
      }
      const body = JSON.parse(JSON.stringify(item.body));
      (item.photos || []).forEach((photo) => setPath(body, photo.path, photo.id));
      const response = await post(URLS[item.kind], JSON.stringify(body),
                                  { "Content-Type": "application/json", "Idempotency-Key": item.key });
      if (!response.ok) return refused(item, response);
      sent[item.key] = await response.json();
      await deleteItem(item.seq);
      return "next";
    } catch (error) {
      return "stop"; // no signal: the same item goes first next time
    }
  }
  async function refused(item, response) {
    if (response.status === 401 || response.status === 403 || response.status >= 500) {
      if (response.status < 500) showState(T.loginAgain);
      return "stop"; // not this item's fault: keep it and everything after it
    }
    item.errors = await fieldErrors(response);
    item.error = Object.entries(item.errors).map(([field, text]) => (T.fields[field] || field) + ": " + text).join("；")
                 || String(response.status);
    await putItem(item); // refused for good: kept visible with the reason, the rest goes on
    refusedNow[item.key] = item;
    return "next";
  }

  async function refreshOutbox() {
    const items = (await allItems()).filter((i) => i.username === config.username);
    $("#outbox-count").textContent = items.length;
    $("#outbox").replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const what = item.kind === "case" ? T.caseKind + ": " + (item.body.description || "").slice(0, 30)
                 : item.kind === "inspection" ? T.inspectionKind + ": " + (item.label || "")
                 : item.kind === "resident" ? T.residentKind + ": " + item.body.name + " · " + (item.label || "")
                 : T.positionsKind + " × " + item.body.points.length;
      li.textContent = item.created.slice(11, 16) + " " + what + (item.error ? " — " + T.failed + " " + item.error : "");
      if (item.error) li.className = "error";
      if (item.error && item.kind === "resident") li.append(" ", el("a", { href: "#register/fix/" + item.seq, textContent: T.fix }));
      return li;
    }));
  }
  function showState(text) { $("#gps-state").textContent = text; }

  // ---- network state ----
  function showNetwork() {
    const net = $("#net");
    net.textContent = navigator.onLine ? net.dataset.onlineText : net.dataset.offlineText;
    net.classList.toggle("offline", !navigator.onLine);
  }
  window.addEventListener("online", () => { showNetwork(); flush(); });
  window.addEventListener("offline", showNetwork);
  setInterval(flush, 30000);

  // ---- GPS and duty ----
  let lastFix = null;
  let watchId = null;
  let pending = [];
  function startWatching() {
    if (watchId !== null || !navigator.geolocation) return;
    watchId = navigator.geolocation.watchPosition(
      (p) => { lastFix = { at: new Date(p.timestamp).toISOString(), lat: p.coords.latitude, lng: p.coords.longitude,
                           accuracy_m: p.coords.accuracy }; showState(fixText(lastFix));
              if (!$("#tasks-map").hidden) drawMe();
              if (location.hash === "#tasks" && shownTasks.length) renderTasks(shownTasks); },
      (error) => showState("GPS: " + error.message),
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 }
    );
  }
  function fixText(fix) { return fix.lat.toFixed(5) + ", " + fix.lng.toFixed(5) + " (" + T.accuracy + " " + Math.round(fix.accuracy_m) + " m)"; }
  function onDuty() { return localStorage.getItem("wangge-duty") === config.username; }
  function showDuty() {
    const button = $("#duty");
    button.textContent = onDuty() ? button.dataset.on : button.dataset.off;
    button.classList.toggle("on", onDuty());
  }
  $("#duty").addEventListener("click", () => {
    if (onDuty()) { localStorage.removeItem("wangge-duty"); queuePositions(); } else { localStorage.setItem("wangge-duty", config.username); startWatching(); }
    showDuty();
  });
  // Every interval on duty: the latest fix, if it is new (a missing fix is not made up).
  setInterval(() => {
    if (!onDuty() || !lastFix) return;
    if (pending.length && pending[pending.length - 1].at === lastFix.at) return;
    pending.push(lastFix);
    if (pending.length >= 10) queuePositions();
  }, config.positionIntervalSeconds * 1000);
  function queuePositions() {
    if (!pending.length) return;
    const points = pending;
    pending = [];
    enqueue("positions", { points }).then(flush);
  }

  // ---- pages ----
  function route() {
    const [name, ...args] = (location.hash || "#home").slice(1).split("/");
    document.querySelectorAll(".page").forEach((page) => { page.hidden = page.id !== "page-" + name; });
    const page = document.getElementById("page-" + name);
    if (page) page.dataset.ready = ["tasks", "cases", "figures"].includes(name) ? "" : "1";
    if (name === "tasks") loadTasks();
    if (name === "register") openRegister(args);
    if (name === "inspect") openInspection(args[0], +args[1], args[2], decodeURIComponent(args[3] || ""));
    if (name === "scan") startScan();
    if (name === "cases") loadCases();
    if (name === "figures") loadFigures();
    if (name === "report") { startWatching(); showReportLocation(); }
  }
  window.addEventListener("hashchange", route);
  const ready = (name) => { document.getElementById("page-" + name).dataset.ready = "1"; };

  // ---- GET answers: the last copy on the phone at once, then the fresh one when it comes ----
  // Kept per user in the Cache API, so a page opens in an instant on a slow network and works
  // offline with what was last seen; render() is called once or twice, `fresh` tells which.
  const dataCache = () => caches.open("wangge-data-" + config.username);
  async function getJSON(url, render) {
    let shown = false;
    const cached = await dataCache().then((c) => c.match(url)).then((r) => (r ? r.json() : null)).catch(() => null);
    if (cached !== null) { render(cached, false); shown = true; }
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const copy = response.clone();
      dataCache().then((c) => c.put(url, copy)).catch(() => {});
      render(await response.json(), true);
      return true;
    } catch (e) {
      if (!shown) throw e;
      return false;
    }
  }
  // Today's work is fetched ahead, so it is on the phone before the signal goes.
  async function prefetch() {
    if (!navigator.onLine) return;
    const keep = (url) => fetch(url, { credentials: "same-origin" }).then((r) => {
      if (r.ok) dataCache().then((c) => c.put(url, r.clone())).catch(() => {});
      return r.ok ? r.clone().json() : null;
    }).catch(() => null);
    const tasks = await keep(TASKS_URL);
    [...new Set(((tasks && tasks.items) || []).map((t) => t.checklist))].forEach((code) => keep(CHECKLIST_URL + code));
    keep(CASES_URL);
    keep(trackUrl());
  }

  const matterSelect = $("#report-form select[name=matter_item]");
  config.matterItems.forEach((m) => matterSelect.add(new Option(m.name, m.code)));
  function showReportLocation() {
    const el = $("#report-location");
    el.textContent = lastFix ? el.dataset.fix + ": " + fixText(lastFix) : el.dataset.none;
  }
  $("#report-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const description = form.description.value.trim();
    const error = $("#report-error");
    error.hidden = !!description;
    if (!description) { error.textContent = T.describe; return; }
    const body = { description, matter_item: form.matter_item.value, address: form.address.value.trim() };
    if (lastFix) Object.assign(body, { lat: lastFix.lat, lng: lastFix.lng });
    else body.area_code = config.gridCode;
    body.photo_ids = [];
    const file = form.photo.files[0];
    const item = await enqueue("case", body, file ? [{ blob: file, path: ["photo_ids", 0] }] : []);
    form.reset();
    await flush();
    const done = $("#report-done");
    done.hidden = false;
    done.textContent = sent[item.key] ? done.dataset.sent + " " + (sent[item.key].number || sent[item.key].tracking_number) : done.dataset.queued;
  });

  const CASES_URL = "/api/v1/cases?status=open";
  async function loadCases() {
    const list = $("#cases");
    $("#cases-state").textContent = navigator.onLine ? "" : T.cachedCopy;
    try {
      const fresh = await getJSON(CASES_URL, (data) => renderCases(list, data));
      if (!fresh) $("#cases-state").textContent = T.cachedCopy;
    } catch (e) {
      $("#cases-state").textContent = T.cachedCopy;
      ready("cases");
    }
  }
  function renderCases(list, data) {
    {
      const cases = data.items || [];
      list.replaceChildren(...cases.map((c) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = "/cases/" + c.id + "/";
        a.textContent = (c.number || c.tracking_number) + " · " + c.description.slice(0, 40);
        li.append(a);
        li.dataset.status = c.status;
        return li;
      }));
      if (!cases.length) $("#cases-state").textContent = T.noCases;
      ready("cases");
    }
  }
  function trackUrl() {
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai" }).format(new Date());
    return "/api/v1/patrol/tracks/" + encodeURIComponent(config.username) + "/" + today;
  }
  async function loadFigures() {
    try {
      await getJSON(trackUrl(), (data) => {
        for (const [key, value] of Object.entries(data.figures)) {
          const dd = document.querySelector('#figures [data-figure="' + key + '"]');
          if (dd) dd.textContent = value;
        }
        ready("figures");
      });
    } catch (e) { ready("figures"); /* offline with no copy yet: the dashes stay */ }
  }
  $("#sync-now").addEventListener("click", flush);

  // ---- inspections: today's tasks, scanning a door plate, the checklist ----
  function el(tag, props, ...children) {
    const node = Object.assign(document.createElement(tag), props || {});
    node.append(...children);
    return node;
  }
  function inspectLink(kind, id, checklist, label) {
    return "#inspect/" + kind + "/" + id + "/" + checklist + "/" + encodeURIComponent(label);
  }
  const TASKS_URL = "/api/v1/patrol/tasks";
  const CHECKLIST_URL = "/api/v1/patrol/checklists/";
  let shownTasks = [];
  async function loadTasks() {
    startWatching(); // the distance to each task
    $("#tasks-state").textContent = navigator.onLine ? "" : T.cachedCopy;
    try {
      const fresh = await getJSON(TASKS_URL, (data) => renderTasks(data.items || []));
      if (!fresh) $("#tasks-state").textContent = T.cachedCopy;
    } catch (e) { $("#tasks-state").textContent = T.cachedCopy; ready("tasks"); }
  }
  // Metres from the phone's last fix to a task's target (null without a fix or a point).
  function metresFromMe(t) {
    if (!lastFix || t.lat === null || t.lat === undefined || t.lng === null) return null;
    const rad = Math.PI / 180, dLat = (t.lat - lastFix.lat) * rad, dLng = (t.lng - lastFix.lng) * rad;
    const a = Math.sin(dLat / 2) ** 2 + Math.cos(lastFix.lat * rad) * Math.cos(t.lat * rad) * Math.sin(dLng / 2) ** 2;
    return 2 * 6371008.8 * Math.asin(Math.sqrt(a));
  }
  function distanceText(m) {
    return m < 1000 ? T.metresAway.replace("%(n)s", Math.round(m)) : T.kmAway.replace("%(n)s", (m / 1000).toFixed(1));
  }
  // The highest risk class first (3 = 三级（高）), then the earliest due, then the nearest.
  function byRiskDueDistance(a, b) {
    const far = (m) => (m === null ? Infinity : m);
    return (b.risk_class - a.risk_class) || a.due_date.localeCompare(b.due_date) || far(a.metres) - far(b.metres);
  }
  function renderTasks(tasks) {
    tasks.forEach((t) => { t.metres = metresFromMe(t); });
    shownTasks = tasks.slice().sort(byRiskDueDistance);
    $("#tasks").replaceChildren(...shownTasks.map((t) => el("li", { className: t.overdue ? "overdue" : "" },
      el("a", { href: inspectLink(t.target_kind, t.target_id, t.checklist, t.target_label) },
        el("strong", { textContent: t.target_label }),
        el("span", { className: "hint task-meta", textContent: [
          t.risk_label, t.checklist_name, T.due + " " + t.due_date + (t.overdue ? " " + T.overdue : ""),
          t.metres === null ? "" : distanceText(t.metres),
        ].filter(Boolean).join(" · ") })))));
    $("#tasks-state").textContent = shownTasks.length ? "" : T.noTasks;
    ready("tasks");
    if (!$("#tasks-map").hidden) drawTaskMap();
  }
  document.querySelectorAll("#tasks-view button").forEach((button) => button.addEventListener("click", () => {
    const map = button.dataset.view === "map";
    $("#tasks").hidden = map;
    $("#tasks-map").hidden = !map;
    document.querySelectorAll("#tasks-view button").forEach((b) => b.classList.toggle("on", b === button));
    if (map) drawTaskMap();
  }));

  // The map (Leaflet, loaded the first time the map is opened; the service worker keeps it).
  let leaflet = null;
  function loadLeaflet() {
    leaflet = leaflet || new Promise((resolve, reject) => {
      const css = el("link", { rel: "stylesheet", href: config.map.css });
      document.head.append(css);
      const next = (i) => {
        if (i === config.map.scripts.length) return resolve();
        const script = el("script", { src: config.map.scripts[i] });
        script.onload = () => next(i + 1);
        script.onerror = () => { leaflet = null; reject(new Error("leaflet")); };
        document.head.append(script);
      };
      next(0);
    });
    return leaflet;
  }
  let taskMap = null;
  // My position on the task map, moved with every new fix while the map is open.
  function drawMe() {
    if (!taskMap || !lastFix) return null;
    const me = taskMap.toMap(lastFix.lng, lastFix.lat);
    taskMap.me.clearLayers();
    // Not tappable: a task next to me stays easy to tap.
    L.circle(me, { radius: Math.min(lastFix.accuracy_m || 0, 200), weight: 1, color: "#16a34a", fillOpacity: 0.1,
                   interactive: false }).addTo(taskMap.me);
    L.circleMarker(me, { radius: 7, color: "#fff", weight: 2, fillColor: "#16a34a", fillOpacity: 1, className: "me-marker",
                         interactive: false }).addTo(taskMap.me);
    return me;
  }
  async function drawTaskMap() {
    startWatching();
    try { await loadLeaflet(); } catch (e) { $("#tasks-state").textContent = T.cachedCopy; return; }
    const box = $("#tasks-map");
    if (!taskMap) {
      box.dataset.tileUrl = config.map.tileUrl;
      box.dataset.tileAttribution = config.map.tileAttribution;
      box.dataset.tileCrs = config.map.tileCrs;
      const made = window.wanggeMap.create(box, { zoomControl: true });
      taskMap = { ...made, layer: L.layerGroup().addTo(made.map), me: L.layerGroup().addTo(made.map) };
    }
    taskMap.map.invalidateSize();
    taskMap.layer.clearLayers();
    const bounds = [];
    const grid = await dataCache().then((c) => c.match(trackUrl())).then((r) => (r ? r.json() : null)).catch(() => null);
    if (grid && grid.grids) {
      const outline = L.geoJSON(grid.grids, { coordsToLatLng: (c) => taskMap.toMap(c[0], c[1]),
                                             style: { color: "#0f2a5c", weight: 2, fillOpacity: 0.04 } });
      taskMap.layer.addLayer(outline);
      if (outline.getBounds().isValid()) bounds.push(outline.getBounds());
    }
    shownTasks.filter((t) => t.lat !== null && t.lng !== null).forEach((t) => {
      const at = taskMap.toMap(t.lng, t.lat);
      const link = el("a", { href: inspectLink(t.target_kind, t.target_id, t.checklist, t.target_label),
                             className: "map-inspect", textContent: T.inspect + " · " + t.target_label });
      L.circleMarker(at, { radius: 11, color: "#fff", weight: 2, fillOpacity: 0.95,
                           fillColor: t.overdue ? "#b91c1c" : t.risk_class === 1 ? "#d97706" : "#1d4ed8",
                           className: "task-marker" })
        .bindPopup(el("div", {}, el("div", { textContent: t.due_date + (t.overdue ? " · " + T.overdue : "") }), link))
        .addTo(taskMap.layer);
      bounds.push(L.latLngBounds([at, at]));
    });
    const me = drawMe();
    if (me) bounds.push(L.latLngBounds([me, me]));
    if (bounds.length) taskMap.map.fitBounds(bounds.reduce((a, b) => a.extend(b)), { padding: [24, 24], maxZoom: 17 });
    else taskMap.map.setView([23.02, 113.75], 11);
  }

  let scanStream = null;
  function startScan() {
    $("#scan-result").replaceChildren();
    scanInto($("#scan-video"), $("#scan-state"), "#scan", lookUp);
  }
  // The camera reads a QR code into onCode while the page `hash` is open (BarcodeDetector).
  async function scanInto(video, state, hash, onCode) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { state.textContent = T.noCamera; return; }
    try {
      const detector = new BarcodeDetector({ formats: ["qr_code"] });
      scanStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = scanStream;
      await video.play();
      const tick = async () => {
        if (!location.hash.startsWith(hash)) return stopScan();
        const codes = await detector.detect(video).catch(() => []);
        if (codes.length) { stopScan(); onCode(codes[0].rawValue); } else requestAnimationFrame(tick);
      };
      tick();
    } catch (e) { state.textContent = T.noCamera; }
  }
  function stopScan() { if (scanStream) scanStream.getTracks().forEach((t) => t.stop()); scanStream = null; }
  $("#scan-form").addEventListener("submit", (event) => { event.preventDefault(); lookUp(event.target.code.value); });
  function plateToken(text) {
    // A plate holds the building page's address (…/q/<token>/); a typed code is the token itself.
    const match = String(text).trim().match(/\/q\/([^/]+)\/?$/);
    return match ? match[1] : String(text).trim();
  }
  async function lookUp(text) {
    // A plate holds the building page's address (…/q/<token>/); a typed code is the token itself.
    const token = plateToken(text);
    const result = $("#scan-result");
    result.replaceChildren();
    if (!token) return;
    const response = await fetch("/api/v1/patrol/targets/by-qr/" + encodeURIComponent(token), { credentials: "same-origin" }).catch(() => null);
    if (!response || response.status === 404 || !response.ok) { $("#scan-state").textContent = response ? T.unknownCode : T.cachedCopy; return; }
    $("#scan-state").textContent = "";
    const targets = await response.json();
    result.append(...targets.map((t) => el("li", {}, t.checklist
      ? el("a", { href: inspectLink(t.kind, t.id, t.checklist, t.label), textContent: t.label + (t.open_task_due ? " · " + t.open_task_due : "") })
      : el("span", { className: "hint", textContent: t.label }))));
  }

  let inspection = null;
  async function openInspection(kind, id, code, label) {
    const form = $("#inspect-form");
    $("#inspect-title").textContent = label;
    $("#inspect-done").hidden = true;
    form.hidden = false;
    form.querySelector(".items").replaceChildren();
    startWatching();
    let checklist;
    try { await getJSON(CHECKLIST_URL + code, (data) => { checklist = checklist || data; }); }
    catch (e) { $("#inspect-error").hidden = false; $("#inspect-error").textContent = T.cachedCopy; return; }
    inspection = { kind, id, label, checklist, started: new Date().toISOString() };
    $("#inspect-checklist").textContent = checklist.name + " v" + checklist.version;
    form.querySelector(".items").append(...checklist.items.map(itemField));
  }
  function fails(item, value) {
    if (item.is_collection || value === null || value === "") return false;
    if (item.answer_type === "number") return (item.min_value !== null && value < item.min_value) || (item.max_value !== null && value > item.max_value);
    return item.failing_choices.includes(value);
  }
  function itemField(item) {
    const box = el("fieldset", { className: "item" }, el("legend", { textContent: item.text + (item.required ? "" : " " + T.optional) }));
    box.dataset.code = item.code;
    const name = "item-" + item.code;
    if (item.answer_type === "yes_no" || item.answer_type === "choice") {
      const options = item.answer_type === "yes_no" ? [[true, T.yes], [false, T.no]] : item.choices.map((c) => [c, c]);
      box.append(el("div", { className: "choices" }, ...options.map(([value, text]) =>
        el("label", { className: "choice" }, el("input", { type: "radio", name, value: JSON.stringify(value) }), text))));
    } else if (item.answer_type === "number") {
      box.append(el("input", { type: "number", name, inputMode: "decimal" }));
    } else if (item.answer_type === "text") {
      box.append(el("input", { type: "text", name }));
    } else {
      box.append(el("input", { type: "file", name, accept: "image/*", capture: "environment" }));
    }
    const failed = el("div", { className: "failed", hidden: true },
      el("label", { className: "choice" }, el("input", { type: "radio", name: name + "-resolution", value: "corrected" }), T.corrected),
      el("label", { className: "choice" }, el("input", { type: "radio", name: name + "-resolution", value: "case" }), T.asCase),
      el("label", {}, T.proof, el("input", { type: "file", name: name + "-proof", accept: "image/*", capture: "environment" })),
      el("input", { type: "text", name: name + "-note", placeholder: T.note }));
    box.append(failed);
    box.addEventListener("change", () => { failed.hidden = !fails(item, valueOf(item, box)); });
    return box;
  }
  function valueOf(item, box) {
    const name = "item-" + item.code;
    if (item.answer_type === "yes_no" || item.answer_type === "choice") {
      const checked = box.querySelector("input[name='" + name + "']:checked");
      return checked ? JSON.parse(checked.value) : null;
    }
    if (item.answer_type === "number") { const v = box.querySelector("input").value; return v === "" ? null : Number(v); }
    if (item.answer_type === "text") return box.querySelector("input").value.trim() || null;
    return null; // a photo answer is filled in from its upload
  }
  $("#inspect-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!inspection) return;
    const form = event.target;
    const answers = [];
    const photos = [];
    const missing = [];
    inspection.checklist.items.forEach((item) => {
      const box = form.querySelector("fieldset[data-code='" + item.code + "']");
      const name = "item-" + item.code;
      const answer = { item: item.code, value: valueOf(item, box) };
      if (item.answer_type === "photo") {
        const file = box.querySelector("input[name='" + name + "']").files[0];
        if (file) photos.push({ blob: file, path: ["answers", answers.length, "value"] });
        else if (!item.required) return;
      }
      if (answer.value === null && item.answer_type !== "photo" && item.required) missing.push(item.text);
      if (fails(item, answer.value)) {
        const resolution = box.querySelector("input[name='" + name + "-resolution']:checked");
        answer.resolution = resolution ? resolution.value : "";
        answer.note = box.querySelector("input[name='" + name + "-note']").value.trim();
        const proof = box.querySelector("input[name='" + name + "-proof']").files[0];
        if (proof) photos.push({ blob: proof, path: ["answers", answers.length, "photo_id"] });
        if (!answer.resolution) missing.push(item.text + " · " + T.resolutionNeeded);
      }
      answers.push(answer);
    });
    const error = $("#inspect-error");
    error.hidden = !missing.length;
    if (missing.length) { error.textContent = T.unanswered + " " + missing.join("；"); return; }
    const body = { target_kind: inspection.kind, target_id: inspection.id, checklist: inspection.checklist.code,
                   version: inspection.checklist.version, answers, started_at: inspection.started,
                   finished_at: new Date().toISOString() };
    if (lastFix) Object.assign(body, { lat: lastFix.lat, lng: lastFix.lng, accuracy_m: lastFix.accuracy_m });
    const item = await enqueue("inspection", body, photos);
    item.label = inspection.label;
    await putItem(item);
    inspection = null;
    await flush();
    form.hidden = true;
    const done = $("#inspect-done");
    done.hidden = false;
    const answer = sent[item.key];
    done.textContent = answer ? done.dataset.sent + " " + (T.results[answer.result] || answer.result) : done.dataset.queued;
  });


  // ---- register a resident or tenant: building (scan or search) → room → the person ----
  const registerForm = $("#register-form");
  config.personTypes.forEach(([value, label]) => registerForm.elements.person_type.add(new Option(label, value)));
  let fixing = null; // the refused outbox item being corrected
  function showFieldErrors(form, errors) {
    form.querySelectorAll(".field-error").forEach((node) => node.remove());
    const general = [];
    Object.entries(errors || {}).forEach(([field, text]) => {
      const input = form.querySelector("[name='" + field + "']");
      if (input) input.closest("label").append(el("span", { className: "field-error error", textContent: text }));
      else general.push((T.fields[field] || field) + ": " + text);
    });
    const box = $("#register-error");
    box.hidden = !general.length;
    box.textContent = general.join("；");
  }
  async function openRegister(args) {
    $("#register-done").hidden = true;
    showFieldErrors(registerForm, {});
    fixing = null;
    if (args[0] === "fix") {
      const item = (await allItems()).find((i) => i.seq === +args[1]);
      if (!item) return;
      fixing = item;
      Object.entries(item.body).forEach(([k, v]) => { if (registerForm.elements[k] && k !== "room") registerForm.elements[k].value = v; });
      await chooseBuilding(item.building, item.body.room);
      showFieldErrors(registerForm, item.errors);
    }
  }
  $("#register-scan").addEventListener("click", () => {
    const video = $("#register-video");
    video.hidden = false;
    scanInto(video, $("#register-state"), "#register", async (text) => {
      video.hidden = true;
      const token = plateToken(text);
      try {
        await getJSON("/api/v1/registry/buildings/by-qr/" + encodeURIComponent(token), (b) => chooseBuilding(b));
      } catch (e) { $("#register-state").textContent = T.unknownCode; }
    });
  });
  $("#building-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = event.target.q.value.trim();
    const list = $("#building-results");
    list.replaceChildren();
    try {
      await getJSON("/api/v1/registry/buildings?q=" + encodeURIComponent(q), (data) => {
        const found = data.items || [];
        $("#register-state").textContent = found.length ? "" : T.noBuilding;
        list.replaceChildren(...found.map((b) => el("li", {}, el("button", {
          type: "button", className: "pick", textContent: b.name + " · " + b.address_text,
          onclick: () => getJSON("/api/v1/registry/buildings/" + b.id, (detail) => chooseBuilding(detail)),
        }))));
      });
    } catch (e) { $("#register-state").textContent = T.cachedCopy; }
  });
  let building = null;
  function chooseBuilding(b, roomId) {
    if (!b) return;
    building = { id: b.id, name: b.name, address_text: b.address_text, rooms: (b.rooms || []).map((r) => ({ id: r.id, unit: r.unit, number: r.number })) };
    $("#building-results").replaceChildren();
    $("#register-state").textContent = "";
    $("#register-building").textContent = b.name + " · " + b.address_text;
    const select = registerForm.elements.room;
    const keep = roomId || select.value;
    select.replaceChildren(new Option(T.chooseRoom, ""), ...building.rooms.map((r) => new Option((r.unit ? r.unit + "-" : "") + r.number, r.id)));
    if (keep) select.value = String(keep);
    registerForm.hidden = false;
  }
  registerForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const f = form.elements;
    const body = { name: f.name.value.trim(), person_type: f.person_type.value, id_number: f.id_number.value.trim(),
                   phone: f.phone.value.trim(), room: f.room.value ? Number(f.room.value) : null };
    const missing = {};
    if (!body.name) missing.name = T.required;
    if (!body.room) missing.room = T.chooseRoom;
    if (!body.id_number) missing.id_number = T.required;
    showFieldErrors(form, missing);
    if (Object.keys(missing).length) return;
    if (fixing) { await deleteItem(fixing.seq); fixing = null; }
    const item = await enqueue("resident", body, []);
    item.label = building.name + " " + f.room.selectedOptions[0].textContent;
    item.building = building;
    await putItem(item);
    await flush();
    const done = $("#register-done");
    if (refusedNow[item.key]) {
      // Refused: the errors go next to the fields; the item stays in the outbox until corrected.
      fixing = refusedNow[item.key];
      showFieldErrors(form, fixing.errors);
      return;
    }
    done.hidden = false;
    const answer = sent[item.key];
    done.textContent = answer ? (answer.moved ? done.dataset.moved : done.dataset.sent) + " " + answer.name + " → " + answer.room
                              : done.dataset.queued;
    form.reset();
    f.room.value = "";
  });

  if ("serviceWorker" in navigator) navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope });
  if (onDuty()) startWatching();
  showNetwork();
  showDuty();
  route();
  refreshOutbox().then(flush).then(prefetch);
})();
