"""Rate limits: sliding windows counted in this process's memory, and the limits Frontyard applies.

Four limits protect the service (settings in `frontyard.settings`, README's table):

- ticket issuing per kiosk device (or per staff member issuing for a resident): the JSON API
  and the kiosk's own issue route both call `limit_ticket_issuing(request)` before issuing;
- failed sign-ins per account from one address, per address and per account
  (`frontyard.auth.LoginThrottle`, built on `frontyard.sliding_window.SlidingWindow`);
- status-page requests per client and ticket (page, JSON and websocket hello):
  `limit_status_polling(connection, token)`. Per client *and* ticket, so that whoever else
  holds the link cannot lock the resident's own phone out by hammering it;
- requests for tokens of no ticket, per client (`refuse_token_guessing` before the lookup,
  `count_unknown_token` after a miss): past it, every status request of that client is
  refused for a while, known tokens too, so that the answers tell a guesser nothing.

Clients are told apart by address (`client_address`): behind Caddy, `frontyard serve
--proxy-headers` must be on, or every client is the proxy. Phones behind one NAT share counts.

A refusal is a `RateLimited` error: a 429 with a translated message saying how long to wait
and a `Retry-After` header (in seconds).

The windows live in each worker's memory. With one worker (SQLite) the limits are exact; with
N workers behind Caddy's `least_conn` a client may spread its requests, so the effective limit
is at most N times the setting. That is the intended trade-off: counting in the database would
add a write to every status poll. The limits are set so that N times them is still harmless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from frontyard.exceptions import TooManyRequests
from frontyard.guards import current_device, current_user
from frontyard.i18n import gettext as _
from frontyard.i18n import ngettext
from frontyard.settings import Settings
from frontyard.sliding_window import SlidingWindow


class RateLimited(TooManyRequests):
    """A refused request; `retry_after` (whole seconds) becomes the Retry-After header."""

    def __init__(self, message: Any, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


def try_again_in(seconds: float) -> str:
    """'Try again in 40 seconds.' or, past two minutes, in minutes; translated."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return ngettext("Try again in %(num)d second.", "Try again in %(num)d seconds.",
                        seconds) % {"num": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("Try again in %(num)d minute.", "Try again in %(num)d minutes.",
                    minutes) % {"num": minutes}


@dataclass(frozen=True)
class RateLimits:
    """The limits of one app (tests build many apps: no global state)."""

    tickets: SlidingWindow
    status: SlidingWindow
    unknown_tokens: SlidingWindow

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The windows the settings describe."""
        return cls(
            tickets=SlidingWindow(settings.ticket_rate_limit, settings.ticket_rate_window_seconds),
            status=SlidingWindow(settings.status_rate_limit, settings.status_rate_window_seconds),
            unknown_tokens=SlidingWindow(settings.status_unknown_limit,
                                         settings.status_unknown_window_seconds),
        )


def _limits(connection: HTTPConnection) -> RateLimits:
    return connection.app.state.rate_limits  # type: ignore[no-any-return]


def client_address(connection: HTTPConnection) -> str:
    """The client's address: the peer, or the proxy's X-Forwarded-For when `frontyard serve
    --proxy-headers` trusts it (uvicorn then puts it in the connection's client)."""
    return connection.client.host if connection.client else "unknown"


def ticket_issuer_key(connection: HTTPConnection) -> str:
    """Who is issuing: the kiosk device, else the signed-in staff member, else the address."""
    device = current_device(connection)
    if device is not None:
        return f"device:{device.id}"
    user = current_user(connection)
    if user is not None:
        return f"user:{user.id}"
    return f"address:{client_address(connection)}"


def limit_ticket_issuing(connection: HTTPConnection) -> None:
    """Count one ticket for the issuing kiosk (or staff member); RateLimited past the limit.

    Call it after the device guard and before the transaction that issues the ticket.
    """
    wait = _limits(connection).tickets.hit(ticket_issuer_key(connection))
    if wait > 0:
        raise RateLimited(
            _("This kiosk has issued many tickets in a short time.") + " " + try_again_in(wait),
            wait)


def limit_status_polling(connection: HTTPConnection, token: str) -> None:
    """Count one request of this client for a ticket's status page; RateLimited past the limit.

    Raise it in the ticket's language: the resident reads it, whoever's browser asked.
    """
    wait = _limits(connection).status.hit((client_address(connection), token))
    if wait > 0:
        raise RateLimited(
            _("This ticket's page was requested too often. It updates by itself: "
              "please keep it open.") + " " + try_again_in(wait),
            wait)


def refuse_token_guessing(connection: HTTPConnection) -> None:
    """RateLimited when this client asked for too many unknown tokens; call before the lookup
    (answering known tokens meanwhile would tell a guesser which ones exist)."""
    wait = _limits(connection).unknown_tokens.retry_after(client_address(connection))
    if wait > 0:
        raise RateLimited(
            _("Too many addresses of tickets that do not exist were opened from here.")
            + " " + try_again_in(wait),
            wait)


def count_unknown_token(connection: HTTPConnection) -> None:
    """Count a request of this client for a token of no ticket."""
    _limits(connection).unknown_tokens.add(client_address(connection))
