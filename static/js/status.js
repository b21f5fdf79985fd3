// The resident's status page: when the number is called, fill the screen with the call,
// vibrate, play a short chime and (if the resident allowed it) show a notification, once per
// call; offer the permission with a button.
"use strict";

(() => {
  const live = document.getElementById("status-live");
  if (!live) return;
  const originalTitle = document.title;
  let dismissed = null;
  let audio = null;

  function currentCall() {
    const card = live.querySelector('[data-state="called"][data-call-key]');
    return card ? card.dataset.callKey : null;
  }

  let lastCall = currentCall();

  function audioContext() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    return audio;
  }

  // Browsers let a page play sound only after the resident has touched it: any first touch
  // (the notify button, the language chooser, a scroll tap) unlocks the chime for later.
  document.addEventListener("pointerdown", () => {
    const context = audioContext();
    if (context && context.state === "suspended") context.resume().catch(() => {});
  }, { once: true });

  function chime() {
    const context = audioContext();
    if (!context) return;
    if (context.state === "suspended") context.resume().catch(() => {});
    const start = context.currentTime + 0.05;
    [880, 660, 880].forEach((frequency, index) => {
      const tone = context.createOscillator();
      const volume = context.createGain();
      const at = start + index * 0.3;
      tone.frequency.value = frequency;
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      tone.connect(volume).connect(context.destination);
      tone.start(at);
      tone.stop(at + 0.27);
    });
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
    try {
      chime();
    } catch (error) {
      // No sound where the browser forbids it; the screen and the vibration still tell.
    }
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
