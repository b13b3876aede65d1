// The grid manager's cases on the phone: the open cases of their grids (kept on the phone for
// offline use, photos too), and the actions a grid manager takes on site — verify a department's
// work (pass / fail) and handle a new case on the spot with a photo. Each action goes through the
// app's outbox with its own idempotency key, so it is sent once when the signal returns; a case
// that someone else changed meanwhile is not retried, the outbox says so.
(function () {
  "use strict";
  const app = window.wanggeField;
  const { T, $, el, fmt } = app;
  const ACTION_KIND = "caseAction";

  // ---- photos: thumbnails from the phone's copy (Cache API), fetched once when there is a signal ----
  const photoURLs = {}; // url → object URL of the kept copy
  async function keptPhoto(url) {
    if (photoURLs[url]) return photoURLs[url];
    const cache = await app.dataCache();
    let response = await cache.match(url);
    if (!response) {
      response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      await cache.put(url, response.clone());
    }
    photoURLs[url] = URL.createObjectURL(await response.blob());
    return photoURLs[url];
  }
  function thumbnail(photo) {
    const img = el("img", { className: "thumb", alt: T.cases.photo, loading: "lazy" });
    keptPhoto(photo.thumbnail).then((src) => { img.src = src; }).catch(() => { img.classList.add("missing"); });
    return img;
  }
  // The cases the grid manager acts on are kept with their thumbnails as soon as the list arrives;
  // the copies of photos no longer on the list are let go.
  async function keepPhotos(data) {
    const listed = new Set();
    (data || []).forEach((c) => c.photos.forEach((p) => listed.add(p.thumbnail)));
    (data || []).filter((c) => c.actions.length).forEach((c) => c.photos.forEach((p) => keptPhoto(p.thumbnail).catch(() => {})));
    const cache = await app.dataCache();
    (await cache.keys()).map((request) => new URL(request.url).pathname)
      .filter((path) => path.startsWith("/cases/photos/") && !listed.has(path))
      .forEach((path) => cache.delete(path));
  }
  app.hooks.prefetched.push((url, data) => { if (url === app.CASES_URL) keepPhotos(data); });

  // ---- the list ----
  let shown = []; // the last list seen (fresh or the phone's copy)
  let waiting = {}; // case id → the outbox item of an action not sent yet
  const groupOf = (c) => (c.actions.includes("verify_pass") ? "verify" : c.actions.includes("handle_on_site") ? "handle" : "other");

  async function loadCases() {
    const state = $("#cases-state");
    state.textContent = navigator.onLine ? "" : T.cachedCopy;
    await readWaiting();
    try {
      const fresh = await app.getJSON(app.CASES_URL, (data, isFresh) => { renderCases(data); if (isFresh) keepPhotos(data); });
      if (!fresh) state.textContent = T.cachedCopy;
    } catch (e) {
      state.textContent = T.cachedCopy;
      app.ready("cases");
    }
  }
  function renderCases(data) {
    shown = data || [];
    ["verify", "handle", "other"].forEach((group) => {
      const cases = shown.filter((c) => groupOf(c) === group);
      $("#cases-" + group).replaceChildren(...cases.map(caseItem));
      $("#cases-" + group + "-empty").hidden = cases.length > 0;
    });
    if (!shown.length) $("#cases-state").textContent = T.noCases;
    app.ready("cases");
  }
  function placeOf(c) { return [c.address, c.area_name].filter(Boolean).join(" · "); }
  function caseItem(c) {
    const link = el("a", { href: "#case/" + c.id },
      el("strong", { textContent: c.number }), " ",
      el("span", { className: "hint", textContent: (c.category ? c.category + " · " : "") + app.localTime(c.created_at) }),
      el("span", { className: "description", textContent: c.description.slice(0, 80) }),
      el("span", { className: "place hint", textContent: placeOf(c) }),
      el("span", { className: "thumbs" }, ...c.photos.slice(0, 3).map(thumbnail)));
    if (waiting[c.id]) link.append(el("span", { className: "badge", textContent: T.cases.waiting }));
    const li = el("li", {}, link);
    li.dataset.status = c.status;
    li.dataset.case = c.id;
    return li;
  }
  async function readWaiting() {
    waiting = {};
    (await app.allItems()).filter((i) => i.kind === ACTION_KIND && i.username === app.config.username && !i.error)
      .forEach((i) => { waiting[i.caseId] = i; });
  }

  // ---- one case: what it is, and the grid manager's action on it ----
  let current = null;
  async function openCase(args) {
    const id = Number(args[0]);
    app.startWatching(); // an action made here carries where it was made
    const form = $("#case-form");
    ["#case-error", "#case-done", "#case-waiting"].forEach((s) => { $(s).hidden = true; });
    form.hidden = true;
    await readWaiting();
    if (!shown.some((c) => c.id === id)) {
      try { await app.getJSON(app.CASES_URL, (data) => { shown = data || []; }); } catch (e) { /* shown below */ }
    }
    current = shown.find((c) => c.id === id) || null;
    app.ready("case");
    if (!current) { $("#case-title").textContent = T.cases.gone; $("#case-detail").replaceChildren(); return; }
    const c = current;
    $("#case-title").textContent = c.number;
    $("#case-detail").replaceChildren(
      el("p", { className: "hint", textContent: c.status_label + " · " + app.localTime(c.created_at) + (c.category ? " · " + c.category : "") }),
      el("p", { className: "description", textContent: c.description }),
      el("p", { className: "place", textContent: placeOf(c) }),
      ...(c.feedback ? [el("p", { className: "feedback", textContent: fmt(T.cases.feedback, { text: c.feedback }) })] : []),
      el("div", { className: "thumbs" }, ...c.photos.map((p) => el("a", { href: p.full, target: "_blank" }, thumbnail(p)))),
      el("p", {}, el("a", { href: "/cases/" + c.id + "/", textContent: T.cases.web })));
    if (waiting[c.id]) { $("#case-waiting").hidden = false; return; }
    if (!c.actions.length) return;
    form.reset();
    form.querySelectorAll("button[data-action]").forEach((button) => { button.hidden = !c.actions.includes(button.dataset.action); });
    form.elements.note.placeholder = c.actions.includes("handle_on_site") ? T.cases.howHandled : T.cases.whatIsWrong;
    $("#case-photo-label").firstChild.textContent = c.actions.includes("handle_on_site") ? T.cases.photoNeeded : T.cases.photoOptional;
    form.hidden = false;
  }

  // The button pressed says which action; each action's own rule is checked before it is queued.
  $("#case-form").addEventListener("submit", (event) => event.preventDefault());
  $("#case-form").querySelectorAll("button[data-action]").forEach((button) => button.addEventListener("click", () => act(button.dataset.action)));
  async function act(action) {
    const c = current;
    const form = $("#case-form");
    const note = form.elements.note.value.trim();
    const file = form.elements.photo.files[0];
    const error = $("#case-error");
    const missing = action === "verify_fail" && !note ? T.cases.sayWhatIsWrong
                  : action === "handle_on_site" && !file ? T.cases.photoRequired : "";
    error.hidden = !missing;
    error.textContent = missing;
    if (!c || missing) return;
    const body = { action, version: c.version, note };
    if (file) body.photo_ids = [];
    const lastFix = app.lastFix();
    if (lastFix) Object.assign(body, { lat: lastFix.lat, lng: lastFix.lng });
    const item = await app.enqueue(ACTION_KIND, body, file ? [{ blob: file, path: ["photo_ids", 0] }] : [], {
      url: "/api/v1/cases/" + c.id + "/transitions",
      caseId: c.id,
      what: { number: c.number, action },
    });
    form.hidden = true;
    await app.flush();
    const refused = app.refusedNow[item.key];
    if (refused) { error.hidden = false; error.textContent = refused.error; return; } // kept in the outbox too
    const done = $("#case-done");
    done.hidden = false;
    done.textContent = app.sent[item.key] ? fmt(T.cases.sent, { number: c.number, status: statusLabel(app.sent[item.key].status) })
                                          : T.cases.queued;
  }
  const statusLabel = (status) => app.config.caseStatuses[status] || status;

  // ---- the outbox: what a case action is; a change made meanwhile by someone else ----
  app.hooks.describe[ACTION_KIND] = (item) => fmt(T.outbox.caseAction, { number: item.what.number, action: T.cases.actions[item.what.action] });
  app.hooks.refused[ACTION_KIND] = async (item, response) => {
    if (response.status === 404) { item.error = T.cases.notFound; return; } // out of the user's reach now
    const answer = response.status === 409 ? await response.json().catch(() => ({})) : {};
    if (!("version" in answer)) return; // not a stale version: the server's own words stand
    // The case moved on while the phone was offline: say to what; the item stays until removed.
    let now = "";
    try {
      const current = await fetch("/api/v1/cases/" + item.caseId, { credentials: "same-origin" });
      if (current.ok) now = statusLabel((await current.json()).status);
    } catch (e) { /* the message says it without the state */ }
    item.error = now ? fmt(T.cases.changedTo, { status: now }) : T.cases.changed;
  };
  app.hooks.refusedLinks[ACTION_KIND] = (item) => [el("a", { href: "#case/" + item.caseId, textContent: T.cases.open })];
  // Sent: the list is fetched again (a verified or handled case leaves it).
  app.hooks.flushed.push((count) => {
    if (count && location.hash.startsWith("#cases")) loadCases();
  });

  app.pages.cases = loadCases;
  app.pages.case = openCase;
})();
