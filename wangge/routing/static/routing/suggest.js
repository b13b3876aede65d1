// Routing suggestions on the entry forms (staff and hotline): a click on a suggestion sets the
// form's category and matter item (through the pickers when they are enhanced).
(function () {
  function set(form, name, value, label) {
    const field = form && form.elements[name];
    if (!field) return;
    if (field.dataset.pickerReady) {
      field.dispatchEvent(new CustomEvent("picker:set", { detail: { value: value, label: label } }));
      return;
    }
    if (field.tagName === "SELECT" && value && ![...field.options].some((o) => o.value === value)) {
      field.add(new Option(label, value));
    }
    field.value = value || "";
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }

  if (window.wanggeRouteSuggest) return;
  window.wanggeRouteSuggest = true;
  document.addEventListener("click", function (event) {
    const chip = event.target.closest("[data-route-category-name]");
    if (!chip) return;
    const form = chip.closest("form");
    set(form, "category", chip.dataset.routeCategory, chip.dataset.routeCategoryName);
    set(form, "matter_item", chip.dataset.routeMatterItem, chip.dataset.routeMatterItemName);
    for (const other of chip.closest("ul").querySelectorAll("button")) other.setAttribute("aria-pressed", "false");
    chip.setAttribute("aria-pressed", "true");
  });
})();
