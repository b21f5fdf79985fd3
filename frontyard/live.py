"""Live screens over websockets: full state on every (re)connect and after every change,
rendered once per audience and handed to all of its sockets.

How a change reaches a screen:

1. An endpoint changes the queue and calls `realtime.announce(session, hub, "office:1", …)`
   in the same transaction; after the commit the hub of every worker publishes it.
2. In each worker, one *watcher* task per topic (only while some socket watches it) wakes
   up, drains whatever else arrived meanwhile (a burst costs one render), and asks every
   audience of the topic for its new state in one worker thread: the board of office 1 in
   Japanese + English is rendered once, whether two or two hundred sockets show it.
3. A state identical to the one sent before is not sent again. A new one is sent to every
   idle socket of the audience in one plain loop; a socket whose sender is busy (a ping or
   an earlier state still being written) gets it in its mailbox, which keeps only the newest
   state. uvicorn's websocket protocol (`websockets-sansio`, which `frontyard serve` pins)
   hands each frame to the transport's buffer without waiting, so a slow phone never holds
   up the loop.

Each socket has one long-lived sender (the endpoint's own task) and one reader; no task is
created per message. A heartbeat pings every socket every `ping_interval` seconds (a slice
of them each second, not all at once) and closes those silent for `dead_after` seconds; it
also re-renders every watched topic every `refresh_interval` seconds, because waited minutes
change without any event.

An audience is any hashable value with a `topic` and a `render_many(app, audiences)`
classmethod (called in a worker thread with audiences of one class and one topic) that
returns the JSON text of each one's state, or a function that makes it (see `Payload`); an
optional class attribute `render_priority` orders the kinds of screen after a change (lowest
first).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketState

from frontyard.realtime import Hub

log = logging.getLogger("frontyard.live")

PING = json.dumps({"type": "ping"})
TICK = {"type": "tick"}
#: Clients only ever send small control messages; anything larger is refused.
MAX_INCOMING = 2048
#: Close code for a socket that stopped answering pings (the client reconnects).
GOING_AWAY = 1001
#: The heartbeat pings a slice of the sockets this often (seconds), each socket once per
#: `ping_interval`: three thousand phones answering the same millisecond would hold up
#: every screen's next update for tens of milliseconds.
PING_SLICE = 1.0
#: How many states the send loop formats and sends before it lets other tasks run.
SEND_BATCH = 64

#: An audience's state: its JSON text, or a function (no database work) that makes it. The
#: database is read in a worker thread; deferred formatting runs in the event loop just
#: before the send, so the first of three hundred phones gets its state while the others
#: are still being formatted instead of after all of them.
Payload = str | Callable[[], str]


def made(payload: Payload) -> str:
    """The JSON text of a payload, formatting it now if it was deferred."""
    return payload if isinstance(payload, str) else payload()


class Audience(Protocol):
    """Who watches one rendering of a screen (e.g. the board of office 1 in ja + en)."""

    topic: str

    def __hash__(self) -> int: ...

    @classmethod
    def render_many(cls, app: Any, audiences: Sequence[Any]) -> dict[Any, Payload]:
        """The state message of each audience (runs in a worker thread)."""
        ...


def error_message(text: str) -> str:
    """The message a client gets for a message the server cannot use."""
    return json.dumps({"type": "error", "error": text})


def same_origin(websocket: WebSocket, trusted: Sequence[str] = ()) -> bool:
    """Whether a browser opened this socket from one of our pages.

    Browsers always send Origin on websockets and pages cannot forge it, so a cookie-signed
    screen refuses sockets opened by other sites (cross-site websocket hijacking).
    """
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: it cannot carry a victim's cookies
    if origin.rstrip("/") in {url.rstrip("/") for url in trusted}:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


class Channel:
    """One connected socket: its audience, mailbox and liveness."""

    __slots__ = ("audience", "closed", "control", "last_seen", "owner", "ping_slot", "sending",
                 "seq", "state", "wakeup", "websocket")

    def __init__(self, websocket: WebSocket, audience: Hashable, ping_slot: int = 0,
                 owner: str | None = None) -> None:
        self.websocket = websocket
        self.audience = audience
        self.owner = owner  # who opened it ("device:3", "user:5"): revoking them closes it
        self.ping_slot = ping_slot  # which of the heartbeat's slices pings this socket
        self.state: str | None = None  # the newest state not yet sent
        self.seq = 0  # the version of the newest state offered
        self.control: deque[str] = deque(maxlen=8)
        self.wakeup = asyncio.Event()
        self.last_seen = time.monotonic()
        self.closed = False
        self.sending = False  # a send to this socket is in progress

    def offer(self, seq: int, payload: str) -> None:
        """Keep `payload` as the state to send, unless a newer one was offered already."""
        if seq > self.seq:
            self.seq = seq
            self.state = payload
            self.wakeup.set()

    def push(self, message: str) -> None:
        """Queue a control message (ping, error) to send before the next state."""
        self.control.append(message)
        self.wakeup.set()

    def close(self) -> None:
        """Stop the sender; the endpoint then closes the socket."""
        self.closed = True
        self.wakeup.set()


class Fanout:
    """The live screens of one process: audiences, their sockets and the topic watchers."""

    def __init__(self, hub: Hub, app: Any, *, ping_interval: float = 20.0,
                 dead_after: float = 50.0, refresh_interval: float = 60.0) -> None:
        self.hub = hub
        self.app = app
        self.ping_interval = ping_interval
        self.dead_after = dead_after
        self.refresh_interval = refresh_interval
        self._channels: dict[Hashable, set[Channel]] = {}
        self._cache: dict[Hashable, tuple[int, str]] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._ready: dict[str, asyncio.Event] = {}
        self._in_flight: set[asyncio.Future[dict[Any, str]]] = set()
        self._pending: dict[str, asyncio.Queue[Any]] = {}  # each watched topic's hub queue
        self._refreshes_begun: dict[str, int] = {}  # per watched topic
        self._refreshes_done: dict[str, int] = {}
        self._settle_waiters: list[asyncio.Future[None]] = []  # see `settled`
        self._heartbeat: asyncio.Task[None] | None = None
        self._versions = itertools.count(1)
        self._ping_slots = itertools.count()
        self.renders = 0  # how many audience renderings ran (tests and metrics read it)

    # -- sockets -----------------------------------------------------------------------------

    async def serve(self, websocket: WebSocket, audience: Any, owner: str | None = None) -> None:
        """Run an accepted socket for `audience` until either side closes it."""
        channel = Channel(websocket, audience, next(self._ping_slots), owner)
        self._channels.setdefault(audience, set()).add(channel)
        reader = asyncio.create_task(self._read(channel))
        try:
            await self._ensure_watcher(audience.topic)
            self._ensure_heartbeat()
            await self._offer_initial(channel)
        except Exception:
            log.exception("could not render a live screen; the client will reconnect")
            channel.close()
        try:
            await self._send_loop(channel)
        except Exception as error:  # the client went away mid-send: it reconnects by itself
            log.debug("live socket ended: %r", error)
        finally:
            reader.cancel()
            await self._leave(channel)

    async def _offer_initial(self, channel: Channel) -> None:
        cached = self._cache.get(channel.audience)
        if cached is not None:  # kept current by the watcher: no database work on reconnects
            channel.offer(*cached)
            return
        seq = next(self._versions)
        payloads = await self._render_in_thread([channel.audience])
        payload = made(payloads[channel.audience])
        self._remember(channel.audience, seq, payload)
        channel.offer(seq, payload)

    async def _send_loop(self, channel: Channel) -> None:
        websocket = channel.websocket
        while True:
            await channel.wakeup.wait()
            channel.wakeup.clear()
            if channel.closed:
                return
            channel.sending = True
            try:
                while channel.control:
                    await websocket.send_text(channel.control.popleft())
                if channel.state is not None:
                    payload, channel.state = channel.state, None
                    await websocket.send_text(payload)
            finally:
                channel.sending = False

    async def _read(self, channel: Channel) -> None:
        """Answer what the client says: pongs keep it alive; anything else gets an error."""
        websocket = channel.websocket
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                channel.last_seen = time.monotonic()
                self._handle(channel, message.get("text"))
        except Exception:  # a broken transport ends the socket, never the process
            pass
        channel.close()

    def _handle(self, channel: Channel, text: str | None) -> None:
        if text is None or len(text) > MAX_INCOMING:
            channel.push(error_message("expected a short JSON text message"))
            return
        try:
            message = json.loads(text)
        except ValueError:
            channel.push(error_message("not JSON"))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "pong":
            return
        if kind == "resync":  # the client asks for the full state again
            cached = self._cache.get(channel.audience)
            if cached is not None:
                channel.seq = 0
                channel.offer(*cached)
            return
        channel.push(error_message("unknown message type"))

    async def _leave(self, channel: Channel) -> None:
        channel.closed = True
        sockets = self._channels.get(channel.audience)
        if sockets is not None:
            sockets.discard(channel)
            if not sockets:
                del self._channels[channel.audience]
                self._cache.pop(channel.audience, None)
        topic = channel.audience.topic  # type: ignore[attr-defined]
        if not any(a.topic == topic for a in self._channels):  # type: ignore[attr-defined]
            watcher = self._watchers.pop(topic, None)
            self._ready.pop(topic, None)
            if watcher is not None:
                watcher.cancel()
        if channel.websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(Exception):
                await channel.websocket.close(GOING_AWAY)

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, audiences: Sequence[Any]) -> dict[Any, Payload]:
        """Render audiences (of one topic) grouped by class; runs in a worker thread."""
        groups: dict[type, list[Any]] = {}
        for audience in audiences:
            groups.setdefault(type(audience), []).append(audience)
        payloads: dict[Any, Payload] = {}
        for kind, members in groups.items():
            payloads.update(kind.render_many(self.app, members))
            self.renders += len(members)
        return payloads

    async def _render_in_thread(self, audiences: Sequence[Any]) -> dict[Any, Payload]:
        """Render in a worker thread; `stop` waits for renderings still running there, so
        the app never disposes of the database engine under them."""
        work = asyncio.ensure_future(asyncio.to_thread(self._render, audiences))
        self._in_flight.add(work)
        work.add_done_callback(self._in_flight.discard)
        return await asyncio.shield(work)

    def _remember(self, audience: Hashable, seq: int, payload: str) -> None:
        if audience in self._channels:
            cached = self._cache.get(audience)
            if cached is None or cached[0] < seq:
                self._cache[audience] = (seq, payload)

    async def refresh(self, topic: str) -> None:
        """Render every audience of the topic once and offer what changed to its sockets.

        Each kind of screen is rendered and sent in turn, the most urgent first
        (`render_priority`, lowest first), so the lobby's board never waits for fifty staff
        terminals to render.
        """
        groups: dict[type, list[Any]] = {}
        for audience in self._channels:
            if audience.topic == topic:  # type: ignore[attr-defined]
                groups.setdefault(type(audience), []).append(audience)
        seq = next(self._versions)
        for kind in sorted(groups, key=lambda kind: getattr(kind, "render_priority", 0)):
            await self._deliver(seq, await self._render_in_thread(groups[kind]))

    async def _deliver(self, seq: int, payloads: dict[Any, Payload]) -> None:
        """Send rendered states to their sockets, skipping those that did not change.

        One plain loop sends to every idle socket, as fast as the transport takes it (waking
        a sender task per socket costs more than the send itself); a socket whose sender is
        busy gets the state in its mailbox instead. Deferred states are made one by one
        just before their sends.
        """
        for count, (audience, deferred) in enumerate(payloads.items(), start=1):
            if count % SEND_BATCH == 0:
                await asyncio.sleep(0)  # let requests and pongs through on a long pass
            if audience not in self._channels:
                continue  # its last socket left while the state was being read
            payload = made(deferred)
            cached = self._cache.get(audience)
            if cached is not None and (cached[1] == payload or cached[0] > seq):
                continue  # unchanged (or already newer): nothing to send
            self._remember(audience, seq, payload)
            for channel in list(self._channels.get(audience, ())):
                if channel.sending or channel.closed or channel.state is not None:
                    channel.offer(seq, payload)
                elif seq > channel.seq:
                    channel.seq = seq
                    await self._send(channel, payload)

    @staticmethod
    async def _send(channel: Channel, payload: str) -> None:
        channel.sending = True
        try:
            await channel.websocket.send_text(payload)
        except Exception:  # the client went away: its endpoint cleans up
            channel.close()
        finally:
            channel.sending = False

    async def _ensure_watcher(self, topic: str) -> None:
        if topic not in self._watchers:
            self._ready[topic] = asyncio.Event()
            self._watchers[topic] = asyncio.create_task(
                self._watch(topic, self._ready[topic]), name=f"frontyard-live-{topic}")
        await self._ready[topic].wait()  # subscribed before the state is read: nothing missed

    async def _watch(self, topic: str, ready: asyncio.Event) -> None:
        async with self.hub.subscribe(topic) as queue:
            self._pending[topic] = queue
            self._refreshes_begun[topic] = self._refreshes_done[topic] = 0
            ready.set()
            try:
                while True:
                    await queue.get()
                    self._refreshes_begun[topic] += 1
                    while not queue.empty():  # a burst of changes costs one rendering
                        queue.get_nowait()
                    try:
                        await self.refresh(topic)
                    except Exception:
                        log.exception("could not render the live screens of %s", topic)
                    finally:
                        self._refreshes_done[topic] += 1
                        self._wake_settled()
            finally:
                for table in (self._pending, self._refreshes_begun, self._refreshes_done):
                    table.pop(topic, None)
                self._wake_settled()

    def _wake_settled(self) -> None:
        waiters, self._settle_waiters = self._settle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def settled(self, timeout: float = 0.5) -> None:
        """Wait (at most `timeout` seconds) until this worker's live screens have been sent
        the changes published to it so far (later ones are not waited for).

        A staff action's own HTTP answer waits for this, so the lobby's board and the
        residents' phones get the call before the caller's terminal is rendered: both compete
        for the same interpreter, and the public screens are what people wait in front of.
        """
        targets = {topic: self._refreshes_begun[topic] + (not queue.empty())
                   for topic, queue in self._pending.items()}
        loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(self._refreshes_done.get(topic, target) < target
                          for topic, target in targets.items()):
                    waiter = loop.create_future()
                    self._settle_waiters.append(waiter)
                    await waiter

    # -- heartbeat ---------------------------------------------------------------------------

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(self._beat(), name="frontyard-live-heartbeat")

    async def _beat(self) -> None:
        slices = max(1, round(self.ping_interval / PING_SLICE))
        # A socket heard from within the last interval (just connected, or it answered the
        # previous ping) needs no ping yet.
        silent_for = self.ping_interval - self.ping_interval / slices
        last_refresh = time.monotonic()
        for turn in itertools.count():
            await asyncio.sleep(self.ping_interval / slices)
            self.ping(turn % slices, slices, silent_for=silent_for)
            if time.monotonic() - last_refresh >= self.refresh_interval:
                last_refresh = time.monotonic()
                for topic in list(self._watchers):
                    self.hub.publish(topic, TICK)

    def ping(self, part: int = 0, parts: int = 1, *, silent_for: float = 0.0) -> None:
        """Ping the sockets of one slice (all of them by default) that have been silent for
        `silent_for` seconds; close those silent longer than `dead_after`."""
        now = time.monotonic()
        for sockets in list(self._channels.values()):
            for channel in list(sockets):
                if channel.ping_slot % parts != part:
                    continue
                if now - channel.last_seen > self.dead_after:
                    channel.close()
                elif now - channel.last_seen >= silent_for:
                    channel.push(PING)

    def close_owned(self, owner: str) -> int:
        """Close every socket `owner` opened (a revoked device, a deactivated user)."""
        closed = 0
        for sockets in list(self._channels.values()):
            for channel in list(sockets):
                if channel.owner == owner:
                    channel.close()
                    closed += 1
        return closed

    def socket_count(self) -> int:
        """How many sockets are connected to this process."""
        return sum(len(sockets) for sockets in self._channels.values())

    async def stop(self) -> None:
        """Close every socket and stop the background tasks (app shutdown)."""
        for sockets in list(self._channels.values()):
            for channel in list(sockets):
                channel.close()
        tasks = [*self._watchers.values(), *([self._heartbeat] if self._heartbeat else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._watchers.clear()
