// The case page's irreversible actions: the button opens the form's dialog, which asks for the
// reason (required) before anything is sent. Delegated, so it keeps working after htmx swaps.
(function () {
  document.addEventListener("click", (e) => {
    const open = e.target.closest("[data-open-confirm]");
    if (open) {
      const form = open.closest("form");
      const dialog = form.querySelector("dialog.confirm-dialog");
      // The action's own fields first (say, the case to merge into): the dialog only asks why.
      const invalid = [...form.elements].find((f) => !dialog.contains(f) && f.willValidate && !f.checkValidity());
      if (invalid) { invalid.reportValidity(); return; }
      dialog.showModal();
      dialog.querySelector("textarea").focus();
      return;
    }
    const close = e.target.closest("[data-close-confirm]");
    if (close) close.closest("dialog").close();
  });
})();
