// The kiosk's browser side: the privacy countdown after idle time, and the display toggles.
// Timings come from data-* attributes of #kiosk-idle, read each time the timer is armed
// (tests shorten them). Nothing is stored in the browser: the server keeps the state.
"use strict";

(() => {
  const ACTIVITY = ["pointerdown", "keydown", "touchstart", "input", "wheel"];
  let idleTimer = null;
  let tickTimer = null;
  let remaining = 0;

  const dialog = () => document.getElementById("kiosk-idle");

  function seconds(name, fallback) {
    const value = Number(dialog().dataset[name]);
    return Number.isFinite(value) && value > 0 ? value : fallback;
  }

  function arm() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(warn, seconds("idleSeconds", 60) * 1000);
  }

  function show() {
    dialog().querySelector("[data-countdown]").textContent = String(Math.max(remaining, 0));
  }

  function warn() {
    remaining = Math.round(seconds("countdownSeconds", 15));
    dialog().hidden = false;
    show();
    dialog().querySelector("[data-idle-continue]").focus();
    clearInterval(tickTimer);
    tickTimer = setInterval(() => {
      remaining -= 1;
      show();
      if (remaining <= 0) {
        clearInterval(tickTimer);
        clear();
      }
    }, 1000);
  }

  function clear() {
    // The server deletes the session and everything typed; the browser only follows.
    const form = document.getElementById("kiosk-reset");
    if (form) form.submit();
    else window.location.assign("/kiosk");
  }

  function keepGoing() {
    clearInterval(tickTimer);
    dialog().hidden = true;
    arm();
  }

  function onActivity(event) {
    if (!dialog().hidden) {
      if (event.type === "keydown" && event.key === "Escape") keepGoing();
      return;  // only "continue" (or Escape) stops the countdown
    }
    arm();
  }

  function setUpIdle() {
    if (!dialog()) return;
    ACTIVITY.forEach((type) => document.addEventListener(type, onActivity, { capture: true, passive: true }));
    dialog().querySelector("[data-idle-continue]").addEventListener("click", keepGoing);
    arm();
  }

  function setUpToggles() {
    const form = document.querySelector("[data-display-toggles]");
    if (!form) return;
    form.addEventListener("submit", (event) => {
      const button = event.submitter;
      if (!button || !button.dataset.class) return;
      event.preventDefault();
      // Switch at once, without reloading (a reload would lose what is typed in a form).
      const on = document.documentElement.classList.toggle(button.dataset.class);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      const body = new FormData();
      body.append("toggle", button.value);
      fetch(form.action, { method: "POST", body, headers: { Accept: "application/json" }, credentials: "same-origin" });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUpIdle();
    setUpToggles();
  });
})();
