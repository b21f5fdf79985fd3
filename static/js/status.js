// The resident's status page: when the number is called, vibrate and (if the resident allowed
// it) show a notification, once per call; offer the permission with a button.
"use strict";

(() => {
  const live = document.getElementById("status-live");
  if (!live) return;
  const originalTitle = document.title;

  function currentCall() {
    const card = live.querySelector('[data-state="called"][data-call-key]');
    return card ? card.dataset.callKey : null;
  }

  let lastCall = currentCall();

  function alertResident() {
    const message = live.querySelector("[data-call-message]");
    // The plain text from the server: textContent would add easy Japanese's readings, "番(ばん)".
    const text = message ? (message.dataset.callMessage || message.textContent).trim() : "";
    if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]);
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
  });

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
