"""The rule engine on the seed catalog: each life event and answer set gives the expected
procedures, in visiting order. The expected lists are written out by hand from the catalog's
rules and the visiting-order rule (sections in catalog order, 市民課 first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from composition.demo import SERVICES
from frontyard.exceptions import ValidationFailed
from frontyard.i18n import use_locale
from kiosk.catalog import KIOSK_LOCALES, catalog_path, load_catalog
from kiosk.guide import build_guide, check_answers, parse_answers

DATA = Path(__file__).parent / "data" / "catalogs"


@pytest.fixture(scope="module")
def seed():  # type: ignore[no-untyped-def]
    """The demo office's catalog."""
    return load_catalog(catalog_path("main"), service_codes={code for code, *_ in SERVICES})


def ids(guide) -> list[str]:  # type: ignore[no-untyped-def]
    """The procedure ids of a guide, in order."""
    return [step.procedure.id for step in guide.steps]


SCENARIOS = [
    pytest.param(
        ["moving_in"],
        {"household_ages": [38, 36, 10, 3], "mynumber_card": True, "register_seal": True,
         "national_health_insurance": False, "longterm_care_certified": False,
         "daycare": True, "pregnant": False, "dog": True},
        ["moving_in_notice", "mynumber_card_update", "seal_registration",
         "child_allowance_claim", "child_medical_grant", "daycare_application",
         "school_enrolment_transfer", "dog_registration_transfer"],
        id="moving in: family with a schoolchild, a toddler and a dog"),
    pytest.param(
        ["moving_in"],
        {"household_ages": [70], "mynumber_card": False, "register_seal": False,
         "national_health_insurance": True, "pregnant": False, "dog": False},
        ["moving_in_notice", "nhi_join", "longterm_care_join"],
        id="moving in: aged 70 in the national health insurance"),
    pytest.param(
        ["moving_in"],
        {"household_ages": [80], "mynumber_card": False, "register_seal": False,
         "national_health_insurance": False, "pregnant": False, "dog": False},
        ["moving_in_notice", "late_elderly_join", "longterm_care_join"],
        id="moving in: aged 80"),
    pytest.param(
        ["moving_in"],
        {"household_ages": [29], "mynumber_card": False, "register_seal": False,
         "national_health_insurance": True, "longterm_care_certified": False,
         "pregnant": True, "dog": False},
        ["moving_in_notice", "nhi_join", "national_pension_change",
         "prenatal_checkup_exchange"],
        id="moving in: pregnant, in the national insurance"),
    pytest.param(
        ["moving_in", "birth"],
        {"household_ages": [32, 30, 0], "mynumber_card": True, "register_seal": False,
         "national_health_insurance": True, "longterm_care_certified": False,
         "daycare": False, "pregnant": False, "dog": False},
        ["birth_notice", "moving_in_notice", "mynumber_card_update", "nhi_join",
         "national_pension_change", "childbirth_lump_sum", "child_allowance_claim",
         "child_medical_grant", "birth_contact_card"],
        id="moving in and a birth"),
    pytest.param(
        ["moving_out"],
        {"household_ages": [45, 12], "seal_registered": True, "national_health_insurance": True,
         "longterm_care_certified": False},
        ["moving_out_notice", "seal_cancellation", "nhi_leave", "child_allowance_end",
         "child_medical_return"],
        id="moving out with a child"),
    pytest.param(
        ["moving_out"],
        {"household_ages": [78], "seal_registered": False, "national_health_insurance": False,
         "longterm_care_certified": True},
        ["moving_out_notice", "late_elderly_leave", "longterm_care_leave",
         "longterm_care_certificate"],
        id="moving out: aged 78 with care certification"),
    pytest.param(
        ["moving_within"],
        {"household_ages": [40, 8], "mynumber_card": True, "national_health_insurance": False,
         "dog": True},
        ["moving_within_notice", "mynumber_card_update", "child_medical_change",
         "school_change", "dog_address_change"],
        id="moving within the city"),
    pytest.param(
        ["birth"],
        {"national_health_insurance": False},
        ["birth_notice", "child_allowance_claim", "child_medical_grant", "birth_contact_card"],
        id="birth, parents in work insurance"),
    pytest.param(
        ["death"],
        {"deceased_age": 82, "deceased_head": True, "deceased_pension": True,
         "deceased_medical_certificate": False, "deceased_property": True},
        ["death_notice", "head_of_household_change", "late_elderly_leave", "funeral_expenses",
         "unpaid_pension", "longterm_care_leave", "property_heir_representative"],
        id="death at 82 of the head of household"),
    pytest.param(
        ["death"],
        {"deceased_age": 60, "deceased_nhi": True, "deceased_head": False,
         "deceased_pension": False, "deceased_medical_certificate": True,
         "deceased_property": False},
        ["death_notice", "nhi_leave", "funeral_expenses", "welfare_medical_return"],
        id="death at 60 in the national insurance"),
    pytest.param(
        ["marriage"],
        {"marriage_move": "within_city", "surname_change": True, "mynumber_card": True,
         "seal_registered": True, "national_health_insurance": True, "children_ages": []},
        ["marriage_notice", "moving_within_notice", "mynumber_card_update",
         "seal_reregistration", "nhi_change", "national_pension_change"],
        id="marriage with a move within the city and a new surname"),
    pytest.param(
        ["marriage"],
        {"marriage_move": "from_other_city", "surname_change": False, "mynumber_card": False,
         "national_health_insurance": False, "children_ages": [4]},
        ["marriage_notice", "moving_in_notice", "child_allowance_change",
         "child_medical_change"],
        id="marriage, moving in from another city with a child"),
    pytest.param(
        ["divorce"],
        {"divorce_surname": "former", "seal_registered": False, "mynumber_card": True,
         "divorce_move": "none", "spouse_insurance": True, "children_ages": [7]},
        ["divorce_notice", "mynumber_card_update", "nhi_join", "national_pension_change",
         "child_rearing_allowance", "single_parent_medical"],
        id="divorce back to the former surname, with a child"),
    pytest.param(
        ["divorce"],
        {"divorce_surname": "keep_married", "divorce_move": "to_other_city",
         "spouse_insurance": False, "children_ages": []},
        ["divorce_notice", "keep_married_surname", "moving_out_notice"],
        id="divorce keeping the married surname, moving away"),
    pytest.param(
        ["arriving_from_abroad"],
        {"household_ages": [29, 27, 4], "national_health_insurance": True, "daycare": False,
         "pregnant": True},
        ["moving_in_from_abroad", "mynumber_card_application", "nhi_join",
         "national_pension_join", "child_allowance_claim", "child_medical_grant",
         "maternal_handbook_issue"],
        id="arriving from abroad: young family, expecting"),
    pytest.param(
        ["certificates"],
        {"certificates": ["tax", "resident_record"]},
        ["resident_record_copy", "income_certificate"],
        id="certificates: residence record and tax"),
    pytest.param(
        ["certificates"],
        {"certificates": ["family_register", "seal"]},
        ["seal_certificate", "family_register_certificate"],
        id="certificates: seal and family register"),
]


@pytest.mark.parametrize(("events", "answers", "expected"), SCENARIOS)
def test_life_events_give_procedures_in_visiting_order(seed, events, answers, expected):
    """Every seed life event with representative answers: the full list, in order, complete."""
    guide = build_guide(seed, events, answers)
    assert ids(guide) == expected
    assert guide.complete
    assert [step.position for step in guide.steps] == list(range(1, len(expected) + 1))


def test_a_procedure_needed_twice_appears_once_with_both_events(seed):
    """Moving in with a baby needs child allowance for both reasons: one step, two events."""
    guide = build_guide(seed, ["moving_in", "birth"], SCENARIOS[4].values[1])
    allowance = [step for step in guide.steps if step.procedure.id == "child_allowance_claim"]
    assert len(allowance) == 1
    assert allowance[0].life_events == ("moving_in", "birth")
    assert allowance[0].service == "childcare"


def test_documents_are_deduplicated_in_the_order_first_needed(seed):
    """Moving out: photo ID once, then each other document after the step needing it."""
    guide = build_guide(seed, ["moving_out"], SCENARIOS[5].values[1])
    assert [doc.id for doc in guide.documents] == [
        "id_document", "seal_card", "health_insurance_card", "child_medical_certificate",
    ]
    assert [doc.id for doc in guide.steps[2].documents] == ["health_insurance_card",
                                                            "id_document"]


def test_total_time_is_the_sum_of_usual_durations(seed):
    """Death at 82: 20 + 10 + 10 + 10 + 20 + 10 + 15 minutes."""
    guide = build_guide(seed, ["death"], SCENARIOS[9].values[1])
    assert guide.total_minutes == 95


def test_step_carries_section_counter_and_deadline(seed):
    """Each step says where to go, what it is called there and by when."""
    guide = build_guide(seed, ["death"], {"deceased_age": 50, "deceased_nhi": False,
                                          "deceased_head": False, "deceased_pension": False,
                                          "deceased_medical_certificate": False,
                                          "deceased_property": False})
    (step,) = guide.steps
    assert step.section.name["ja"] == "市民課"
    assert step.counter_hint is not None
    assert step.counter_hint["ja"] == "1〜3番窓口（1階）"
    assert step.counter_hint["ja_easy"] == "1〜3番《ばん》の 窓口《まどぐち》（1階《かい》）"
    assert step.counter_hint["en"] == "Counters 1–3 (1st floor)"
    assert set(step.counter_hint) == set(KIOSK_LOCALES)
    assert step.procedure.deadline is not None
    assert step.procedure.deadline.days == 7


def test_forms_give_the_detail_fields_to_ask(seed):
    """Certificates use the request form: the kiosk asks only its six fields."""
    guide = build_guide(seed, ["certificates"], {"certificates": ["resident_record"]})
    assert [form.id for form in guide.forms] == ["certificate_request"]
    assert guide.detail_fields == ("name", "furigana", "date_of_birth", "address", "building",
                                   "phone")


# --- which questions are asked ---------------------------------------------------------------


def test_before_any_answer_only_first_conditions_are_asked(seed):
    """Moving in asks seven questions first; daycare waits for an age under 6."""
    guide = build_guide(seed, ["moving_in"], {})
    assert [q.id for q in guide.pending_questions] == [
        "household_ages", "national_health_insurance", "mynumber_card", "register_seal",
        "longterm_care_certified", "pregnant", "dog",
    ]
    assert ids(guide) == ["moving_in_notice"]
    assert not guide.complete


def test_daycare_is_asked_only_when_a_young_child_moves(seed):
    """The second condition of a rule is asked once the first holds."""
    base = {"mynumber_card": False, "register_seal": False, "national_health_insurance": False,
            "longterm_care_certified": False, "pregnant": False, "dog": False}
    older = build_guide(seed, ["moving_in"], {**base, "household_ages": [40, 9]})
    assert older.pending_questions == ()
    younger = build_guide(seed, ["moving_in"], {**base, "household_ages": [40, 3]})
    assert [q.id for q in younger.pending_questions] == ["daycare"]


def test_a_rule_whose_procedures_are_listed_asks_nothing(seed):
    """At 70, care registration is already needed: the certification question is skipped."""
    guide = build_guide(seed, ["moving_in"], SCENARIOS[1].values[1])
    assert "longterm_care_certified" not in SCENARIOS[1].values[1]
    assert guide.complete


def test_a_failed_condition_spares_the_others(seed):
    """Death at 82: whether the deceased was in the national insurance is not asked."""
    asked = build_guide(seed, ["death"], {})
    assert [q.id for q in asked.pending_questions] == [
        "deceased_age", "deceased_head", "deceased_pension", "deceased_medical_certificate",
        "deceased_property",
    ]
    after = build_guide(seed, ["death"], {"deceased_age": 82})
    assert "deceased_nhi" not in [q.id for q in after.pending_questions]
    younger = build_guide(seed, ["death"], {"deceased_age": 60})
    assert "deceased_nhi" in [q.id for q in younger.pending_questions]


def test_two_events_share_their_questions(seed):
    """Moving in and a birth: the insurance question is asked once."""
    guide = build_guide(seed, ["birth", "moving_in"], {})
    pending = [q.id for q in guide.pending_questions]
    assert pending.count("national_health_insurance") == 1
    assert ids(guide) == ["birth_notice", "moving_in_notice", "child_allowance_claim",
                          "child_medical_grant", "birth_contact_card"]


def test_conditions_of_a_small_catalog():
    """Any of several numbers matches; a choice matches listed options only."""
    catalog = load_catalog(DATA / "good.yaml", service_codes={"residents", "childcare"},
                           required_locales=("ja", "ja_easy", "en"))
    assert ids(build_guide(catalog, ["moving_in"], {"ages": [40, 19], "has_dog": False})) == [
        "move_in"]
    assert ids(build_guide(catalog, ["moving_in"], {"ages": [40, 18]})) == [
        "move_in", "allowance"]
    guide = build_guide(catalog, ["moving_in"], {"ages": [40], "has_dog": True})
    assert [q.id for q in guide.pending_questions] == ["colour"]
    assert ids(build_guide(catalog, ["moving_in"], {"ages": [40], "has_dog": True,
                                                    "colour": "blue"})) == ["move_in"]


# --- refused input ---------------------------------------------------------------------------


def test_no_life_event_is_refused(seed):
    """At least one life event must be chosen."""
    with use_locale("en"), pytest.raises(ValidationFailed) as caught:
        build_guide(seed, [], {})
    assert str(caught.value) == "Choose at least one life event."


def test_unknown_life_event_is_refused(seed):
    """A tampered life event id is a validation error, not a crash."""
    with use_locale("ja"), pytest.raises(ValidationFailed) as caught:
        build_guide(seed, ["moving_in", "lottery_win"], {})
    assert str(caught.value) == "この手続きはここでは案内していません。"


@pytest.mark.parametrize(("answers", "field", "message"), [
    ({"dog": "yes"}, "dog", "Answer yes or no."),
    ({"household_ages": 35}, "household_ages", "Enter a whole number."),
    ({"household_ages": ["35"]}, "household_ages", "Enter a whole number."),
    ({"household_ages": [True]}, "household_ages", "Enter a whole number."),
    ({"household_ages": [150]}, "household_ages", "Enter a number from 0 to 120."),
    ({"marriage_move": "abroad"}, "marriage_move", "Choose one of the options."),
    ({"certificates": "tax"}, "certificates", "Choose one of the options."),
    ({"favourite_colour": "red"}, "favourite_colour", "This question is not asked here."),
])
def test_bad_answers_are_refused_per_question(seed, answers, field, message):
    """Each bad answer is named with its own message."""
    with use_locale("en"), pytest.raises(ValidationFailed) as caught:
        check_answers(seed, answers)
    assert str(caught.value) == "Some answers are not valid."
    assert caught.value.fields == {field: message}


def test_answers_from_a_form(seed):
    """Form strings become typed answers; other fields and blank single answers are ignored."""
    answers = parse_answers(seed, {
        "household_ages": "35、４", "dog": "yes", "national_health_insurance": "no",
        "pregnant": "", "csrf_token": "x", "certificates": ["tax", "seal"],
        "children_ages": "",
    })
    assert answers == {"household_ages": [35, 4], "dog": True,
                       "national_health_insurance": False, "certificates": ["tax", "seal"],
                       "children_ages": []}


def test_bad_form_answers_are_refused(seed):
    """Unreadable form answers are reported per question."""
    with use_locale("en"), pytest.raises(ValidationFailed) as caught:
        parse_answers(seed, {"household_ages": "35, old", "dog": "maybe",
                             "deceased_age": "200"})
    assert caught.value.fields == {"household_ages": "Enter a whole number.",
                                   "dog": "Answer yes or no.",
                                   "deceased_age": "Enter a number from 0 to 130."}
