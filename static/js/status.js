// The resident's status page: when the number is called, fill the screen with the call,
// vibrate, play the chime and (if the resident allowed it) show a notification, once per
// call; offer the permission with a button.
"use strict";

(() => {
  const live = document.getElementById("status-live");
  if (!live) return;
  const originalTitle = document.title;
  let dismissed = null;

  function currentCall() {
    const card = live.querySelector('[data-state="called"][data-call-key]');
    return card ? card.dataset.callKey : null;
  }

  let lastCall = currentCall();

  // The call board's chime (static/sounds/chime.wav), so a call sounds the same everywhere.
  const chime = live.dataset.chime ? new Audio(live.dataset.chime) : null;
  if (chime) chime.preload = "auto";

  // Browsers let a page play sound only after the resident has touched it: a first touch
  // (the notify button, the language chooser, a tap anywhere) unlocks the chime for later.
  document.addEventListener("pointerdown", () => {
    if (chime) chime.play().then(() => chime.pause()).catch(() => {});
  }, { once: true });

  function playChime() {
    if (!chime) return;
    chime.currentTime = 0;
    chime.play().catch(() => {}); // no sound where the browser forbids it: the screen still tells
  }

  function showFullScreen(call) {
    const open = call !== null && call !== dismissed;
    const wasOpen = live.classList.contains("call-open");
    live.classList.toggle("call-open", open);
    const close = live.querySelector("[data-call-dismiss]");
    if (open && !wasOpen && close) close.focus({ preventScroll: true });
  }

  function alertResident() {
    const message = live.querySelector("[data-call-message]");
    // The plain text from the server: textContent would add easy Japanese's readings, "番(ばん)".
    const text = message ? (message.dataset.callMessage || message.textContent).trim() : "";
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
    playChime();
    document.title = `▶ ${text}`;
    if ("Notification" in window && Notification.permission === "granted") {
      try {
        new Notification(text, { tag: "frontyard-call", renotify: true });
      } catch (error) {
        // Some mobile browsers only notify through a service worker; the page still vibrates.
      }
    }
  }

  live.addEventListener("fy:live:state", () => {
    const call = currentCall();
    if (call && call !== lastCall) alertResident();
    if (!call) document.title = originalTitle;
    lastCall = call;
    showFullScreen(call);
  });

  live.addEventListener("click", (event) => {
    if (!event.target.closest("[data-call-dismiss]")) return;
    dismissed = currentCall();
    showFullScreen(dismissed);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && live.classList.contains("call-open")) {
      dismissed = currentCall();
      showFullScreen(dismissed);
    }
  });

  showFullScreen(lastCall);

  live.addEventListener("fy:live:gone", () => {
    const gone = live.dataset.goneText;
    if (gone) live.textContent = gone;
  });

  const offer = document.querySelector("[data-notify]");
  const button = document.querySelector("[data-notify-button]");
  if (offer && button && "Notification" in window && Notification.permission === "default") {
    offer.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await Notification.requestPermission();
      } finally {
        offer.hidden = true;
      }
    });
  }
})();
