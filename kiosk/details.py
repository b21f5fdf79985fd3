"""Once-only details (書かない窓口): what a resident gives once, normalised, validated and reused.

The kiosk pre-fills the form from a `DetailsSource`, the resident checks and completes it, and
`validate_details` turns the submitted strings into `Details` or a `ValidationFailed` whose
`fields` map each bad field ("household_members.0.name" for a member) to a translated message.
`Details.to_data()` is what is stored with the visit; the staff terminal reads it back with
`Details.from_data()` and prints it on every form of the visit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, Protocol

import jaconv
from babel import Locale
from babel.support import LazyProxy

from frontyard.exceptions import ValidationFailed
from frontyard.i18n import as_text, lazy_gettext
from frontyard.i18n import gettext as _
from kiosk.eras import DateInputError, parse_date


class Sex(StrEnum):
    """Sex as recorded in the resident register."""

    MALE = "male"
    FEMALE = "female"


class Relationship(StrEnum):
    """Relationship to the head of household (続柄); staff refine it to the register's wording."""

    HEAD = "head"
    WIFE = "wife"
    HUSBAND = "husband"
    CHILD = "child"
    FATHER = "father"
    MOTHER = "mother"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    CHILD_SPOUSE = "child_spouse"
    SPOUSE_PARENT = "spouse_parent"
    COHABITANT = "cohabitant"
    OTHER = "other"


class ResidenceStatus(StrEnum):
    """The status of residence (在留資格) printed on a residence card."""

    PERMANENT_RESIDENT = "permanent_resident"
    SPECIAL_PERMANENT_RESIDENT = "special_permanent_resident"
    SPOUSE_OF_JAPANESE = "spouse_of_japanese"
    SPOUSE_OF_PERMANENT_RESIDENT = "spouse_of_permanent_resident"
    LONG_TERM_RESIDENT = "long_term_resident"
    ENGINEER_HUMANITIES = "engineer_humanities"
    HIGHLY_SKILLED = "highly_skilled"
    BUSINESS_MANAGER = "business_manager"
    INTRA_COMPANY_TRANSFEREE = "intra_company_transferee"
    SKILLED_LABOR = "skilled_labor"
    SPECIFIED_SKILLED_WORKER_1 = "specified_skilled_worker_1"
    SPECIFIED_SKILLED_WORKER_2 = "specified_skilled_worker_2"
    TECHNICAL_INTERN = "technical_intern"
    NURSING_CARE = "nursing_care"
    STUDENT = "student"
    DEPENDENT = "dependent"
    DESIGNATED_ACTIVITIES = "designated_activities"
    OTHER = "other"


SEX_LABELS: dict[Sex, LazyProxy] = {
    Sex.MALE: lazy_gettext("Male"),
    Sex.FEMALE: lazy_gettext("Female"),
}
RELATIONSHIP_LABELS: dict[Relationship, LazyProxy] = {
    Relationship.HEAD: lazy_gettext("Head of household"),
    Relationship.WIFE: lazy_gettext("Wife"),
    Relationship.HUSBAND: lazy_gettext("Husband"),
    Relationship.CHILD: lazy_gettext("Child"),
    Relationship.FATHER: lazy_gettext("Father"),
    Relationship.MOTHER: lazy_gettext("Mother"),
    Relationship.GRANDCHILD: lazy_gettext("Grandchild"),
    Relationship.GRANDPARENT: lazy_gettext("Grandparent"),
    Relationship.SIBLING: lazy_gettext("Brother or sister"),
    Relationship.CHILD_SPOUSE: lazy_gettext("Child's spouse"),
    Relationship.SPOUSE_PARENT: lazy_gettext("Spouse's parent"),
    Relationship.COHABITANT: lazy_gettext("Lives in the same home (not family)"),
    Relationship.OTHER: lazy_gettext("Other relative"),
}
RESIDENCE_STATUS_LABELS: dict[ResidenceStatus, LazyProxy] = {
    ResidenceStatus.PERMANENT_RESIDENT: lazy_gettext("Permanent Resident"),
    ResidenceStatus.SPECIAL_PERMANENT_RESIDENT: lazy_gettext("Special Permanent Resident"),
    ResidenceStatus.SPOUSE_OF_JAPANESE: lazy_gettext("Spouse or Child of Japanese National"),
    ResidenceStatus.SPOUSE_OF_PERMANENT_RESIDENT:
        lazy_gettext("Spouse or Child of Permanent Resident"),
    ResidenceStatus.LONG_TERM_RESIDENT: lazy_gettext("Long-Term Resident"),
    ResidenceStatus.ENGINEER_HUMANITIES:
        lazy_gettext("Engineer/Specialist in Humanities/International Services"),
    ResidenceStatus.HIGHLY_SKILLED: lazy_gettext("Highly Skilled Professional"),
    ResidenceStatus.BUSINESS_MANAGER: lazy_gettext("Business Manager"),
    ResidenceStatus.INTRA_COMPANY_TRANSFEREE: lazy_gettext("Intra-company Transferee"),
    ResidenceStatus.SKILLED_LABOR: lazy_gettext("Skilled Labor"),
    ResidenceStatus.SPECIFIED_SKILLED_WORKER_1: lazy_gettext("Specified Skilled Worker (i)"),
    ResidenceStatus.SPECIFIED_SKILLED_WORKER_2: lazy_gettext("Specified Skilled Worker (ii)"),
    ResidenceStatus.TECHNICAL_INTERN: lazy_gettext("Technical Intern Training"),
    ResidenceStatus.NURSING_CARE: lazy_gettext("Nursing Care"),
    ResidenceStatus.STUDENT: lazy_gettext("Student"),
    ResidenceStatus.DEPENDENT: lazy_gettext("Dependent"),
    ResidenceStatus.DESIGNATED_ACTIVITIES: lazy_gettext("Designated Activities"),
    ResidenceStatus.OTHER: lazy_gettext("Other status of residence"),
}

#: Stored instead of a country code for a resident without nationality (無国籍).
STATELESS = "stateless"
#: Babel territory codes that are not a nationality or region a person can hold.
_NOT_NATIONALITIES = frozenset({"EU", "EZ", "UN", "ZZ", "XA", "XB", "QO", "AQ", "JP"})

MAX_MEMBERS = 15
_TEXT_LIMITS = {"name": 100, "furigana": 100, "household_head": 100, "address": 200,
                "building": 100, "previous_address": 200}


class FieldInvalid(ValueError):
    """One field's value is not acceptable; the message is translated."""


@dataclass(frozen=True)
class HouseholdMember:
    """Someone moving with the resident (a line of the 住民異動届)."""

    name: str
    furigana: str | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    relationship: Relationship | None = None


@dataclass(frozen=True)
class Details:
    """The details of one visit; a field the resident did not give is None (or empty)."""

    name: str | None = None
    furigana: str | None = None
    date_of_birth: date | None = None
    sex: Sex | None = None
    address: str | None = None
    building: str | None = None
    phone: str | None = None
    household_head: str | None = None
    relationship: Relationship | None = None
    household_members: tuple[HouseholdMember, ...] = ()
    moving_date: date | None = None
    previous_address: str | None = None
    nationality: str | None = None
    residence_card_number: str | None = None
    residence_status: ResidenceStatus | None = None
    stay_expiry: date | None = None

    def to_data(self) -> dict[str, Any]:
        """JSON-ready data (dates ISO, enums as values), leaving out what was not given."""
        data = {name: _to_json(getattr(self, name)) for name in DETAIL_FIELDS}
        data["household_members"] = [
            {f.name: _to_json(getattr(member, f.name)) for f in fields(HouseholdMember)
             if getattr(member, f.name) is not None}
            for member in self.household_members
        ]
        return {key: value for key, value in data.items() if value not in (None, [])}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Details:
        """Read back what `to_data` stored (without the date range checks of the kiosk)."""
        return _validate(data, (), None)

    def merged(self, other: Details) -> Details:
        """These details with the fields `other` gives taking precedence."""
        given = {f.name: getattr(other, f.name) for f in fields(other)
                 if getattr(other, f.name) not in (None, ())}
        return replace(self, **given)


def _to_json(value: Any) -> Any:
    """A field value as JSON: dates in ISO form, enums as their plain value."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value


DETAIL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Details))

FIELD_LABELS: dict[str, LazyProxy] = {
    "name": lazy_gettext("Name"),
    "furigana": lazy_gettext("Name in katakana (furigana)"),
    "date_of_birth": lazy_gettext("Date of birth"),
    "sex": lazy_gettext("Sex"),
    "address": lazy_gettext("Address"),
    "building": lazy_gettext("Building and room number"),
    "phone": lazy_gettext("Phone number"),
    "household_head": lazy_gettext("Head of household"),
    "relationship": lazy_gettext("Relationship to the head of household"),
    "household_members": lazy_gettext("People moving with you"),
    "moving_date": lazy_gettext("Moving date"),
    "previous_address": lazy_gettext("Previous address"),
    "nationality": lazy_gettext("Nationality or region"),
    "residence_card_number": lazy_gettext("Residence card number"),
    "residence_status": lazy_gettext("Status of residence"),
    "stay_expiry": lazy_gettext("Period of stay (expiry date)"),
}


class DetailsSource(Protocol):
    """Where pre-filled details come from.

    `ManualEntry` pre-fills nothing. A My Number card reader would implement `read()` by reading
    the card's text fields (券面事項入力補助AP, after the resident's 4-digit PIN) and return
    name, address, date of birth and sex, with `name = "mynumber_card"`; an adapter to the
    city's resident register would look the resident up and return what the register holds.
    The kiosk flow only calls `read()` and shows the result for the resident to check, so a new
    source needs no change to the flow; `name` is stored as `VisitDetails.source`.
    """

    name: str

    def read(self) -> Details:
        """The details this source knows; fields it does not know stay None."""
        ...


class ManualEntry:
    """The resident types everything: nothing is pre-filled."""

    name = "manual"

    def read(self) -> Details:
        """Empty details."""
        return Details()


# --- normalisation -------------------------------------------------------------------------

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ\u00c0-\u024f\u1e00-\u1eff]")
_KATAKANA_WORD = r"[\u30a1-\u30fa\u30fc-\u30fe・]+"
_KATAKANA_READING = re.compile(rf"{_KATAKANA_WORD}(?:\u3000{_KATAKANA_WORD})*")
_DASHES = re.compile(r"[-－‐―—─~〜～]")
#: Control characters (NUL, escape…): no one types them; refused rather than silently dropped.
#: U+FFFD too: a NUL echoed into a form comes back as it, and must be typed again as well.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffd]")


def collapse_spaces(text: str, space: str = " ") -> str:
    """Trim and turn every run of white space (ASCII or full-width) into one `space`."""
    return re.sub(r"\s+", space, text).strip()


def normalise_text(text: str) -> str:
    """Half-width katakana to full-width, full-width Latin letters and digits to ASCII."""
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = jaconv.z2h(text, kana=False, ascii=True, digit=True)
    return collapse_spaces(text)


def normalise_name(text: str) -> str:
    """A name with tidy spacing: a full-width space between parts of a Japanese name."""
    text = normalise_text(text)
    return collapse_spaces(text, "\u3000") if _JAPANESE.search(text) else text


def normalise_furigana(text: str) -> str:
    """A reading in full-width katakana: hiragana and half-width kana converted, spaces tidied."""
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = jaconv.hira2kata(text)
    # Long vowels typed with a dash or tilde on a keyboard (コ-ヒ-) mean ー.
    text = _DASHES.sub("ー", text)
    return collapse_spaces(text, "\u3000")


# --- field parsers: each takes the submitted string and returns the value or raises ----------


def _text(name: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = normalise_name(raw) if name in {"name", "household_head"} else normalise_text(raw)
        if len(value) > _TEXT_LIMITS[name]:
            raise FieldInvalid(_("Please use at most %(max)d characters.")
                               % {"max": _TEXT_LIMITS[name]})
        if name in {"name", "household_head"} and re.search(r"\d", value):
            raise FieldInvalid(_("A name cannot contain digits."))
        return value
    return parse


def parse_furigana(raw: str) -> str:
    """The reading of a name in katakana."""
    value = normalise_furigana(raw)
    if not _KATAKANA_READING.fullmatch(value):
        raise FieldInvalid(_("Write the reading of the name in katakana or hiragana."))
    if len(value) > _TEXT_LIMITS["furigana"]:
        raise FieldInvalid(_("Please use at most %(max)d characters.") % {"max": 100})
    return value


def parse_phone(raw: str) -> str:
    """A Japanese (0…, 10 or 11 digits) or international (+…) phone number, with hyphens kept."""
    value = unicodedata.normalize("NFKC", raw)
    value = re.sub(r"[\s()ー‐−]+", "-", value.strip()).strip("-")
    value = re.sub(r"-+", "-", value)
    digits = re.sub(r"\D", "", value)
    valid = re.fullmatch(r"\+?[0-9][0-9-]*", value) is not None and (
        8 <= len(digits) <= 15 if value.startswith("+")
        else digits.startswith("0") and len(digits) in (10, 11)
    )
    if not valid:
        raise FieldInvalid(_("Enter a phone number such as 090-1234-5678."))
    return value


def parse_residence_card_number(raw: str) -> str:
    """A residence card number: 2 letters, 8 digits, 2 letters (AB12345678CD)."""
    value = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{8}[A-Z]{2}", value):
        raise FieldInvalid(_("A residence card number has 2 letters, 8 digits and 2 letters, "
                             "such as AB12345678CD."))
    return value


@cache
def nationality_codes() -> frozenset[str]:
    """The ISO 3166 codes a nationality or region (国籍・地域) may have, and `stateless`."""
    codes = {code for code in Locale("en").territories if len(code) == 2 and code.isalpha()}
    return frozenset((codes - _NOT_NATIONALITIES) | {STATELESS})


def parse_nationality(raw: str) -> str:
    """A country or region code from the list (JP is not a foreign nationality)."""
    value = raw.strip()
    value = value.lower() if value.lower() == STATELESS else value.upper()
    if value not in nationality_codes():
        raise FieldInvalid(_("Choose a country or region from the list."))
    return value


def _choice(enum: type[StrEnum]) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            return enum(raw.strip())
        except ValueError:
            raise FieldInvalid(_("Choose one of the options.")) from None
    return parse


def _date(kind: str, today: date | None) -> Callable[[str], date]:
    def parse(raw: str) -> date:
        value = parse_date(raw)
        if today is None:
            return value
        if kind == "birth" and value > today:
            raise FieldInvalid(_("The date of birth cannot be in the future."))
        if kind == "birth" and value < today.replace(year=today.year - 130, day=1):
            raise FieldInvalid(_("Check the year: this date is more than 130 years ago."))
        if kind == "moving" and not today - timedelta(days=365) <= value <= today + timedelta(
                days=30):
            raise FieldInvalid(_("The moving date must be within the past year "
                                 "or the next 30 days."))
        return value
    return parse


def _parsers(today: date | None) -> dict[str, Callable[[str], Any]]:
    """The parser of every scalar field."""
    return {
        "name": _text("name"),
        "furigana": parse_furigana,
        "date_of_birth": _date("birth", today),
        "sex": _choice(Sex),
        "address": _text("address"),
        "building": _text("building"),
        "phone": parse_phone,
        "household_head": _text("household_head"),
        "relationship": _choice(Relationship),
        "moving_date": _date("moving", today),
        "previous_address": _text("previous_address"),
        "nationality": parse_nationality,
        "residence_card_number": parse_residence_card_number,
        "residence_status": _choice(ResidenceStatus),
        "stay_expiry": _date("any", today),
    }


MEMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(HouseholdMember))
_DATE_FIELDS = frozenset({"date_of_birth", "moving_date", "stay_expiry"})


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _parse_fields(raw: Mapping[str, Any], names: Iterable[str], required: Iterable[str],
                  parsers: dict[str, Callable[[str], Any]], prefix: str,
                  errors: dict[str, str]) -> dict[str, Any]:
    """Parse the given fields, recording a message per bad field in `errors`."""
    values: dict[str, Any] = {}
    required = set(required)
    for name in names:
        given = raw.get(name)
        if _blank(given):
            if name in required:
                errors[prefix + name] = _("Please fill in this field.")
            continue
        if isinstance(given, date) and name in _DATE_FIELDS:
            given = given.isoformat()
        if not isinstance(given, str):
            errors[prefix + name] = _("Choose one of the options.")
            continue
        if _CONTROL.search(given):
            errors[prefix + name] = _("This entry contains a control character (such as NUL) "
                                      "that cannot be used. Please type it again.")
            continue
        try:
            values[name] = parsers[name](given)
        except (FieldInvalid, DateInputError) as error:
            errors[prefix + name] = as_text(error.args[0]) if error.args else str(error)
    return values


def _parse_members(raw: Any, parsers: dict[str, Callable[[str], Any]],
                   errors: dict[str, str]) -> tuple[HouseholdMember, ...]:
    """The household members: each needs a name; the other columns are optional."""
    if _blank(raw) or raw == []:
        return ()
    if not isinstance(raw, list | tuple) or not all(isinstance(m, Mapping) for m in raw):
        errors["household_members"] = _("Choose one of the options.")
        return ()
    if len(raw) > MAX_MEMBERS:
        errors["household_members"] = (_("Add at most %(max)d people.") % {"max": MAX_MEMBERS})
        return ()
    members = []
    for index, member in enumerate(raw):
        if all(_blank(member.get(name)) for name in MEMBER_FIELDS):
            continue  # an empty row of the form
        values = _parse_fields(member, MEMBER_FIELDS, {"name"}, parsers,
                               f"household_members.{index}.", errors)
        if "name" in values:
            members.append(HouseholdMember(**values))
    return tuple(members)


def validate_details(raw: Mapping[str, Any], *, required: Iterable[str] = (),
                     today: date | None = None) -> Details:
    """Normalise and check submitted details; raises ValidationFailed listing every bad field.

    `raw` maps field names to strings (dates may also be `date`); `household_members` is a list
    of mappings with the `MEMBER_FIELDS`. `required` names the fields that must be given (the
    kiosk takes them from the forms of the chosen procedures). Pass the city's `today`.
    """
    unknown = set(required) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"unknown detail fields: {sorted(unknown)}")
    return _validate(raw, required, today or date.today())


def written_in_latin(name: Any) -> bool:
    """A name in Latin letters (Nguyen Van An, José): it has no katakana reading to ask for."""
    return isinstance(name, str) and bool(_LATIN.search(name)) and not _JAPANESE.search(name)


def _validate(raw: Mapping[str, Any], required: Iterable[str], today: date | None) -> Details:
    """Parse every field; `today` None skips the checks that depend on the current date."""
    if written_in_latin(raw.get("name")):  # foreign residents need not invent a katakana name
        required = set(required) - {"furigana"}
    parsers = _parsers(today)
    errors: dict[str, str] = {}
    scalar = [name for name in DETAIL_FIELDS if name != "household_members"]
    values = _parse_fields(raw, scalar, required, parsers, "", errors)
    members = _parse_members(raw.get("household_members"), parsers, errors)
    if not members and "household_members" in required and "household_members" not in errors:
        errors["household_members"] = _("Please fill in this field.")
    if errors:
        raise ValidationFailed(_("Some of the details are not valid."), **errors)
    return Details(**values, household_members=members)

