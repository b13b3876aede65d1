// The outbox's list (待发送): what each waiting item is, in words, and when it was made, in the
// city's time and the user's language; a refused item with why, and what the user can do about it.
(function () {
  "use strict";
  const app = window.wanggeField;
  const { config, T, $, el } = app;

  // "%(name)s" placeholders, as in the server's catalogues the texts come from.
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (all, name) => (name in values ? values[name] : all));

  const clock = new Intl.DateTimeFormat(config.locale, { timeZone: config.timeZone, hour: "2-digit", minute: "2-digit", hour12: false });
  const dayAndClock = new Intl.DateTimeFormat(config.locale, { timeZone: config.timeZone, month: "long", day: "numeric",
                                                               hour: "2-digit", minute: "2-digit", hour12: false });
  const dayOf = (date) => new Intl.DateTimeFormat("en-CA", { timeZone: config.timeZone }).format(date);
  // Today: 16:38; another day: 12月1日 16:38.
  function localTime(iso) {
    const at = new Date(iso);
    return (dayOf(at) === dayOf(new Date()) ? clock : dayAndClock).format(at);
  }

  function describe(item) {
    const what = item.what || {};
    if (app.hooks.describe[item.kind]) return app.hooks.describe[item.kind](item);
    if (item.kind === "case") return fmt(T.outbox.case, { text: (item.body.description || "").slice(0, 30) });
    if (item.kind === "inspection") {
      const target = what.target || item.label || "";
      return what.checklist ? fmt(T.outbox.inspectionWith, { target, checklist: what.checklist }) : fmt(T.outbox.inspection, { target });
    }
    if (item.kind === "resident") return fmt(T.outbox.resident, { name: item.body.name, room: item.label || "" });
    return fmt(T.outbox.positions, { n: item.body.points.length });
  }

  async function refreshOutbox() {
    const items = (await app.allItems()).filter((i) => i.username === config.username);
    $("#outbox-count").textContent = items.length;
    $("#outbox").replaceChildren(...items.map(outboxItem));
  }
  function outboxItem(item) {
    const li = el("li", { className: item.error ? "error" : "" },
      el("time", { className: "when", dateTime: item.created, textContent: localTime(item.created) }), " ",
      el("span", { className: "what", textContent: describe(item) }));
    if (item.photos && item.photos.length) li.append(" ", el("span", { className: "hint", textContent: fmt(T.outbox.photos, { n: item.photos.length }) }));
    if (!item.error) return li;
    // Refused for good: never sent again. Corrected (a resident), looked at (a case), or removed.
    li.append(el("span", { className: "reason", textContent: T.failed + item.error }));
    if (item.kind === "resident") li.append(" ", el("a", { href: "#register/fix/" + item.seq, textContent: T.fix }));
    (app.hooks.refusedLinks[item.kind] || (() => []))(item).forEach((link) => li.append(" ", link));
    li.append(" ", el("button", { type: "button", className: "discard", textContent: T.discard, onclick: async () => {
      if (!window.confirm(T.discardConfirm)) return;
      await app.deleteItem(item.seq);
      refreshOutbox();
    } }));
    return li;
  }

  Object.assign(app, { fmt, localTime, refreshOutbox });
})();
