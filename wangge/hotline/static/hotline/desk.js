// The hotline desk's keys: Alt+<key> focuses a field or presses a button marked data-shortcut;
// Alt+3 the place search, Alt+L the first "link the caller" button offered.
(function () {
  "use strict";
  const form = document.getElementById("call-form");
  if (!form) return;
  function target(key) {
    if (key === "3") return document.getElementById("place-q");
    if (key === "l") return document.querySelector(".link-caller");
    return document.querySelector('[data-shortcut="' + key + '"]');
  }
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const key = (event.code.startsWith("Digit") ? event.code.slice(5) : event.code.replace("Key", "")).toLowerCase();
    const el = target(key);
    if (!el) return;
    event.preventDefault();
    if (el.tagName === "BUTTON") el.click();
    else el.focus();
  });
  // A consultation needs the answer, a complaint does not: show the field that applies.
  const answer = form.querySelector("[name=answer]");
  function showAnswer() {
    const kind = form.querySelector("[name=kind]:checked");
    if (answer) answer.closest("label").hidden = !(kind && kind.value === "consultation");
  }
  form.querySelectorAll("[name=kind]").forEach((r) => r.addEventListener("change", showAnswer));
  showAnswer();
  // Enter in the number field looks the caller up instead of saving the form.
  const phone = form.querySelector("[name=reporter_phone]");
  phone.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); phone.dispatchEvent(new Event("search")); form.querySelector("[name=reporter_name]").focus(); }
  });
})();
