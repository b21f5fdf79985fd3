// The call board: announces each new call once — a visual flash, the chime, then the spoken
// call in Japanese and in the language its second line shows — one call at a time, so two
// calls never talk over each other, with the number highlighted while it is being spoken.
// The languages after Japanese (lang-2, lang-3… in the page) take turns on the second line:
// data-showing on the screen names the one shown; it holds still while a call is spoken.
"use strict";

(() => {
  const board = document.querySelector("[data-board]");
  if (!board) return;

  const SPEECH_TIMEOUT = 15000; // an utterance that never ends must not block the queue
  const CHIME_TIMEOUT = 4000;
  const SILENT_DISPLAY = 4000; // how long a call stays highlighted when nothing can be spoken

  // Calls already on the screen when the page loaded are not announced again.
  const announced = new Set(JSON.parse(board.dataset.seenCalls || "[]"));
  const pending = [];
  let running = false;
  let speakingNumber = null;
  const chime = new Audio(board.dataset.chime);
  chime.preload = "auto";
  const flash = board.querySelector("[data-board-flash]");
  const announcer = board.querySelector("[data-board-announcer]");

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // How many languages take turns: the headings carry every one of them (settings may change
  // while the board runs, so this is counted again at each turn).
  function rotatingCount() {
    const heading = board.querySelector(".board-live h2");
    if (!heading) return 1;
    let count = 0;
    while (heading.querySelector(`.lang-${count + 2}`)) count += 1;
    return Math.max(count, 1);
  }

  function showing() {
    return Number(board.dataset.showing) || 2;
  }

  function rotate() {
    if (speakingNumber !== null) return; // what is heard matches what is shown
    const count = rotatingCount();
    const next = ((showing() - 2 + 1) % count) + 2;
    if (next !== showing()) board.dataset.showing = String(next);
  }

  const every = Number(board.dataset.rotateEvery) || 8000;
  setInterval(rotate, every);

  function voiceFor(lang) {
    if (!window.speechSynthesis || typeof speechSynthesis.getVoices !== "function") return null;
    const voices = speechSynthesis.getVoices() || [];
    const language = lang.split("-")[0];
    return voices.find((v) => v.lang === lang) || voices.find((v) => v.lang && v.lang.split(/[-_]/)[0] === language) || null;
  }

  function speak(utterance) {
    if (!window.speechSynthesis || !window.SpeechSynthesisUtterance) return sleep(SILENT_DISPLAY / 2);
    return new Promise((resolve) => {
      const spoken = new SpeechSynthesisUtterance(utterance.text);
      spoken.lang = utterance.lang;
      const voice = voiceFor(utterance.lang);
      if (voice) spoken.voice = voice;
      spoken.rate = 0.9;
      const timer = setTimeout(resolve, SPEECH_TIMEOUT);
      const done = () => { clearTimeout(timer); resolve(); };
      spoken.onend = done;
      spoken.onerror = done; // e.g. not allowed before the first click: the screen still shows it
      speechSynthesis.speak(spoken);
    });
  }

  function playChime() {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CHIME_TIMEOUT);
      const done = () => { clearTimeout(timer); resolve(); };
      chime.onended = done;
      chime.currentTime = 0;
      const playing = chime.play();
      if (playing && typeof playing.catch === "function") playing.catch(done);
    });
  }

  function highlight() {
    for (const element of board.querySelectorAll(".speaking")) element.classList.remove("speaking");
    if (speakingNumber === null) return;
    for (const element of board.querySelectorAll("[data-ticket]")) {
      if (element.dataset.ticket === speakingNumber) element.classList.add("speaking");
    }
  }

  function showFlash() {
    if (!flash) return;
    flash.classList.remove("on");
    void flash.offsetWidth; // restart the animation
    flash.classList.add("on");
  }

  // Japanese, then the language the second line shows now (a board changed to fewer
  // languages falls back to its first one after Japanese).
  function toSpeak(call) {
    const slot = showing() <= rotatingCount() + 1 ? showing() : 2;
    const chosen = call.utterances.filter((u) => u.slot === undefined || u.slot === 1 || u.slot === slot);
    return chosen.length > 1 || call.utterances.length < 2 ? chosen : call.utterances.slice(0, 2);
  }

  async function announce(call) {
    speakingNumber = call.number;
    highlight();
    showFlash();
    const utterances = toSpeak(call);
    if (announcer) announcer.textContent = utterances.map((u) => u.text).join(" ");
    board.dataset.speaking = call.number;
    await playChime();
    for (const utterance of utterances) await speak(utterance);
    await sleep(600);
    speakingNumber = null;
    delete board.dataset.speaking;
    highlight();
  }

  async function run() {
    board.dataset.queued = String(pending.length); // calls waiting for their turn to be spoken
    if (running) return;
    running = true;
    try {
      while (pending.length) {
        const call = pending.shift();
        board.dataset.queued = String(pending.length);
        await announce(call);
      }
    } finally {
      running = false;
    }
  }

  board.addEventListener("fy:live:state", (event) => {
    const calls = event.detail.message.calls || [];
    for (const call of calls) {
      if (announced.has(call.id)) continue;
      announced.add(call.id);
      pending.push(call);
    }
    // Forget ids the server no longer lists, so a board that runs for days does not grow.
    const listed = new Set(calls.map((call) => call.id));
    for (const id of announced) if (!listed.has(id)) announced.delete(id);
    if (showing() > rotatingCount() + 1) board.dataset.showing = "2"; // fewer languages now
    highlight(); // the swap replaced the highlighted element
    run();
  });

  const startButton = board.querySelector("[data-board-start]");
  if (startButton) {
    startButton.addEventListener("click", () => {
      // One click grants the page sound (browsers block it until then) and full screen.
      chime.play().then(() => chime.pause()).catch(() => {});
      if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
      board.classList.add("started");
    });
  }
})();
