"""Checking a catalog: schema errors with their lines, references, translations and warnings.

`check_catalog` collects every problem rather than stopping at one; `load_catalog` is the
strict door the kiosk uses. Problems of structure and type come first (like a compiler's
syntax errors); translations and references are checked, all together, once the structure
is right.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from frontyard import ruby
from frontyard.i18n import BY_CODE, RUBY_LOCALES, Deferred, deferred
from kiosk.catalog.reading import (
    Loc,
    Problem,
    format_place,
    line_of,
    read_yaml,
    read_yaml_text,
)
from kiosk.catalog.schema import SEED_LOCALES, Catalog, Condition, Question
from kiosk.catalog.texts import located_texts
from kiosk.details import DETAIL_FIELDS


def _text_problem(value: Mapping[str, str], required: Iterable[str]) -> Deferred | None:
    """What is wrong with a {locale: text} map: unknown or missing locale, empty text, bad ruby."""
    unknown = sorted(set(value) - set(BY_CODE))
    if unknown:
        return deferred("unknown locale %(codes)s", codes=", ".join(unknown))
    empty = sorted(code for code, text in value.items() if not text.strip())
    if empty:
        return deferred("empty translation for %(codes)s", codes=", ".join(empty))
    for code in sorted(RUBY_LOCALES & set(value)):
        problems = ruby.problems(value[code], every_kanji=True)
        if problems:
            # The ruby checker's own words name the mark and its position: kept as they are.
            return deferred("%(locale)s: %(problem)s", locale=code, problem=problems[0])
    missing = [code for code in required if code not in value]
    if missing:
        return deferred("missing translation for %(codes)s", codes=", ".join(missing))
    return None


def is_web_address(url: str) -> bool:
    """Whether a catalog link is an absolute http(s) address with a host and no spaces (not
    javascript:, not a relative path: residents open it from the navigator as it is)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # an unbalanced IPv6 bracket, a bad port
        return False
    return (parts.scheme in {"http", "https"} and bool(host)
            and not any(char.isspace() for char in url))


class CatalogError(Exception):
    """A catalog that cannot be used; `problems` lists everything found wrong."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.file = file
        self.problems = problems


@dataclass
class CheckResult:
    """The outcome of checking a catalog file: the catalog when valid, problems and warnings."""

    file: str
    catalog: Catalog | None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def _schema_problems(error: ValidationError, label: str, data: Any,
                     lines: Mapping[Loc, int]) -> list[Problem]:
    """Pydantic's errors as problems with their place and line."""
    problems = []
    for item in error.errors():
        loc = _data_loc(item["loc"], data)
        if item["type"] == "missing":
            message: str = deferred("missing field '%(field)s'", field=str(loc[-1]))
            loc = loc[:-1]
        elif item["type"] == "extra_forbidden":
            message = deferred("unknown field '%(field)s'", field=str(loc[-1]))
        else:
            message = _schema_message(item["type"], item["msg"], item.get("ctx") or {},
                                      item["input"])
        problems.append(Problem(label, line_of(lines, loc), format_place(loc), message))
    return problems


def _schema_message(kind: str, text: str, ctx: Mapping[str, Any], value: Any) -> str:
    """One of pydantic's errors as a whole sentence to translate (its English, where it says
    what it expected); an error the catalog's schema cannot give keeps pydantic's words."""
    found = _describe(value)
    match kind:
        case "string_pattern_mismatch":
            return deferred("an id is lower-case letters, digits and '_', starting with a "
                            "letter, not %(value)s", value=repr(value))
        case "string_type":
            return deferred("Input should be a valid string, not %(found)s", found=found)
        case "int_type":
            return deferred("Input should be a valid integer, not %(found)s", found=found)
        case "bool_type":
            return deferred("Input should be a valid boolean, not %(found)s", found=found)
        case "list_type":
            return deferred("Input should be a valid list, not %(found)s", found=found)
        case "dict_type":
            return deferred("Input should be a valid dictionary, not %(found)s", found=found)
        case "model_type":
            return deferred("Input should be a valid dictionary or instance of %(model)s, "
                            "not %(found)s", model=str(ctx.get("class_name", "")), found=found)
        case "literal_error":
            return deferred("Input should be %(expected)s, not %(found)s",
                            expected=str(ctx.get("expected", "")), found=found)
        case "too_short":
            return deferred("List should have at least %(min)s item after validation, not "
                            "%(count)s", min=ctx.get("min_length"),
                            count=ctx.get("actual_length"))
        case "greater_than":
            return deferred("Input should be greater than %(limit)s", limit=ctx.get("gt"))
        case "less_than_equal":
            return deferred("Input should be less than or equal to %(limit)s",
                            limit=ctx.get("le"))
        case "string_too_short":
            return deferred("String should have at least %(min)s character",
                            min=ctx.get("min_length"))
        case "string_too_long":
            return deferred("String should have at most %(max)s characters",
                            max=ctx.get("max_length"))
    return text


def _data_loc(loc: tuple[Any, ...], data: Any) -> Loc:
    """Pydantic's location with its internal steps (union members, validators) left out."""
    result: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and part < len(current)
        if in_dict or in_list:
            result.append(part)
            current = current[part]
        elif isinstance(current, dict) and isinstance(part, str) and "[" not in part:
            result.append(part)  # a missing or unknown key
            current = None
    return tuple(result)


def _describe(value: Any) -> str:
    """How a YAML value reads back, to explain a type error (e.g. `no` read as false)."""
    if isinstance(value, bool):
        return deferred("the boolean %(value)s (quote yes/no/on/off to keep them as text)",
                        value=str(value).lower())
    if value is None:
        return deferred("an empty value")
    if isinstance(value, dict):
        return deferred("a mapping")
    if isinstance(value, list):
        return deferred("a list")
    if isinstance(value, str):
        return deferred("text %(value)s", value=repr(value))
    if isinstance(value, int | float):
        return deferred("a number %(value)s", value=repr(value))
    return type(value).__name__


# --- cross-references ------------------------------------------------------------------------


def _problem(label: str, lines: Mapping[Loc, int], loc: Loc, message: str) -> Problem:
    """A problem at a place of the file, with the place's line."""
    return Problem(label, line_of(lines, loc), format_place(loc), message)


def _duplicates(items: list[Any], attr: str, loc: Loc, label: str,
                lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Items of a list sharing the same id (or service)."""
    first: dict[Any, int] = {}
    for index, item in enumerate(items):
        value = getattr(item, attr)
        if value in first:
            place: Loc = (*loc, index, attr)
            yield Problem(label, line_of(lines, place), format_place(place),
                          deferred("duplicate %(field)s '%(value)s' (first at %(place)s)",
                                   field=attr, value=str(value),
                                   place=format_place((*loc, first[value]))))
        else:
            first[value] = index


#: An id that names no item of a kind, and one listed twice: whole sentences per kind.
_REFERENCE_PROBLEMS = {
    "documents": (lambda item_id: deferred("unknown document '%(id)s'", id=item_id),
                  lambda item_id: deferred("document '%(id)s' is listed twice", id=item_id)),
    "forms": (lambda item_id: deferred("unknown form '%(id)s'", id=item_id),
              lambda item_id: deferred("form '%(id)s' is listed twice", id=item_id)),
    "procedures": (lambda item_id: deferred("unknown procedure '%(id)s'", id=item_id),
                   lambda item_id: deferred("procedure '%(id)s' is listed twice", id=item_id)),
}


def _references(ids: list[str], kind: str, catalog: Catalog, loc: Loc, label: str,
                lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Each id in `ids` must name an item of `kind`, and appear once."""
    unknown, listed_twice = _REFERENCE_PROBLEMS[kind]
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        place = (*loc, index)
        if not catalog.has(kind, item_id):
            yield Problem(label, line_of(lines, place), format_place(place), unknown(item_id))
        elif item_id in seen:
            yield Problem(label, line_of(lines, place), format_place(place),
                          listed_twice(item_id))
        seen.add(item_id)


def _question_problems(question: Question, loc: Loc, label: str,
                       lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """A question's own coherence: options only for choices, bounds only for numbers."""
    def problem(field_name: str | None, message: str) -> Problem:
        return _problem(label, lines, (*loc, field_name) if field_name else loc, message)

    if question.kind == "choice":
        if len(question.options) < 2:
            yield problem("options", deferred("a choice question needs at least two options"))
        yield from _duplicates(question.options, "id", (*loc, "options"), label, lines)
    elif question.options:
        yield problem("options", deferred("a %(kind)s question has no options",
                                          kind=question.kind))
    if question.kind != "number":
        for name in ("minimum", "maximum", "unit"):
            if getattr(question, name) is not None:
                yield problem(name, deferred("only a number question has '%(field)s'",
                                             field=name))
    if question.kind == "yes_no" and question.multiple:
        yield problem("multiple", deferred("a yes_no question has a single answer"))
    if (question.minimum is not None and question.maximum is not None
            and question.minimum > question.maximum):
        yield problem("maximum", deferred("maximum is below minimum"))


_OPERATORS = {"yes_no": {"equals"}, "choice": {"one_of"}, "number": {"at_least", "at_most"}}
#: A condition with the wrong operators for its question's kind, one sentence per kind.
_OPERATOR_PROBLEMS = {
    "yes_no": lambda question_id: deferred(
        "a condition on yes_no question '%(id)s' takes 'equals'", id=question_id),
    "choice": lambda question_id: deferred(
        "a condition on choice question '%(id)s' takes 'one_of'", id=question_id),
    "number": lambda question_id: deferred(
        "a condition on number question '%(id)s' takes 'at_least' and/or 'at_most'",
        id=question_id),
}


def _condition_problems(condition: Condition, catalog: Catalog, loc: Loc, label: str,
                        lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """A condition must name a question and use the operator of its kind."""
    def problem(field_name: str | None, message: str) -> Problem:
        return _problem(label, lines, (*loc, field_name) if field_name else loc, message)

    if not catalog.has("questions", condition.question):
        yield problem("question", deferred("unknown question '%(id)s'", id=condition.question))
        return
    question = catalog.question(condition.question)
    used = {name for name in ("equals", "one_of", "at_least", "at_most")
            if getattr(condition, name) is not None}
    allowed = _OPERATORS[question.kind]
    if not used & allowed or used - allowed:
        yield problem(None, _OPERATOR_PROBLEMS[question.kind](question.id))
    options = {option.id for option in question.options}
    for option_id in condition.one_of or []:
        if question.kind == "choice" and option_id not in options:
            yield problem("one_of", deferred("'%(option)s' is not an option of '%(question)s'",
                                             option=option_id, question=question.id))
    if (condition.at_least is not None and condition.at_most is not None
            and condition.at_least > condition.at_most):
        yield problem("at_most", deferred("at_most is below at_least"))


def _reference_problems(catalog: Catalog, service_codes: set[str], required: tuple[str, ...],
                        label: str, lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Everything the schema cannot see: translations, ids, references, question logic."""
    def at(loc: Loc, message: Deferred) -> Problem:
        return Problem(label, line_of(lines, loc), format_place(loc), message)

    for loc, text in located_texts(catalog):
        problem = _text_problem(text, required)
        if problem:
            yield at(loc, problem)

    yield from _duplicates(catalog.sections, "service", ("sections",), label, lines)
    for kind in ("documents", "forms", "questions", "procedures", "life_events"):
        yield from _duplicates(getattr(catalog, kind), "id", (kind,), label, lines)
    for index, section in enumerate(catalog.sections):
        if section.service not in service_codes:
            yield at(("sections", index, "service"),
                     deferred("unknown service '%(code)s'", code=section.service))
    for index, form in enumerate(catalog.forms):
        for position, name in enumerate(form.fields):
            if name not in DETAIL_FIELDS:
                yield at(("forms", index, "fields", position),
                         deferred("unknown detail field '%(field)s'", field=name))
    for index, question in enumerate(catalog.questions):
        yield from _question_problems(question, ("questions", index), label, lines)
    for index, procedure in enumerate(catalog.procedures):
        loc: Loc = ("procedures", index)
        if procedure.service not in service_codes:
            yield at((*loc, "service"),
                     deferred("unknown service '%(code)s'", code=procedure.service))
        elif procedure.service not in {section.service for section in catalog.sections}:
            yield at((*loc, "service"),
                     deferred("no section for service '%(code)s'", code=procedure.service))
        yield from _references(procedure.documents, "documents", catalog, (*loc, "documents"),
                               label, lines)
        yield from _references(procedure.forms, "forms", catalog, (*loc, "forms"), label, lines)
        if procedure.online is not None and not is_web_address(procedure.online.url):
            yield at((*loc, "online", "url"), deferred(
                "an online alternative's url must be an http:// or https:// address"))
        deadline = procedure.deadline
        if deadline is not None and deadline.days is not None and deadline.months is not None:
            yield at((*loc, "deadline"), deferred("give either days or months, not both"))
    for index, event in enumerate(catalog.life_events):
        loc = ("life_events", index)
        yield from _references(event.procedures, "procedures", catalog, (*loc, "procedures"),
                               label, lines)
        for number, rule in enumerate(event.rules):
            rule_loc = (*loc, "rules", number)
            yield from _references(rule.add, "procedures", catalog, (*rule_loc, "add"), label,
                                   lines)
            for position, condition in enumerate(rule.when):
                yield from _condition_problems(condition, catalog, (*rule_loc, "when", position),
                                               label, lines)
        if not event.procedures and not event.rules:
            yield at(loc, deferred("life event '%(id)s' leads to no procedure", id=event.id))


#: An item nothing uses, one sentence per kind.
_NEVER_USED = {
    "procedures": lambda item_id: deferred("procedure '%(id)s' is never used", id=item_id),
    "questions": lambda item_id: deferred("question '%(id)s' is never used", id=item_id),
    "documents": lambda item_id: deferred("document '%(id)s' is never used", id=item_id),
    "forms": lambda item_id: deferred("form '%(id)s' is never used", id=item_id),
}


def _warnings(catalog: Catalog, label: str, lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Things that are allowed but probably mistakes: items nothing uses."""
    used_procedures = {pid for event in catalog.life_events for pid in event.procedures}
    used_procedures |= {pid for event in catalog.life_events for rule in event.rules
                        for pid in rule.add}
    used_questions = {condition.question for event in catalog.life_events
                      for rule in event.rules for condition in rule.when}
    used_documents = {doc for procedure in catalog.procedures for doc in procedure.documents}
    used_forms = {form for procedure in catalog.procedures for form in procedure.forms}
    for kind, used in (("procedures", used_procedures), ("questions", used_questions),
                       ("documents", used_documents), ("forms", used_forms)):
        for index, item in enumerate(getattr(catalog, kind)):
            if item.id not in used:
                loc: Loc = (kind, index)
                yield Problem(label, line_of(lines, loc), format_place(loc),
                              _NEVER_USED[kind](item.id))


# --- loading ---------------------------------------------------------------------------------


def check_catalog(path: str | Path, *, service_codes: Iterable[str],
                  required_locales: Iterable[str] = SEED_LOCALES) -> CheckResult:
    """Read and check a catalog file, collecting every problem rather than stopping at one."""
    path = Path(path)
    label = str(path)
    data, lines, problems = read_yaml(path, label)
    return _check_data(data, lines, problems, label, set(service_codes), tuple(required_locales))


def check_catalog_text(text: str, *, service_codes: Iterable[str],
                       required_locales: Iterable[str] = SEED_LOCALES,
                       label: str = "catalog") -> CheckResult:
    """Check a catalog held as text (an upload, a stored version) exactly as a file is."""
    data, lines, problems = read_yaml_text(text, label)
    return _check_data(data, lines, problems, label, set(service_codes), tuple(required_locales))


def _check_data(data: Any, lines: Mapping[Loc, int], problems: list[Problem], label: str,
                service_codes: set[str], required: tuple[str, ...]) -> CheckResult:
    """The checks shared by files and texts, once the YAML is read."""
    result = CheckResult(label, None, problems)
    if not isinstance(data, dict):
        return result
    unknown_locales = [code for code in required if code not in BY_CODE]
    if unknown_locales:
        raise ValueError(f"unknown required locales: {unknown_locales}")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as error:
        result.problems += _schema_problems(error, label, data, lines)
        result.problems.sort(key=lambda problem: problem.line or 0)
        return result
    result.problems += _reference_problems(catalog, service_codes, required, label, lines)
    result.problems.sort(key=lambda problem: problem.line or 0)
    if not result.problems:
        result.catalog = catalog
        result.warnings = list(_warnings(catalog, label, lines))
    return result


def load_catalog(path: str | Path, *, service_codes: Iterable[str],
                 required_locales: Iterable[str] = SEED_LOCALES) -> Catalog:
    """A valid catalog from a file, or CatalogError with every problem found."""
    result = check_catalog(path, service_codes=service_codes, required_locales=required_locales)
    if result.catalog is None:
        raise CatalogError(result.file, result.problems)
    return result.catalog
