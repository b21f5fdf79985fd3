"""The no-write counter: staff see the details given once, correct them (audited), print forms."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from composition.demo import seed_structure
from counter import queue
from counter.models import VisitDetails
from frontyard import database
from frontyard.audit import AuditEntry
from frontyard.auth import DeviceKind, create_device
from frontyard.templating import static_url
from kiosk import forms
from kiosk.details import validate_details
from tests.conftest import make_client

DETAILS = validate_details({
    "name": "山田 太郎", "furigana": "ヤマダ タロウ", "date_of_birth": "1990-04-01",
    "sex": "male", "address": "本町1-2-3", "building": "グリーンハイツ101",
    "phone": "090-1234-5678", "household_head": "山田 太郎", "relationship": "head",
    "moving_date": "2026-11-20", "previous_address": "東京都千代田区1-1",
    "household_members": [
        {"name": "山田 花子", "furigana": "ヤマダ ハナコ", "date_of_birth": "2023-06-01",
         "sex": "female", "relationship": "child"},
        {"name": "山田 良子", "date_of_birth": "1991-02-03", "sex": "female",
         "relationship": "wife"},
    ],
}).to_data()
PROCEDURES = [("residents", "moving_in_notice"), ("insurance", "nhi_join"),
              ("childcare", "child_allowance_claim")]


def issue(engine, details=DETAILS, procedures=PROCEDURES) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A visit of the demo office with the given procedures and details; its id and the public
    id its pages' addresses carry."""
    with database.session_scope(engine) as session:
        office = seed_structure(session)
        visit = queue.issue_ticket(session, office_id=office.id,  # type: ignore[arg-type]
                                   service_codes=[code for code, _ in procedures],
                                   procedure_codes=[proc for _, proc in procedures],
                                   locale="vi", details=details)
        return visit.id, visit.public_id  # type: ignore[return-value]


def audit_actions(engine, visit_id: int) -> list[tuple[str, dict]]:  # type: ignore[no-untyped-def]
    """The audit entries of a visit, oldest first."""
    with Session(engine) as session:
        rows = session.exec(select(AuditEntry).where(AuditEntry.visit_id == visit_id)
                            .order_by(AuditEntry.id)).all()  # type: ignore[arg-type]
        return [(row.action, row.detail) for row in rows]


def test_staff_see_procedures_details_and_forms_and_the_look_is_audited(staff_client, engine):
    """The page lists the procedures in order, the details and links to the visit's forms."""
    visit_id, public_id = issue(engine)
    page = staff_client.get(f"/forms/visit/{public_id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.text
    assert text.index("Moving-in notification") < text.index("Joining the National") \
        < text.index("Child allowance")
    assert "山田　太郎" in text and "1990-04-01 (平成2年4月1日)" in text and "Child" in text
    assert f'href="/forms/visit/{public_id}/print/resident_move"' in text
    assert f'href="/forms/visit/{public_id}/print/child_allowance"' in text
    assert page.headers["cache-control"] == "no-store"
    assert audit_actions(engine, visit_id) == [("details_viewed", {})]


def test_forms_are_for_staff_only(client, app, engine):
    """Anonymous users and kiosk devices are sent to sign in; they never see the details."""
    visit_id, public_id = issue(engine)
    paths = [f"/forms/visit/{public_id}", f"/forms/visit/{public_id}/print/resident_move",
             f"/forms/visit/{public_id}/details/edit"]
    for path in paths:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with database.session_scope(engine) as session:
        _, token, _ = create_device(session, "lobby", DeviceKind.KIOSK)
    with make_client(app) as kiosk:
        response = kiosk.get(paths[0], headers={"Authorization": f"Bearer {token}"},
                             follow_redirects=False)
        assert response.status_code == 303
        response = kiosk.post(f"/forms/visit/{public_id}/details", data={"name": "x"},
                              headers={"Authorization": f"Bearer {token}"},
                              follow_redirects=False)
        assert response.status_code == 303
    assert audit_actions(engine, visit_id) == []


def test_unknown_visit_or_form_is_a_404(staff_client, engine):
    """No such visit or form: a translated 404, not a 500."""
    _visit_id, public_id = issue(engine)
    assert staff_client.get(f"/forms/visit/{public_id}x").status_code == 404
    assert staff_client.get(f"/forms/visit/{public_id}/print/no_such_form").status_code == 404


def test_resident_move_form_is_filled_from_the_details(staff_client, engine):
    """住民異動届: the kind of move ticked, address, dates in the era, every person listed."""
    visit_id, public_id = issue(engine)
    page = staff_client.get(f"/forms/visit/{public_id}/print/resident_move")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="ja"' in text and "住民異動届" in text
    assert 'data-kind="moving_in" class="checked"' in text
    assert 'data-kind="moving_out">' in text
    assert 'data-field="address">本町1-2-3<' in text
    assert 'data-field="moving_date">令和8年11月20日<' in text
    for expected in ["山田　太郎", "ヤマダ\u3000タロウ", "平成2年4月1日", "山田　花子",
                     "令和5年6月1日", "山田　良子", "090-1234-5678", "東京都千代田区1-1"]:
        assert expected in text, expected
    assert f'href="{static_url("css/print-a4.css")}" media="print"' in text
    assert audit_actions(engine, visit_id) == [("form_printed", {"form": "resident_move"})]


def test_child_allowance_claim_lists_the_children_only(staff_client, engine):
    """児童手当 認定請求書: the claimant's details and the children, not the spouse."""
    _visit_id, public_id = issue(engine)
    text = staff_client.get(f"/forms/visit/{public_id}/print/child_allowance").text
    assert "児童手当 認定請求書" in text
    assert text.count("data-child") == 1 and "山田　花子" in text
    assert "山田　良子" not in text
    assert 'data-field="furigana">ヤマダ\u3000タロウ<' in text


def test_other_forms_print_the_same_details(staff_client, engine):
    """Every catalog form is printable, filled from the same details (here the NHI form)."""
    _visit_id, public_id = issue(engine)
    text = staff_client.get(f"/forms/visit/{public_id}/print/national_health_insurance").text
    assert "国民健康保険 異動届" in text and 'data-field="phone">090-1234-5678<' in text


def test_a_visit_without_details_still_gets_empty_forms(staff_client, engine):
    """No details given: the page says so and the forms print blank for handwriting."""
    _visit_id, public_id = issue(engine, details=None)
    page = staff_client.get(f"/forms/visit/{public_id}", headers={"Accept-Language": "en"})
    assert "did not give details" in page.text
    assert staff_client.get(f"/forms/visit/{public_id}/print/resident_move").status_code == 200


def test_correction_is_saved_and_audited_by_field_name(staff_client, engine):
    """A corrected address is stored; the audit entry names the field, not its value."""
    visit_id, public_id = issue(engine)
    form = staff_client.get(f"/forms/visit/{public_id}/details/edit")
    assert form.status_code == 200 and 'value="本町1-2-3"' in form.text
    data = _form_data(DETAILS)
    data["address"] = "本町９-９"
    data["furigana"] = "やまだ たろう"
    response = staff_client.post(f"/forms/visit/{public_id}/details", data=data,
                                 follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/forms/visit/{public_id}"
    with Session(engine) as session:
        stored = session.get(VisitDetails, visit_id)
        assert stored is not None and stored.data["address"] == "本町9-9"
        assert stored.data["household_members"] == DETAILS["household_members"]
    actions = audit_actions(engine, visit_id)
    assert actions == [("details_corrected", {"fields": ["address"]})]
    assert "本町" not in str(actions)


def test_invalid_correction_shows_messages_in_place_and_writes_nothing(staff_client, engine):
    """A bad phone number: 422 with the message by the field; details and audit untouched."""
    visit_id, public_id = issue(engine)
    data = {**_form_data(DETAILS), "phone": "abc"}
    response = staff_client.post(f"/forms/visit/{public_id}/details", data=data,
                                 headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert 'id="f-phone-error"' in response.text and 'aria-invalid="true"' in response.text
    assert "<html" not in response.text  # an htmx fragment
    with Session(engine) as session:
        assert session.get(VisitDetails, visit_id).data == DETAILS  # type: ignore[union-attr]
    assert audit_actions(engine, visit_id) == []


def test_htmx_correction_returns_the_updated_panel(staff_client, engine):
    """With htmx the saved details come back as the panel fragment."""
    _visit_id, public_id = issue(engine)
    data = {**_form_data(DETAILS), "phone": "03-1234-5678"}
    response = staff_client.post(f"/forms/visit/{public_id}/details", data=data,
                                 headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'id="details-panel"' in response.text and "03-1234-5678" in response.text
    assert 'role="status"' in response.text and "<html" not in response.text


def test_correction_creates_details_for_a_visit_that_had_none(staff_client, engine):
    """Staff may type the details at the counter when the resident skipped them."""
    visit_id, public_id = issue(engine, details=None)
    staff_client.post(f"/forms/visit/{public_id}/details", data={"name": "Nguyen Van A"})
    with Session(engine) as session:
        stored = session.get(VisitDetails, visit_id)
        assert stored is not None and stored.source == "counter"
        assert stored.data == {"name": "Nguyen Van A"}


def test_children_and_ages_domain():
    """Children are those related as child or aged 18 or under on the day."""
    details = validate_details(DETAILS)
    found = forms.children(details, date(2026, 11, 24))
    assert [child.name for child in found] == ["山田\u3000花子"]
    assert forms.age_on(date(2008, 11, 25), date(2026, 11, 24)) == 17
    assert forms.age_on(None, date(2026, 11, 24)) is None


def _form_data(data: dict) -> dict[str, str]:  # type: ignore[type-arg]
    """Stored details as the edit form posts them."""
    flat = {key: value for key, value in data.items() if key != "household_members"}
    for index, member in enumerate(data.get("household_members", [])):
        for key, value in member.items():
            flat[f"household_members.{index}.{key}"] = value
    return flat


def test_sequential_ids_open_nothing(staff_client, engine):
    """A visit's sequential id, which anyone can count through, opens none of its pages and
    changes nothing: only the random public id does; nothing is audited for the misses."""
    visit_id, public_id = issue(engine)
    assert public_id != str(visit_id) and len(public_id) >= 20
    for path in (f"/forms/visit/{visit_id}", f"/forms/visit/{visit_id}/details/edit",
                 f"/forms/visit/{visit_id}/print/resident_move"):
        response = staff_client.get(path, headers={"Accept-Language": "en"})
        assert response.status_code == 404 and "山田" not in response.text
    response = staff_client.post(f"/forms/visit/{visit_id}/details", data={"name": "Mallory"})
    assert response.status_code == 404
    with Session(engine) as session:
        assert session.get(VisitDetails, visit_id).data["name"] == DETAILS["name"]  # type: ignore[union-attr]
    assert audit_actions(engine, visit_id) == []
    assert staff_client.get(f"/forms/visit/{public_id}").status_code == 200
    assert audit_actions(engine, visit_id) == [("details_viewed", {})]


def test_a_correction_too_large_to_read_is_refused_in_the_form(staff_client, engine):
    """A value past the form reader's limit, or too many fields: the edit form again with a
    message in the staff's language (422), not Starlette's English 400; nothing is written."""
    from kiosk.routes.common import FORM_PART_LIMIT

    visit_id, public_id = issue(engine)
    url = f"/forms/visit/{public_id}/details"
    too_long = {"name": (None, "x" * (FORM_PART_LIMIT + 1))}
    too_many = [("name", (None, "x")) for _ in range(1001)]
    for files in (too_long, too_many):
        response = staff_client.post(url, files=files, headers={"Accept-Language": "en"})
        assert response.status_code == 422, response.text[:300]
        assert "too long to be read" in response.text
        assert 'name="furigana"' in response.text  # the form, to enter it again
    with Session(engine) as session:
        assert session.get(VisitDetails, visit_id).data["name"] == DETAILS["name"]  # type: ignore[union-attr]
