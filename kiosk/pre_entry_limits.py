"""Abuse limits of details entered at home: sends per client, and wrong codes per kiosk or client.

Counted in each worker's memory with `frontyard.sliding_window` like the other rate limits
(`frontyard.ratelimit` explains the trade-off with several workers). The cap on unused entries
per client is not here: it is counted in the database (`kiosk.pre_entry.create`).
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from frontyard.i18n import gettext as _
from frontyard.ratelimit import RateLimited, client_address, ticket_issuer_key, try_again_in
from frontyard.settings import Settings
from frontyard.sliding_window import SlidingWindow


@dataclass(frozen=True)
class PreEntryLimits:
    """The windows of one app (built on first use from its settings)."""

    sends: SlidingWindow
    wrong_codes: SlidingWindow

    @classmethod
    def from_settings(cls, settings: Settings) -> PreEntryLimits:
        """The windows the settings describe."""
        return cls(
            sends=SlidingWindow(settings.pre_entry_rate_limit,
                                settings.pre_entry_rate_window_seconds),
            wrong_codes=SlidingWindow(settings.pre_entry_code_limit,
                                      settings.pre_entry_code_window_seconds))


def _limits(connection: HTTPConnection) -> PreEntryLimits:
    state = connection.app.state
    limits = getattr(state, "pre_entry_limits", None)
    if limits is None:
        limits = PreEntryLimits.from_settings(state.settings)
        state.pre_entry_limits = limits
    return limits  # type: ignore[no-any-return]


def limit_sending(connection: HTTPConnection) -> None:
    """Count one entry sent from this client; RateLimited past the limit."""
    wait = _limits(connection).sends.hit(client_address(connection))
    if wait > 0:
        raise RateLimited(_("Many details have been sent from here in a short time.") + " "
                          + try_again_in(wait), wait)


def refuse_code_guessing(connection: HTTPConnection) -> None:
    """RateLimited when this kiosk (or client) entered too many wrong codes; call before the
    lookup, so that a guesser learns nothing from the answers meanwhile."""
    wait = _limits(connection).wrong_codes.retry_after(ticket_issuer_key(connection))
    if wait > 0:
        raise RateLimited(_("Too many wrong codes were entered here.") + " "
                          + try_again_in(wait), wait)


def count_wrong_code(connection: HTTPConnection) -> None:
    """Count one code that issued nothing (unknown, used, expired, another office's)."""
    _limits(connection).wrong_codes.add(ticket_issuer_key(connection))
