// Searchable pickers: pick an area, a category, a matter item or a building instead of typing a code.
//
// Progressive enhancement of a plain form field marked data-picker="<JSON url>" (an <input> or a
// <select>; without JS the page keeps that field as it is). The field is hidden and a search box
// takes its place: typing asks <url>?q=… (names and pinyin initials, matched on the server), an
// empty box shows the top of the tree (<url>), a row with children opens with ▸ (<url>?parent=…),
// and a field that already holds a value shows its label (<url>?value=…). Picking a row writes its
// value into the field (and its `fill` into other fields of the same form); a field marked
// data-picker-reload then reloads the page with ?<name>=<value>. Answers are
// {"results": [{value, label, hint, children, pick, fill}], "empty": "…"} (web/pickers.py).
// Text is only ever set with textContent: nothing from the server is parsed as HTML.
(function () {
  "use strict";
  let counter = 0;

  function ask(base, params) {
    const url = new URL(base, window.location.href);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.json() : { results: [] };
    });
  }

  function enhance(field) {
    if (field.dataset.pickerReady) return;
    field.dataset.pickerReady = "1";
    const base = field.dataset.picker;
    const id = "picker-" + ++counter;
    const box = document.createElement("input");
    box.type = "search";
    box.id = id;
    box.className = "picker-box";
    box.autocomplete = "off";
    box.placeholder = field.dataset.pickerPlaceholder || "";
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", "false");
    box.setAttribute("aria-controls", id + "-list");
    const list = document.createElement("ul");
    list.id = id + "-list";
    list.className = "picker-list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    const wrap = document.createElement("span");
    wrap.className = "picker";
    wrap.append(box, list);
    field.after(wrap);
    field.hidden = true;
    const label = field.closest("label");
    if (label) label.htmlFor = id;
    if (field.getAttribute("aria-label")) box.setAttribute("aria-label", field.getAttribute("aria-label"));

    // The label of the value already in the field: a select knows it, an input asks the server.
    if (field.tagName === "SELECT") {
      if (field.value) box.value = field.selectedOptions[0].textContent;
    } else if (field.value) {
      box.value = field.value;
      ask(base, { value: field.value }).then(function (data) {
        if (data.results.length && box.value === shown) box.value = shown = data.results[0].label;
      });
    }
    let shown = box.value; // the label of the field's value: what the box shows when not searching

    function open(show) {
      list.hidden = !show;
      box.setAttribute("aria-expanded", show ? "true" : "false");
    }

    function choose(row) {
      if (field.tagName === "SELECT" && ![...field.options].some((o) => o.value === row.value)) {
        field.add(new Option(row.label, row.value));
      }
      field.value = row.value;
      for (const [name, value] of Object.entries(row.fill || {})) {
        const other = field.form && field.form.elements[name];
        if (other) other.value = value;
      }
      box.value = shown = row.label;
      open(false);
      field.dispatchEvent(new Event("change", { bubbles: true }));
      if ("pickerReload" in field.dataset) {
        // The page offers more once it knows the value (a rental's rooms): load it with the value.
        const url = new URL(window.location.href);
        url.searchParams.set(field.name, row.value);
        window.location.assign(url);
      }
    }

    // Another script sets the value (a routing suggestion taken): {detail: {value, label}}.
    field.addEventListener("picker:set", function (event) {
      choose({ value: event.detail.value || "", label: event.detail.value ? event.detail.label : "" });
    });

    // One row: its label and hint; ▸ (or → on the keyboard) opens its children below it; a click
    // (or Enter) picks it, or opens it when it only groups others.
    function item(row, data) {
      const li = document.createElement("li");
      const line = document.createElement("div");
      line.className = "picker-row";
      line.id = id + "-" + ++counter;
      line.setAttribute("role", "option");
      line.dataset.value = row.value;
      const text = document.createElement("span");
      text.textContent = row.label;
      line.append(text);
      if (row.hint) {
        const hint = document.createElement("small");
        hint.textContent = row.hint;
        line.append(" ", hint);
      }
      if (row.pick === false) line.classList.add("group");
      li.append(line);
      if (row.children) {
        const toggle = document.createElement("button");
        toggle.type = "button";
        toggle.className = "toggle";
        toggle.textContent = "▸";
        toggle.tabIndex = -1;
        toggle.setAttribute("aria-expanded", "false");
        toggle.setAttribute("aria-label", data.expand || "");
        const sub = document.createElement("ul");
        line.flip = function (show) {
          const shown = toggle.getAttribute("aria-expanded") === "true";
          if (show === shown) return;
          toggle.setAttribute("aria-expanded", shown ? "false" : "true");
          toggle.textContent = shown ? "▸" : "▾";
          if (shown) sub.replaceChildren();
          else ask(base, { parent: row.value }).then((d) => fill(sub, d));
        };
        toggle.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          event.stopPropagation();
          line.flip();
        });
        line.prepend(toggle);
        li.append(sub);
      } else if (data.results.some((r) => r.children)) {
        const spacer = document.createElement("span"); // keeps the names of a level in line
        spacer.className = "spacer";
        line.prepend(spacer);
      }
      line.addEventListener("mousedown", function (event) {
        event.preventDefault();
        if (row.pick !== false) choose(row);
        else if (line.flip) line.flip();
      });
      return li;
    }

    function fill(target, data) {
      target.replaceChildren(...data.results.map((row) => item(row, data)));
      if (!data.results.length) {
        const none = document.createElement("li");
        none.className = "hint";
        none.textContent = data.empty || "";
        target.append(none);
      }
    }

    let timer = null;
    let asked = 0;
    function search() {
      const q = box.value.trim();
      const mine = ++asked; // answers arriving late for an older query are dropped
      ask(base, q && q !== shown ? { q: q } : {}).then(function (data) {
        if (mine !== asked) return;
        box.removeAttribute("aria-activedescendant");
        fill(list, data);
        open(true);
      });
    }

    box.addEventListener("focus", search);
    box.addEventListener("input", function () {
      if (!box.value.trim()) field.value = shown = ""; // an emptied box clears the field ("any area")
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    box.addEventListener("blur", function () {
      open(false);
      if (box.value.trim() && box.value !== shown) box.value = shown; // typed but not picked
    });
    box.addEventListener("keydown", function (event) {
      const rows = [...list.querySelectorAll(".picker-row")];
      const at = rows.findIndex((r) => r.classList.contains("active"));
      const active = rows[at];
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) return search();
        const next = rows[(at + (event.key === "ArrowDown" ? 1 : rows.length - 1)) % rows.length];
        rows.forEach((r) => r.classList.remove("active"));
        if (next) {
          next.classList.add("active");
          next.scrollIntoView({ block: "nearest" });
          box.setAttribute("aria-activedescendant", next.id);
        }
      } else if ((event.key === "ArrowRight" || event.key === "ArrowLeft") && active && active.flip) {
        event.preventDefault();
        active.flip(event.key === "ArrowRight");
      } else if (event.key === "Enter" && !list.hidden) {
        event.preventDefault(); // pick, do not send the form
        const pick = active || rows.find((r) => !r.classList.contains("group"));
        if (pick) pick.dispatchEvent(new MouseEvent("mousedown"));
      } else if (event.key === "Escape") {
        open(false);
      }
    });
  }

  function enhanceAll(root) {
    if (root.matches && root.matches("[data-picker]")) enhance(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-picker]").forEach(enhance);
  }
  // At page load and in every part htmx swaps in (the case page's action forms).
  htmx.onLoad(enhanceAll);
})();
