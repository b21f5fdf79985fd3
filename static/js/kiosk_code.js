// "I entered my details at home": read the resident's QR code with the kiosk's camera
// (getUserMedia + a canvas + the vendored jsQR) and post it like a typed code; the on-screen
// keys type the code's symbols. Without a camera or JavaScript the typed form still works.
"use strict";

(() => {
  const form = document.querySelector("[data-code-form]");
  if (!form) return;
  const input = form.querySelector("input[name=code]");

  const keys = form.querySelector("[data-code-keys]");
  keys.hidden = false;
  keys.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-key-back")) {
      input.value = input.value.slice(0, -1);
    } else {
      input.value += button.dataset.key;
    }
  });

  const box = document.querySelector("[data-code-camera]");
  const video = document.querySelector("[data-code-video]");
  const canvas = document.querySelector("[data-code-canvas]");
  if (!box || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  let stream = null;
  let done = false;

  function stop() {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  function scan() {
    if (done || !stream) return;
    if (video.readyState >= 2 && video.videoWidth > 0) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = window.jsQR(image.data, image.width, image.height,
                                { inversionAttempts: "dontInvert" });
      if (found && found.data) {
        done = true;
        input.value = found.data.trim().slice(0, 64);
        stop();
        form.submit();
        return;
      }
    }
    setTimeout(() => requestAnimationFrame(scan), 150);
  }

  navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false })
    .then((media) => {
      stream = media;
      video.srcObject = media;
      box.hidden = false;
      return video.play();
    })
    .then(scan)
    .catch(() => { box.hidden = true; stop(); });
  window.addEventListener("pagehide", stop);
})();
