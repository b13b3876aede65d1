// The scheme form (evaluation/schemes/form.html): add and remove rows of indicators and of
// deductions/bonuses, show the unit a target is typed in, and keep the running total of weights.
// Rows are cloned from <template> elements; no inline script or handler (see the CSP).
(function () {
  const form = document.getElementById("scheme-form");
  if (!form) return;
  const total = document.getElementById("weight-total");

  function recount() {
    let sum = 0;
    form.querySelectorAll('input[name="item_weight"]').forEach(function (input) {
      const value = parseFloat(input.value);
      if (!isNaN(value)) sum += value;
    });
    sum = Math.round(sum * 10000) / 10000;
    total.textContent = String(sum);
    total.classList.toggle("off", sum !== Number(total.dataset.goal));
  }

  function showUnit(select) {
    const row = select.closest("tr");
    const unit = row && row.querySelector("[data-unit-label]");
    const option = select.selectedOptions[0];
    if (unit) unit.textContent = option ? option.dataset.unit || "" : "";
  }

  document.addEventListener("click", function (event) {
    const add = event.target.closest("[data-add-row]");
    if (add) {
      const kind = add.dataset.addRow;
      const template = document.getElementById(kind + "-row-template");
      const body = form.querySelector('[data-rows="' + kind + '"]');
      body.appendChild(template.content.cloneNode(true));
      const added = body.lastElementChild;
      if (added) added.querySelector("select").focus();
      return;
    }
    const remove = event.target.closest("[data-remove-row]");
    if (remove && form.contains(remove)) {
      remove.closest("tr").remove();
      recount();
    }
  });

  form.addEventListener("input", function (event) {
    if (event.target.name === "item_weight") recount();
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "item_indicator") showUnit(event.target);
  });
  recount();
})();
