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
    if (answer) answer.closest("label").style.display = kind && kind.value === "consultation" ? "" : "none";
  }
  form.querySelectorAll("[name=kind]").forEach((r) => r.addEventListener("change", showAnswer));
  showAnswer();
  // Enter in the number field looks the caller up instead of saving the form.
  const phone = form.querySelector("[name=reporter_phone]");
  phone.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); phone.dispatchEvent(new Event("search")); form.querySelector("[name=reporter_name]").focus(); }
  });
})();
// Down arrow from the place search goes to its first result (Enter picks it).
document.addEventListener("keydown", (event) => {
  if (event.key !== "ArrowDown" || !event.target.matches("#place-q, .place-hit")) return;
  const hits = Array.from(document.querySelectorAll(".place-hit"));
  const next = hits[hits.indexOf(event.target) + 1];
  if (next) { event.preventDefault(); next.focus(); }
});
// A place found by its address names the place too, when the operator has not written one.
document.addEventListener("click", (event) => {
  const hit = event.target.closest(".place-hit");
  const address = document.querySelector("#call-form [name=address]");
  if (hit && address && !address.value) address.value = hit.textContent.trim().slice(0, 200);
});
