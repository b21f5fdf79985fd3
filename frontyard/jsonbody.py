"""JSON request bodies parsed safely: bounded nesting, bounded numbers, standard JSON only."""

from __future__ import annotations

import json
import math
from typing import Any

from frontyard.exceptions import DomainError
from frontyard.i18n import gettext as _

#: Deeper than any body the API describes (three levels) with room to spare; deeper input
#: only serves to exhaust the stack of whatever walks it next (validation, JSON columns).
MAX_DEPTH = 32
#: PostgreSQL's bigint holds 18 digits; a longer number cannot be an id, a count or an age.
MAX_INTEGER_DIGITS = 18


class BodyRefused(DomainError):
    """A JSON body that is not valid, too deeply nested or holds an unusable number (400)."""


def loads_body(raw: bytes | str) -> Any:
    """Parse a request body as JSON; BodyRefused, with a translated message, for bad input."""
    try:
        data = json.loads(raw, parse_int=_integer, parse_float=_float,
                          parse_constant=_constant)
    except RecursionError as error:  # the C parser gives up about a thousand levels down
        raise BodyRefused(_("The request body is nested too deeply.")) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise BodyRefused(_("The request body is not valid JSON.")) from error
    if depth_exceeds(data, MAX_DEPTH):
        raise BodyRefused(_("The request body is nested too deeply."))
    return data


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` levels (iteratively: no recursion)."""
    pending = [(value, 1)] if isinstance(value, dict | list) else []
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children
                       if isinstance(child, dict | list))
    return False


def _integer(text: str) -> int:
    """An integer literal, refused past MAX_INTEGER_DIGITS (before `int` sees it)."""
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise BodyRefused(_("A number in the request is too large."))
    return int(text)


def _float(text: str) -> float:
    """A decimal literal; one beyond the float range (`1e999`) is refused, not infinity."""
    value = float(text)
    if not math.isfinite(value):
        raise BodyRefused(_("A number in the request is too large."))
    return value


def _constant(text: str) -> Any:
    """`NaN` and `Infinity` are not JSON, though Python's parser would accept them."""
    raise BodyRefused(_("The request body is not valid JSON."))
