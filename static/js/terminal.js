// The staff terminal: keyboard shortcuts for every button, and the pre-filled details panel
// emptied as soon as the ticket it belongs to leaves the counter.
"use strict";

(() => {
  function typing(target) {
    return target instanceof HTMLElement && (target.isContentEditable || target.matches("input, textarea, select"));
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) return;
    const key = event.key.length === 1 ? event.key.toUpperCase() : event.key.toUpperCase();
    const live = document.getElementById("terminal-live");
    if (!live) return;
    const control = Array.from(live.querySelectorAll("[data-shortcut]"))
      .find((element) => element.dataset.shortcut.toUpperCase() === key && !element.disabled);
    if (!control) return;
    event.preventDefault();
    if (control.matches("select, input")) control.focus();
    else control.click();
  });

  function clearStaleDetails() {
    const details = document.getElementById("terminal-details");
    const current = document.querySelector("[data-current-task]");
    const shown = details && details.querySelector("[data-details-task]");
    if (!shown) return;
    const currentTask = current ? current.dataset.currentTask : "";
    if (shown.dataset.detailsTask !== currentTask) details.replaceChildren();
  }

  document.addEventListener("fy:live:state", clearStaleDetails);
  document.addEventListener("htmx:after:swap", clearStaleDetails);
})();
