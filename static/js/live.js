// Live screens: one websocket per page that receives the screen's full state on every
// (re)connect and after every change, swaps the HTML parts it carries, answers the server's
// pings and reconnects by itself with exponential backoff. No inline scripts: pages mark
// the live element with data-live-socket (and data-live-hello for a first message).
"use strict";

(() => {
  const SILENCE_LIMIT = 50000; // no message (not even a ping) for this long: the socket is dead
  const FIRST_DELAY = 1000;
  const MAX_DELAY = 30000;

  function socketUrl(path) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${path}`;
  }

  class LiveScreen {
    constructor(root) {
      this.root = root;
      this.url = socketUrl(root.dataset.liveSocket);
      this.hello = root.dataset.liveHello || null;
      this.statusLine = document.querySelector("[data-live-status]");
      this.reconnectingText = root.dataset.liveReconnecting || document.documentElement.dataset.liveReconnecting || "…";
      this.lastParts = new Map();
      this.socket = null;
      this.attempt = 0;
      this.retryTimer = null;
      this.silenceTimer = null;
      this.stopped = false;
      this.applying = Promise.resolve();
      document.addEventListener("visibilitychange", () => { if (!document.hidden) this.reconnectNow(); });
      window.addEventListener("online", () => this.reconnectNow());
      this.connect();
    }

    connect() {
      this.retryTimer = null;
      if (this.stopped) return;
      let socket;
      try {
        socket = new WebSocket(this.url);
      } catch (error) {
        this.retryLater();
        return;
      }
      this.socket = socket;
      socket.addEventListener("open", () => {
        this.attempt = 0;
        if (this.hello) socket.send(this.hello);
        this.showStatus("");
        this.heardFrom(socket);
      });
      socket.addEventListener("message", (event) => {
        this.heardFrom(socket);
        this.applying = this.applying.then(() => this.receive(event.data)).catch((error) => console.error(error));
      });
      socket.addEventListener("close", () => this.lost(socket));
    }

    heardFrom(socket) {
      clearTimeout(this.silenceTimer);
      // A half-open connection (Wi-Fi gone, proxy dropped it) never fires "close" by itself.
      this.silenceTimer = setTimeout(() => {
        socket.close();
        this.lost(socket);
      }, SILENCE_LIMIT);
    }

    lost(socket) {
      if (this.socket !== socket) return; // an older socket, already replaced
      this.socket = null;
      clearTimeout(this.silenceTimer);
      if (this.stopped) return;
      this.showStatus(this.reconnectingText);
      this.retryLater();
    }

    retryLater() {
      if (this.retryTimer !== null || this.stopped) return;
      const base = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** this.attempt);
      this.attempt += 1;
      const delay = base * (0.7 + Math.random() * 0.6); // jitter: screens do not reconnect in step
      this.retryTimer = setTimeout(() => this.connect(), delay);
    }

    reconnectNow() {
      if (this.socket !== null || this.stopped) return;
      clearTimeout(this.retryTimer);
      this.attempt = 0;
      this.connect();
    }

    send(message) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
    }

    stop() {
      this.stopped = true;
      clearTimeout(this.retryTimer);
      clearTimeout(this.silenceTimer);
      if (this.socket) this.socket.close(1000);
      this.socket = null;
    }

    async receive(text) {
      let message;
      try {
        message = JSON.parse(text);
      } catch (error) {
        return;
      }
      if (message.type === "ping") {
        this.send({ type: "pong" });
      } else if (message.type === "state") {
        const changed = [];
        for (const [id, html] of Object.entries(message.parts || {})) {
          if (this.lastParts.get(id) === html) continue; // same state again: keep the DOM (and focus)
          this.lastParts.set(id, html);
          await swap(id, html);
          changed.push(id);
        }
        this.root.dispatchEvent(new CustomEvent("fy:live:state", { bubbles: true, detail: { message, changed } }));
      } else if (message.type === "gone") {
        this.stop();
        this.root.dispatchEvent(new CustomEvent("fy:live:gone", { bubbles: true }));
      } else if (message.type === "error") {
        console.warn("live screen:", message.error);
      }
    }

    showStatus(text) {
      // A page may give the message as HTML (easy Japanese's readings) in a <template>.
      const rich = text ? document.querySelector("template[data-live-reconnecting-html]") : null;
      if (this.statusLine && rich && text === this.reconnectingText) {
        this.statusLine.replaceChildren(rich.content.cloneNode(true));
      } else if (this.statusLine) {
        this.statusLine.textContent = text;
      }
      document.documentElement.classList.toggle("live-offline", text !== "");
    }
  }

  async function swap(id, html) {
    const target = document.getElementById(id);
    if (!target) return;
    const active = document.activeElement;
    const focusKey = active && target.contains(active) ? active.dataset.focusKey : null;
    if (window.htmx && typeof window.htmx.swap === "function") {
      await window.htmx.swap({ sourceElement: target, target, swap: "innerHTML", text: html, transition: false });
    } else {
      target.innerHTML = html;
    }
    // Keep the keyboard where it was: staff press shortcuts while the list changes under them.
    if (focusKey) {
      const again = target.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`);
      if (again && !again.disabled) again.focus();
    }
  }

  function start() {
    window.frontyardLive = Array.from(document.querySelectorAll("[data-live-socket]"), (root) => new LiveScreen(root));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
