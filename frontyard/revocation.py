"""Access taken away ends at once in every worker: the open sockets of a revoked device or a
deactivated user close, and an admin's unlock clears every worker's sign-in lockout.

Requests check the database each time (`frontyard.guards`), so they are refused at once
anyway; sockets and the in-memory lockout need telling. The change is announced on the
realtime hub in the transaction that makes it, so on PostgreSQL every worker hears of it
(also from the `frontyard` command); on SQLite only the serving process's own changes reach
it (one process serves SQLite; the command line cannot reach its sockets or lockouts).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlmodel import Session

from frontyard import realtime
from frontyard.auth import LoginThrottle
from frontyard.live import Fanout
from frontyard.realtime import Hub

log = logging.getLogger("frontyard.revocation")

TOPIC = "accounts"


def device_owner(device_id: int) -> str:
    """The owner label of a device's sockets."""
    return f"device:{device_id}"


def user_owner(user_id: int) -> str:
    """The owner label of a signed-in person's sockets."""
    return f"user:{user_id}"


def announce_revoked(session: Session, hub: Hub, owner: str) -> None:
    """Close the owner's sockets in every worker once this transaction commits."""
    realtime.announce(session, hub, TOPIC, {"type": "revoked", "owner": owner})


def announce_unlocked(session: Session, hub: Hub, username: str) -> None:
    """Clear the account's sign-in lockout in every worker once this transaction commits."""
    realtime.announce(session, hub, TOPIC, {"type": "unlocked", "username": username})


def apply(message: Any, fanout: Fanout, throttle: LoginThrottle) -> None:
    """Act on one announcement (anything else, e.g. a resync request, is ignored)."""
    if not isinstance(message, dict):
        return
    if message.get("type") == "revoked" and isinstance(message.get("owner"), str):
        fanout.close_owned(message["owner"])
    elif message.get("type") == "unlocked" and isinstance(message.get("username"), str):
        throttle.unlock(message["username"])


async def follow(hub: Hub, fanout: Fanout, throttle: LoginThrottle,
                 ready: asyncio.Event) -> None:
    """Apply every announcement for as long as the app runs (a lifespan chore)."""
    async with hub.subscribe(TOPIC) as queue:
        ready.set()
        while True:
            message = await queue.get()
            try:
                apply(message, fanout, throttle)
            except Exception:  # one bad message must not stop revocations for good
                log.exception("could not apply an account change")
