"""The rule engine: from life events and answers to the procedures of a visit, in visiting order.

How the kiosk uses it: call `build_guide(catalog, events, answers)` with what is known so far.
`guide.pending_questions` lists the questions whose answers could still add a procedure; ask
them (all on one screen, or one by one), add the answers, and call again until it is empty.
A question is pending only when a rule still undecided needs it: a rule is decided as soon as
one of its conditions is answered false, and a rule whose procedures are already on the list
asks nothing. Within a rule, conditions are asked in the order written, so "has children?"
placed before "ages of the children" spares the second question when the first says no.

Visiting order: the order of the catalog's `sections` (市民課 first: the other sections need
the new address or register entry it records), then the order of `procedures` in the catalog.
Each procedure appears once even when several life events call for it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from frontyard.exceptions import ValidationFailed
from frontyard.i18n import gettext as _
from kiosk.catalog import (
    Catalog,
    Condition,
    Document,
    Form,
    LifeEvent,
    Procedure,
    Question,
    Section,
)
from kiosk.details import DETAIL_FIELDS

AnswerValue = bool | str | int | list[str] | list[int]
Answers = Mapping[str, AnswerValue]

_TRUE = {"yes", "true", "1", "on"}
_FALSE = {"no", "false", "0", "off"}


@dataclass(frozen=True)
class GuideStep:
    """One procedure of the visit, with where to go and what to bring."""

    position: int
    procedure: Procedure
    section: Section
    documents: tuple[Document, ...]
    forms: tuple[Form, ...]
    life_events: tuple[str, ...]

    @property
    def service(self) -> str:
        """The service code: the queue this step waits in."""
        return self.procedure.service

    @property
    def counter_hint(self) -> dict[str, str] | None:
        """Where to go: the procedure's own hint, else its section's."""
        return self.procedure.counter_hint or self.section.counter_hint


@dataclass(frozen=True)
class Guide:
    """What a resident must do: the steps in visiting order and what is still to be asked."""

    life_events: tuple[LifeEvent, ...]
    steps: tuple[GuideStep, ...]
    documents: tuple[Document, ...]
    forms: tuple[Form, ...]
    pending_questions: tuple[Question, ...]
    total_minutes: int

    @property
    def complete(self) -> bool:
        """Whether every question the rules need has been answered."""
        return not self.pending_questions

    @property
    def detail_fields(self) -> tuple[str, ...]:
        """The once-only detail fields the forms of this visit use, in the usual order."""
        used = {name for form in self.forms for name in form.fields}
        return tuple(name for name in DETAIL_FIELDS if name in used)


def build_guide(catalog: Catalog, life_event_ids: Sequence[str], answers: Answers) -> Guide:
    """The guide for the chosen life events given the answers so far; refuses bad input."""
    events = _life_events(catalog, life_event_ids)
    answers = check_answers(catalog, answers)
    wanted: dict[str, list[str]] = {}  # procedure id → the life events calling for it
    undecided: list[tuple[LifeEvent, list[Condition], list[str]]] = []
    for event in events:
        for procedure_id in event.procedures:
            wanted.setdefault(procedure_id, []).append(event.id)
        for rule in event.rules:
            state = _rule_state(catalog, rule.when, answers)
            if state is True:
                for procedure_id in rule.add:
                    wanted.setdefault(procedure_id, []).append(event.id)
            elif state is None:
                undecided.append((event, rule.when, rule.add))
    pending = _pending(catalog, undecided, set(wanted), answers)
    return _assemble(catalog, events, wanted, pending)


def _life_events(catalog: Catalog, life_event_ids: Sequence[str]) -> tuple[LifeEvent, ...]:
    """The chosen life events, each once, in the order chosen."""
    if not life_event_ids:
        raise ValidationFailed(_("Choose at least one life event."))
    unknown = [event_id for event_id in life_event_ids if not catalog.has("life_events", event_id)]
    if unknown:
        raise ValidationFailed(_("This life event is not offered here."))
    return tuple(catalog.life_event(event_id) for event_id in dict.fromkeys(life_event_ids))


def _holds(question: Question, condition: Condition, answer: AnswerValue) -> bool:
    """Whether an answer meets a condition (any of several answers suffices)."""
    if question.kind == "yes_no":
        return answer is condition.equals
    values = answer if isinstance(answer, list) else [answer]
    if question.kind == "choice":
        return any(value in (condition.one_of or []) for value in values)
    return any(
        (condition.at_least is None or value >= condition.at_least)  # type: ignore[operator]
        and (condition.at_most is None or value <= condition.at_most)  # type: ignore[operator]
        for value in values
    )


def _rule_state(catalog: Catalog, conditions: Iterable[Condition],
                answers: Answers) -> bool | None:
    """True when every condition holds, False when an answered one fails, else None."""
    state: bool | None = True
    for condition in conditions:
        if condition.question not in answers:
            state = None
        elif not _holds(catalog.question(condition.question), condition,
                        answers[condition.question]):
            return False
    return state


def _pending(catalog: Catalog, undecided: list[tuple[LifeEvent, list[Condition], list[str]]],
             wanted: set[str], answers: Answers) -> tuple[Question, ...]:
    """The first unanswered question of each undecided rule that could still add something."""
    needed: set[str] = set()
    for _event, conditions, adds in undecided:
        if set(adds) <= wanted:
            continue
        needed.add(next(c.question for c in conditions if c.question not in answers))
    return tuple(question for question in catalog.questions if question.id in needed)


def _assemble(catalog: Catalog, events: tuple[LifeEvent, ...], wanted: dict[str, list[str]],
              pending: tuple[Question, ...]) -> Guide:
    """Order the procedures and gather documents, forms and time."""
    order = {procedure.id: index for index, procedure in enumerate(catalog.procedures)}
    procedures = sorted((catalog.procedure(pid) for pid in wanted),
                        key=lambda p: (catalog.section_rank(p.service), order[p.id]))
    steps = tuple(
        GuideStep(
            position=position,
            procedure=procedure,
            section=catalog.section(procedure.service),
            documents=tuple(catalog.document(doc) for doc in procedure.documents),
            forms=tuple(catalog.form(form) for form in procedure.forms),
            life_events=tuple(dict.fromkeys(wanted[procedure.id])),
        )
        for position, procedure in enumerate(procedures, start=1)
    )
    documents = {doc.id: doc for step in steps for doc in step.documents}
    forms = {form.id: form for step in steps for form in step.forms}
    return Guide(
        life_events=events,
        steps=steps,
        documents=tuple(documents.values()),
        forms=tuple(forms.values()),
        pending_questions=pending,
        total_minutes=sum(step.procedure.duration_minutes for step in steps),
    )


# --- answers ---------------------------------------------------------------------------------


def _answer_problem(question: Question, value: Any) -> str | None:
    """Why a typed answer does not fit its question, or None."""
    if question.kind == "yes_no":
        return None if isinstance(value, bool) else _("Answer yes or no.")
    # A question with several answers takes a list, any other a single value.
    shape_ok = isinstance(value, list) == question.multiple
    values = value if isinstance(value, list) else [value]
    if question.kind == "choice":
        options = {option.id for option in question.options}
        if shape_ok and all(isinstance(v, str) and v in options for v in values):
            return None
        return _("Choose one of the options.")
    if not shape_ok or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return _("Enter a whole number.")
    low = question.minimum if question.minimum is not None else -(10**9)
    high = question.maximum if question.maximum is not None else 10**9
    if all(low <= v <= high for v in values):
        return None
    return _("Enter a number from %(minimum)d to %(maximum)d.") % {"minimum": low,
                                                                    "maximum": high}


def check_answers(catalog: Catalog, answers: Answers) -> dict[str, AnswerValue]:
    """Typed answers checked against their questions; ValidationFailed names each bad one."""
    errors: dict[str, str] = {}
    for question_id, value in answers.items():
        if not catalog.has("questions", question_id):
            errors[question_id] = _("This question is not asked here.")
            continue
        problem = _answer_problem(catalog.question(question_id), value)
        if problem:
            errors[question_id] = problem
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), **errors)
    return dict(answers)


def _parse_one(question: Question, raw: Sequence[str]) -> AnswerValue | None:
    """One question's answer from form strings; None when left blank."""
    texts = [unicodedata.normalize("NFKC", text).strip() for text in raw]
    texts = [text for text in texts if text]
    if question.kind == "number":
        texts = [part for text in texts for part in re.split(r"[,、\s]+", text) if part]
    if not texts:
        return [] if question.multiple else None
    if question.kind == "yes_no":
        word = texts[0].lower()
        return True if word in _TRUE else False if word in _FALSE else texts[0]
    if question.kind == "number":
        numbers: list[Any] = [_whole_number(t) if re.fullmatch(r"-?\d+", t) else t
                              for t in texts]
        return numbers if question.multiple else numbers[0]
    return texts if question.multiple else texts[0]


#: Digits read of a typed number: more cannot be an answer (Python also refuses to read
#: numbers past 4,300 digits), so such a number only needs to be recognised as out of range.
MAX_NUMBER_DIGITS = 12


def _whole_number(text: str) -> int:
    """A typed whole number; a longer one than any answer reads as just past that range."""
    if len(text.lstrip("-").lstrip("0")) <= MAX_NUMBER_DIGITS:
        return int(text)
    beyond = 10**MAX_NUMBER_DIGITS
    return -beyond if text.startswith("-") else beyond


def parse_answers(catalog: Catalog,
                  form: Mapping[str, str | Sequence[str]]) -> dict[str, AnswerValue]:
    """Answers from submitted form fields named by question id ("yes"/"no", option ids, numbers).

    Several numbers may come as several fields or in one ("3, 7"). A blank single answer is left
    out (not answered); a blank multiple answer means none (no children: []).
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for question_id, raw in form.items():
        if not catalog.has("questions", question_id):
            continue  # other fields of the page (CSRF token, buttons)
        question = catalog.question(question_id)
        value = _parse_one(question, [raw] if isinstance(raw, str) else list(raw))
        if value is None:
            continue
        problem = _answer_problem(question, value)
        if problem:
            errors[question_id] = problem
        else:
            answers[question_id] = value
    if errors:
        raise ValidationFailed(_("Some answers are not valid."), **errors)
    return answers
