"""The catalog's schema: the pydantic models a catalog file must match, and the kiosk's locales.

Kept apart from reading and checking so the guide and the forms can use the types without the
YAML and problem-reporting machinery. Strict models: a file's mistakes are errors, not coercions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints

#: Every kiosk language (PRODUCT.md): the final catalog must be complete in all of them.
KIOSK_LOCALES: tuple[str, ...] = ("ja", "ja_easy", "en", "zh_Hans", "ko", "vi", "pt_BR", "es",
                                  "tl", "ne", "id")
#: Locales the seed catalog is complete in (all of them); validation requires them by default,
#: so a text added in ja, ja_easy and en only is refused until translators fill the others.
SEED_LOCALES: tuple[str, ...] = KIOSK_LOCALES

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


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


class OnlineAlternative(_Model):
    """Where a procedure can be done online instead of at the counter (マイナポータル,
    ぴったりサービス, the city's e-form), and what the resident needs for it."""

    #: An http(s) address (checked), opened on the resident's own phone, never on the kiosk.
    url: str = Field(min_length=1, max_length=2000)
    name: Text
    #: What doing it online needs, e.g. "a My Number card and its PIN".
    condition: Text | None = None


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
    online: OnlineAlternative | None = None


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
