// Area tree: a ▸ button loads the children of an area (htmx partial); ▾ closes it again.
document.addEventListener("click", function (event) {
  const button = event.target.closest("button.toggle[data-children-url]");
  if (!button) return;
  const subtree = button.parentElement.querySelector(":scope > .subtree");
  if (button.getAttribute("aria-expanded") === "true") {
    subtree.innerHTML = "";
    button.setAttribute("aria-expanded", "false");
    button.textContent = "▸";
    return;
  }
  button.setAttribute("aria-expanded", "true");
  button.textContent = "▾";
  htmx.ajax("GET", button.dataset.childrenUrl, { target: subtree, swap: "innerHTML" });
});

// A field marked data-autosubmit sends its form when changed (the language menu, a day picker):
// a listener here, not an onchange attribute, which the Content-Security-Policy blocks.
document.addEventListener("change", function (event) {
  if (event.target.matches("[data-autosubmit]") && event.target.form) event.target.form.requestSubmit();
});

// An action refused by the server (400 not allowed now, 403 not your role, 409 someone was faster)
// comes back as the page part with the reason: show it instead of dropping it.
document.addEventListener("htmx:beforeSwap", function (event) {
  if ([400, 403, 409].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
