"""The procedure catalog: life events, questions, rules, procedures, documents and forms.

A catalog is data kept in a YAML file per office (`kiosk/catalogs/<office>.yaml`); every text
in it is a map {locale: text}. `load_catalog` reads a file, checks it against the schema and
its cross-references (ids, service codes, translations) and returns a `Catalog`, or raises a
`CatalogError` listing every problem with the file, the YAML line and the place. Problems of
structure and type come first (like a compiler's syntax errors); translations and references
are checked, all together, once the structure is right.

Visiting order is the order of `sections:` (the register first, because later steps need
the new address or the new entry), then the order of `procedures:` within a section.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from markupsafe import Markup, escape
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)
from sqlmodel import Session, select

from counter.models import Office, Service
from frontyard import ruby
from frontyard.i18n import BY_CODE, FALLBACKS, RUBY_LOCALES
from kiosk.details import DETAIL_FIELDS

CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"
#: Every kiosk language (PRODUCT.md): the final catalog must be complete in all of them.
KIOSK_LOCALES: tuple[str, ...] = ("ja", "ja_easy", "en", "zh_Hans", "ko", "vi", "pt_BR", "es",
                                  "tl", "ne", "id")
#: Locales the seed catalog is complete in (all of them); validation requires them by default,
#: so a text added in ja, ja_easy and en only is refused until translators fill the others.
SEED_LOCALES: tuple[str, ...] = KIOSK_LOCALES

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


def _text_problem(value: Mapping[str, str], required: Iterable[str]) -> str | None:
    """What is wrong with a {locale: text} map: unknown or missing locale, empty text, bad ruby."""
    unknown = sorted(set(value) - set(BY_CODE))
    if unknown:
        return f"unknown locale {', '.join(unknown)}"
    empty = sorted(code for code, text in value.items() if not text.strip())
    if empty:
        return f"empty translation for {', '.join(empty)}"
    for code in sorted(RUBY_LOCALES & set(value)):
        problems = ruby.problems(value[code], every_kanji=True)
        if problems:
            return f"{code}: {problems[0]}"
    missing = [code for code in required if code not in value]
    if missing:
        return f"missing translation for {', '.join(missing)}"
    return None


#: A text in several languages: {locale: text}.
Text = dict[str, str]


class _Model(BaseModel):
    """Strict: YAML's surprises (`no` read as false, "5" for 5) are errors, not coercions."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SectionStep(_Model):
    """The name, in every language, of one of the service's steps (受付, 確認, 交付…)."""

    step: str
    name: Text


class Section(_Model):
    """A section of the office and the queue (service) that serves it."""

    service: str
    name: Text
    counter_hint: Text | None = None
    steps: list[SectionStep] = []


class Document(_Model):
    """Something to bring."""

    id: Id
    name: Text
    note: Text | None = None


class Form(_Model):
    """A paper form staff print already filled from the once-only details."""

    id: Id
    name: Text
    fields: list[str] = Field(min_length=1)


class Option(_Model):
    """One answer to a choice question."""

    id: Id
    label: Text


class Question(_Model):
    """A question the kiosk asks when a rule needs its answer."""

    id: Id
    kind: Literal["yes_no", "choice", "number"]
    text: Text
    help: Text | None = None
    options: list[Option] = []
    #: A choice question that takes several options, or several numbers (ages of children).
    multiple: bool = False
    minimum: int | None = None
    maximum: int | None = None
    unit: Text | None = None


class Condition(_Model):
    """A test on one answer: `equals` (yes/no), `one_of` (choice), `at_least`/`at_most` (number).

    For a question with several answers, the condition holds when any of them matches.
    """

    question: Id
    equals: bool | None = None
    one_of: list[Id] | None = None
    at_least: int | None = None
    at_most: int | None = None


class Rule(_Model):
    """When every condition holds, the procedures are added."""

    when: list[Condition] = Field(min_length=1)
    add: list[Id] = Field(min_length=1)


class Deadline(_Model):
    """When a procedure must be done; `days`/`months` let a screen compute a due date."""

    text: Text
    days: int | None = Field(default=None, gt=0)
    months: int | None = Field(default=None, gt=0)


class Procedure(_Model):
    """One procedure, done at the counter of its service."""

    id: Id
    name: Text
    description: Text | None = None
    service: str
    counter_hint: Text | None = None
    documents: list[Id] = []
    duration_minutes: int = Field(gt=0, le=480)
    deadline: Deadline | None = None
    forms: list[Id] = []


class LifeEvent(_Model):
    """Something that happened in a resident's life and the procedures it calls for."""

    id: Id
    title: Text
    description: Text | None = None
    icon: str | None = None
    #: Needed whatever the answers.
    procedures: list[Id] = []
    rules: list[Rule] = []


class Catalog(_Model):
    """An office's whole catalog, with lookups by id."""

    format: Literal[1]
    office: str
    sections: list[Section] = Field(min_length=1)
    documents: list[Document] = []
    forms: list[Form] = []
    questions: list[Question] = []
    procedures: list[Procedure] = Field(min_length=1)
    life_events: list[LifeEvent] = Field(min_length=1)

    _sections: dict[str, Section] = PrivateAttr(default_factory=dict)
    _section_rank: dict[str, int] = PrivateAttr(default_factory=dict)
    _by_id: dict[str, dict[str, Any]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        """Index everything by id (the first of duplicates; the checks refuse duplicates)."""
        for rank, section in reversed(list(enumerate(self.sections))):
            self._sections[section.service] = section
            self._section_rank[section.service] = rank
        for kind in ("documents", "forms", "questions", "procedures", "life_events"):
            items = getattr(self, kind)
            self._by_id[kind] = {item.id: item for item in reversed(items)}

    def section(self, service: str) -> Section:
        """The section serving a service code."""
        return self._sections[service]

    def section_rank(self, service: str) -> int:
        """Where a service comes in the visiting order (0 first)."""
        return self._section_rank[service]

    def procedure(self, procedure_id: str) -> Procedure:
        """A procedure by id (KeyError if unknown)."""
        return self._by_id["procedures"][procedure_id]  # type: ignore[no-any-return]

    def question(self, question_id: str) -> Question:
        """A question by id (KeyError if unknown)."""
        return self._by_id["questions"][question_id]  # type: ignore[no-any-return]

    def document(self, document_id: str) -> Document:
        """A document by id (KeyError if unknown)."""
        return self._by_id["documents"][document_id]  # type: ignore[no-any-return]

    def form(self, form_id: str) -> Form:
        """A form by id (KeyError if unknown)."""
        return self._by_id["forms"][form_id]  # type: ignore[no-any-return]

    def life_event(self, event_id: str) -> LifeEvent:
        """A life event by id (KeyError if unknown)."""
        return self._by_id["life_events"][event_id]  # type: ignore[no-any-return]

    def has(self, kind: str, item_id: str) -> bool:
        """Whether `kind` ("procedures", "questions"…) holds an item with this id."""
        return item_id in self._by_id[kind]


# --- problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalog file."""

    file: str
    line: int | None
    place: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        place = f" {self.place}:" if self.place else ""
        return f"{where}:{place} {self.message}"


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


Loc = tuple[str | int, ...]


def format_place(loc: Iterable[str | int]) -> str:
    """A path such as life_events[2].rules[0].when[1]."""
    place = ""
    for part in loc:
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    return place


# --- YAML with line numbers ------------------------------------------------------------------


def _walk_nodes(node: yaml.Node, loc: Loc, lines: dict[Loc, int],
                duplicates: list[tuple[Loc, str]]) -> None:
    """Record the 1-based line of every mapping value and sequence item, and duplicate keys."""
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                lines[(*loc, key, "#dup")] = key_node.start_mark.line + 1
                duplicates.append(((*loc, key, "#dup"), key))
            seen.add(key)
            _walk_nodes(value_node, (*loc, key), lines, duplicates)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, (*loc, index), lines, duplicates)


def _line_of(lines: Mapping[Loc, int], loc: Loc) -> int | None:
    """The line of the deepest part of `loc` present in the file."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _read_yaml(path: Path, label: str) -> tuple[Any, dict[Loc, int], list[Problem]]:
    """Parse a YAML file safely; returns the data, the line of each place, and problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, {}, [Problem(label, None, "", f"cannot read the file: {error}")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark else None
        return None, {}, [Problem(label, line, "", f"YAML syntax: {error.problem}")]
    except yaml.YAMLError as error:
        return None, {}, [Problem(label, None, "", f"YAML syntax: {error}")]
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    duplicates: list[tuple[Loc, str]] = []
    if node is not None:
        _walk_nodes(node, (), lines, duplicates)
    problems = [Problem(label, lines[loc], format_place(loc[:-1]), f"duplicate key '{key}'")
                for loc, key in duplicates]
    if not isinstance(data, dict):
        problems.append(Problem(label, 1, "", "the catalog must be a YAML mapping"))
    return data, lines, problems


def _schema_problems(error: ValidationError, label: str, data: Any,
                     lines: Mapping[Loc, int]) -> list[Problem]:
    """Pydantic's errors as problems with their place and line."""
    problems = []
    for item in error.errors():
        loc = _data_loc(item["loc"], data)
        message = item["msg"]
        if item["type"] == "missing":
            message = f"missing field '{loc[-1]}'"
            loc = loc[:-1]
        elif item["type"] == "extra_forbidden":
            message = f"unknown field '{loc[-1]}'"
        elif item["type"] == "string_pattern_mismatch":
            message = (f"an id is lower-case letters, digits and '_', starting with a letter, "
                       f"not {item['input']!r}")
        elif item["type"] in {"string_type", "int_type", "bool_type", "list_type", "dict_type",
                              "model_type", "literal_error"}:
            message = f"{message}, not {_describe(item['input'])}"
        problems.append(Problem(label, _line_of(lines, loc), format_place(loc), message))
    return problems


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
        return f"the boolean {str(value).lower()} (quote yes/no/on/off to keep them as text)"
    if value is None:
        return "an empty value"
    kind = {dict: "a mapping", list: "a list", str: "text", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)
    return f"{kind} {value!r}" if kind in {"text", "a number"} else kind


# --- cross-references ------------------------------------------------------------------------


def _problem(label: str, lines: Mapping[Loc, int], loc: Loc, message: str) -> Problem:
    """A problem at a place of the file, with the place's line."""
    return Problem(label, _line_of(lines, loc), format_place(loc), message)


def _duplicates(items: list[Any], attr: str, loc: Loc, label: str,
                lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Items of a list sharing the same id (or service)."""
    first: dict[Any, int] = {}
    for index, item in enumerate(items):
        value = getattr(item, attr)
        if value in first:
            place: Loc = (*loc, index, attr)
            yield Problem(label, _line_of(lines, place), format_place(place),
                          f"duplicate {attr} '{value}' (first at "
                          f"{format_place((*loc, first[value]))})")
        else:
            first[value] = index


def _references(ids: list[str], kind: str, catalog: Catalog, loc: Loc, label: str,
                lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Each id in `ids` must name an item of `kind`, and appear once."""
    singular = kind.rstrip("s").replace("_", " ")
    seen: set[str] = set()
    for index, item_id in enumerate(ids):
        place = (*loc, index)
        if not catalog.has(kind, item_id):
            yield Problem(label, _line_of(lines, place), format_place(place),
                          f"unknown {singular} '{item_id}'")
        elif item_id in seen:
            yield Problem(label, _line_of(lines, place), format_place(place),
                          f"{singular} '{item_id}' is listed twice")
        seen.add(item_id)


def _question_problems(question: Question, loc: Loc, label: str,
                       lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """A question's own coherence: options only for choices, bounds only for numbers."""
    def problem(field_name: str | None, message: str) -> Problem:
        return _problem(label, lines, (*loc, field_name) if field_name else loc, message)

    if question.kind == "choice":
        if len(question.options) < 2:
            yield problem("options", "a choice question needs at least two options")
        yield from _duplicates(question.options, "id", (*loc, "options"), label, lines)
    elif question.options:
        yield problem("options", f"a {question.kind} question has no options")
    if question.kind != "number":
        for name in ("minimum", "maximum", "unit"):
            if getattr(question, name) is not None:
                yield problem(name, f"only a number question has '{name}'")
    if question.kind == "yes_no" and question.multiple:
        yield problem("multiple", "a yes_no question has a single answer")
    if (question.minimum is not None and question.maximum is not None
            and question.minimum > question.maximum):
        yield problem("maximum", "maximum is below minimum")


_OPERATORS = {"yes_no": {"equals"}, "choice": {"one_of"}, "number": {"at_least", "at_most"}}


def _condition_problems(condition: Condition, catalog: Catalog, loc: Loc, label: str,
                        lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """A condition must name a question and use the operator of its kind."""
    def problem(field_name: str | None, message: str) -> Problem:
        return _problem(label, lines, (*loc, field_name) if field_name else loc, message)

    if not catalog.has("questions", condition.question):
        yield problem("question", f"unknown question '{condition.question}'")
        return
    question = catalog.question(condition.question)
    used = {name for name in ("equals", "one_of", "at_least", "at_most")
            if getattr(condition, name) is not None}
    allowed = _OPERATORS[question.kind]
    if not used & allowed or used - allowed:
        wanted = " and/or ".join(f"'{name}'" for name in sorted(allowed))
        yield problem(None, f"a condition on {question.kind} question '{question.id}' "
                            f"takes {wanted}")
    options = {option.id for option in question.options}
    for option_id in condition.one_of or []:
        if question.kind == "choice" and option_id not in options:
            yield problem("one_of", f"'{option_id}' is not an option of '{question.id}'")
    if (condition.at_least is not None and condition.at_most is not None
            and condition.at_least > condition.at_most):
        yield problem("at_most", "at_most is below at_least")


def _reference_problems(catalog: Catalog, service_codes: set[str], required: tuple[str, ...],
                        label: str, lines: Mapping[Loc, int]) -> Iterator[Problem]:
    """Everything the schema cannot see: translations, ids, references, question logic."""
    def at(loc: Loc, message: str) -> Problem:
        return Problem(label, _line_of(lines, loc), format_place(loc), message)

    for loc, text in _texts(catalog):
        problem = _text_problem(text, required)
        if problem:
            yield at(loc, problem)

    yield from _duplicates(catalog.sections, "service", ("sections",), label, lines)
    for kind in ("documents", "forms", "questions", "procedures", "life_events"):
        yield from _duplicates(getattr(catalog, kind), "id", (kind,), label, lines)
    for index, section in enumerate(catalog.sections):
        if section.service not in service_codes:
            yield at(("sections", index, "service"), f"unknown service '{section.service}'")
    for index, form in enumerate(catalog.forms):
        for position, name in enumerate(form.fields):
            if name not in DETAIL_FIELDS:
                yield at(("forms", index, "fields", position), f"unknown detail field '{name}'")
    for index, question in enumerate(catalog.questions):
        yield from _question_problems(question, ("questions", index), label, lines)
    for index, procedure in enumerate(catalog.procedures):
        loc: Loc = ("procedures", index)
        if procedure.service not in service_codes:
            yield at((*loc, "service"), f"unknown service '{procedure.service}'")
        elif procedure.service not in {section.service for section in catalog.sections}:
            yield at((*loc, "service"), f"no section for service '{procedure.service}'")
        yield from _references(procedure.documents, "documents", catalog, (*loc, "documents"),
                               label, lines)
        yield from _references(procedure.forms, "forms", catalog, (*loc, "forms"), label, lines)
        deadline = procedure.deadline
        if deadline is not None and deadline.days is not None and deadline.months is not None:
            yield at((*loc, "deadline"), "give either days or months, not both")
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
            yield at(loc, f"life event '{event.id}' leads to no procedure")


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
                yield Problem(label, _line_of(lines, loc), format_place(loc),
                              f"{kind.rstrip('s')} '{item.id}' is never used")


# --- loading ---------------------------------------------------------------------------------


def check_catalog(path: str | Path, *, service_codes: Iterable[str],
                  required_locales: Iterable[str] = SEED_LOCALES) -> CheckResult:
    """Read and check a catalog file, collecting every problem rather than stopping at one."""
    path = Path(path)
    label = str(path)
    data, lines, problems = _read_yaml(path, label)
    result = CheckResult(label, None, problems)
    if not isinstance(data, dict):
        return result
    required = tuple(required_locales)
    unknown_locales = [code for code in required if code not in BY_CODE]
    if unknown_locales:
        raise ValueError(f"unknown required locales: {unknown_locales}")
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as error:
        result.problems += _schema_problems(error, label, data, lines)
        result.problems.sort(key=lambda problem: problem.line or 0)
        return result
    result.problems += _reference_problems(catalog, set(service_codes), required, label, lines)
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


def catalog_path(office_code: str) -> Path:
    """Where the catalog of an office is kept."""
    return CATALOG_DIR / f"{office_code}.yaml"


def apply_section_names(session: Session, office_code: str, catalog: Catalog) -> list[str]:
    """Give the office's services the names and step names of the catalog's sections in the
    languages they lack (names the city already set are kept): residents' phones, boards and
    terminals then name them in every kiosk language. Returns the codes of the services
    changed; steps a service does not have are ignored."""
    services = {service.code: service for service in session.exec(
        select(Service).join(Office, Office.id == Service.office_id)
        .where(Office.code == office_code))}
    changed = []
    for section in catalog.sections:
        service = services.get(section.service)
        if service is None:
            continue
        names = {**section.name, **service.names}
        step_names = {**service.step_names, **{
            step.step: {**step.name, **service.step_names.get(step.step, {})}
            for step in section.steps if step.step in service.steps}}
        if names != service.names or step_names != service.step_names:
            service.names, service.step_names = names, step_names
            session.add(service)
            changed.append(service.code)
    return changed


def service_codes_in_database(session: Session, office_code: str) -> set[str]:
    """The codes of the active services (queues) of an office, for checking a catalog."""
    statement = (select(Service.code).join(Office, Office.id == Service.office_id)
                 .where(Office.code == office_code, Service.active))
    return set(session.exec(statement).all())


# --- translations ----------------------------------------------------------------------------


def _texts(item: Any, loc: Loc = ()) -> Iterator[tuple[Loc, dict[str, str]]]:
    """Every text under an item, with its location."""
    if isinstance(item, BaseModel):
        for name in type(item).model_fields:
            yield from _texts(getattr(item, name), (*loc, name))
    elif isinstance(item, list):
        for index, child in enumerate(item):
            yield from _texts(child, (*loc, index))
    elif isinstance(item, dict):
        yield loc, item


def iter_texts(item: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """Every translatable text of a catalog (or part of one), with its place."""
    for loc, text in _texts(item):
        yield format_place(loc), text


def missing_translations(catalog: Catalog,
                         locales: Iterable[str] = KIOSK_LOCALES) -> dict[str, list[str]]:
    """For each locale with gaps, the places of the texts it lacks (for translators and tests)."""
    gaps: dict[str, list[str]] = {}
    texts = list(iter_texts(catalog))
    for code in locales:
        places = [place for place, text in texts if not text.get(code)]
        if places:
            gaps[code] = places
    return gaps


def localized(text: Mapping[str, str], locale: str) -> str:
    """A catalog text in a language, falling back (easy Japanese → Japanese → English)."""
    for code in (locale, FALLBACKS.get(locale), "en", "ja"):
        if code and text.get(code):
            return text[code]
    return next(iter(text.values()), "")


def localized_html(text: Mapping[str, str], locale: str) -> Markup:
    """A catalog text as safe HTML: ruby over kanji in easy Japanese, escaped everywhere."""
    for code in (locale, FALLBACKS.get(locale), "en", "ja"):
        if code and text.get(code):
            return ruby.to_html(text[code]) if code in RUBY_LOCALES else escape(text[code])
    return Markup("")
