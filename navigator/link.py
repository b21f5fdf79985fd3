"""The navigator's state in its address: life events and answers as a query string.

The navigator keeps no session. What a resident chose (life events) and answered (yes/no,
choices, ages) is held in the URL, so the result page *is* the link to share or bookmark, and
a GET page writes nothing anywhere. None of it is personal data: no name, address or number
that identifies anyone, only "moving in, has a My Number card, ages 34 and 1".

Format (`?event=moving_in&household_ages=34,1&mynumber_card=yes`): `event` repeated for each
life event; each answered question by its catalog id, yes/no as `yes`/`no`, a choice as its
option id (repeated for several), numbers comma-separated. The query is checked against the
catalog and limited in size; anything else is refused with `BadLink` (a clear 400 page).

Pure domain: no Starlette.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from frontyard.exceptions import DomainError, ValidationFailed
from frontyard.i18n import gettext as _
from kiosk.catalog import Catalog
from kiosk.guide import AnswerValue, Guide, build_guide, parse_answers

#: A longer query than any real set of answers holds is refused before it is read.
MAX_QUERY_CHARS = 2000
#: Parameters of one query: life events, answers and the form's `asked` markers.
MAX_PARAMETERS = 100
#: The form's own fields, not answers.
EVENT = "event"
ASKED = "asked"


class BadLink(DomainError):
    """A navigator address that cannot be read: tampered, truncated or out of date."""

    status_code = 400


@dataclass(frozen=True)
class Choices:
    """What the address holds: life events in the order chosen and the typed answers."""

    events: tuple[str, ...]
    answers: dict[str, AnswerValue]
    #: The questions the submitted form showed (empty on a shared link).
    asked: tuple[str, ...] = ()


def check_size(query: str, parameters: int) -> None:
    """Refuse a query too long or with too many parameters to be the navigator's."""
    if len(query) > MAX_QUERY_CHARS or parameters > MAX_PARAMETERS:
        raise BadLink(_("This link is too long to be one of the navigator's. Please start "
                        "again."))


def read_choices(catalog: Catalog, pairs: Sequence[tuple[str, str]]) -> Choices:
    """The life events and answers of a query's (key, value) pairs, checked against the
    catalog. Unknown life events → BadLink; answers that are not valid → ValidationFailed with
    a message per question (the caller decides whether a form or a link was wrong). Other keys
    (a city's tracking parameters) are ignored."""
    events = tuple(dict.fromkeys(value for key, value in pairs if key == EVENT))
    if any(not catalog.has("life_events", event) for event in events):
        raise BadLink(_("This link names a life event this office does not offer. Please "
                        "choose again."))
    asked = tuple(dict.fromkeys(value for key, value in pairs
                                if key == ASKED and catalog.has("questions", value)))
    raw: dict[str, list[str]] = {}
    for key, value in pairs:
        if key not in (EVENT, ASKED) and catalog.has("questions", key):
            raw.setdefault(key, []).append(value)
    return Choices(events, parse_answers(catalog, raw), asked)


def guide_of(catalog: Catalog, choices: Choices) -> Guide:
    """The guide for the choices (life events are known to be offered by now)."""
    try:
        return build_guide(catalog, list(choices.events), choices.answers)
    except ValidationFailed as error:
        raise BadLink(error.message) from None


def relevant_answers(catalog: Catalog, choices: Choices) -> dict[str, AnswerValue]:
    """The answers the chosen life events' rules can use, in catalog order (answers left over
    from other life events are dropped from the address)."""
    used = {condition.question for event_id in choices.events
            for rule in catalog.life_event(event_id).rules for condition in rule.when}
    return {question.id: choices.answers[question.id] for question in catalog.questions
            if question.id in used and question.id in choices.answers}


def answer_pairs(catalog: Catalog, answers: dict[str, AnswerValue]) -> list[tuple[str, str]]:
    """Answers as query pairs, the way `read_choices` reads them back."""
    pairs: list[tuple[str, str]] = []
    for question_id, value in answers.items():
        question = catalog.question(question_id)
        if isinstance(value, bool):
            pairs.append((question_id, "yes" if value else "no"))
        elif isinstance(value, list) and question.kind == "number":
            pairs.append((question_id, ",".join(str(number) for number in value)))
        elif isinstance(value, list):
            pairs.extend((question_id, str(item)) for item in value) if value else \
                pairs.append((question_id, ""))
        else:
            pairs.append((question_id, str(value)))
    return pairs


def query_of(catalog: Catalog, choices: Choices, *, answers: bool = True) -> str:
    """The canonical query of the choices: the shareable form of the address."""
    pairs = [(EVENT, event) for event in choices.events]
    if answers:
        pairs += answer_pairs(catalog, relevant_answers(catalog, choices))
    return urlencode(pairs, safe=",")
