// Frontyard's shared browser code. Pages stay usable without it; it only adds what the
// browser alone can do. No inline scripts anywhere: the CSP forbids them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the main content after htmx swaps a whole page section, for screen readers.
  document.body.addEventListener("htmx:after:swap", (event) => {
    const focusTarget = event.target && event.target.querySelector && event.target.querySelector("[data-autofocus]");
    if (focusTarget) focusTarget.focus();
  });
  // Print buttons (the kiosk's guide and ticket, the counter's forms): print CSS does the rest.
  document.body.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
});
