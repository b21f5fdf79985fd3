"""The no-write counter's pages for staff: a visit's details and forms, corrections, printing.

Staff pages, not kiosk screens: they need a staff login rather than a kiosk device, and share
only the transaction and no-store helpers with the kiosk. Addresses name a visit by its random
public id (`Visit.public_id`), never its sequential id, so that no one can count through them.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from counter import queue
from counter.models import Office, Visit
from frontyard import i18n
from frontyard.auth import Role
from frontyard.errors import NotFound, ValidationFailed
from frontyard.guards import current_user, require_role
from frontyard.i18n import gettext as _
from frontyard.i18n import lazy_gettext
from frontyard.templating import render
from frontyard.transactions import in_transaction
from kiosk import entry, flow, forms
from kiosk.catalog import Catalog
from kiosk.details import FIELD_LABELS, MEMBER_FIELDS
from kiosk.eras import format_era
from kiosk.routes.common import NO_STORE, UNREADABLE_FORM, city_today, go, read_form

#: Printed forms are official documents in Japanese, whatever the staff page's language.
FORM_LOCALE = "ja"
PRINT_TEMPLATES = {"resident_move": "kiosk/forms/resident_move.html",
                   "child_allowance": "kiosk/forms/child_allowance.html"}
#: Where a visit's details came from (`VisitDetails.source`), for staff.
SOURCE_LABELS = {"kiosk": lazy_gettext("the kiosk"), "manual": lazy_gettext("reception"),
                 "counter": lazy_gettext("the counter"),
                 "pre_entry": lazy_gettext("details entered at home")}


def _user_id(request: Request) -> int | None:
    user = current_user(request)
    return user.id if user is not None else None


def _public_id(request: Request) -> str:
    """The visit's public id in the address (`forms.visit_id_for` finds the visit)."""
    return str(request.path_params["public_id"])


def _record(session: Session, visit_id: int) -> tuple[forms.VisitRecord, Catalog | None]:
    """The visit's record, with its office's catalog when that is usable."""
    visit = session.get(Visit, visit_id)
    office = session.get(Office, visit.office_id) if visit is not None else None
    catalog = None
    if office is not None:
        try:
            catalog = flow.office_catalog(session, office)
        except flow.KioskUnavailable:
            catalog = None  # the counter still shows the details without the catalog's names
    return forms.visit_record(session, visit_id, catalog), catalog


def _details_context(record: forms.VisitRecord) -> dict[str, Any]:
    language = i18n.current_language().babel
    return {
        "record": record, "labels": FIELD_LABELS, "member_fields": MEMBER_FIELDS,
        "data": record.details.to_data(),
        "show": lambda name, value: entry.display_value(name, value, language),
        "source_label": i18n.as_text(SOURCE_LABELS.get(record.source or "", record.source or "")),
    }


def _edit_context(request: Request, record: forms.VisitRecord, values: dict[str, Any],
                  errors: dict[str, str]) -> dict[str, Any]:
    return {
        "record": record, "fields": [name for name in record.detail_fields
                                     if name != entry.MEMBERS],
        "with_members": True, "member_fields": MEMBER_FIELDS,
        "rows": entry.member_rows(values, extra=1, minimum=1),
        "labels": FIELD_LABELS, "values": values, "errors": errors,
        "options": entry.choice_options(i18n.current_language().babel),
        "date_fields": entry.DATE_FIELDS, "required": (), "form_error": None,
    }


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@require_role(Role.STAFF)
async def visit_forms(request: Request) -> Response:
    """A visit's procedures and once-only details, with its forms ready to print (audited)."""
    public_id = _public_id(request)
    user_id = _user_id(request)

    def work(session: Session) -> tuple[forms.VisitRecord, Catalog | None]:
        visit_id = forms.visit_id_for(session, public_id)
        found = _record(session, visit_id)
        forms.record_view(session, user_id, visit_id, "details_viewed")
        return found

    record, catalog = await in_transaction(request, work)
    # Forms the visit's procedures do not use: staff may still need one of them.
    others = [form for form in (catalog.forms if catalog else [])
              if form.id not in {used.id for used in record.forms}]
    response = render(request, "kiosk/forms/visit.html", {
        **_details_context(record), "other_forms": others, "state_labels": queue.STATE_LABELS,
        "form_names": {form.id: i18n.translate_map(form.name)
                       for form in (catalog.forms if catalog else [])}})
    response.headers.update(NO_STORE)
    return response


@require_role(Role.STAFF)
async def visit_details_edit(request: Request) -> Response:
    """The details as an editable form (an htmx fragment, or a page without JavaScript)."""
    public_id = _public_id(request)
    record, _catalog = await in_transaction(
        request, lambda session: _record(session, forms.visit_id_for(session, public_id)))
    context = _edit_context(request, record, entry.form_values(record.details), {})
    name = "kiosk/forms/_edit.html" if _is_htmx(request) else "kiosk/forms/edit.html"
    response = render(request, name, context)
    response.headers.update(NO_STORE)
    return response


@require_role(Role.STAFF)
async def visit_details_save(request: Request) -> Response:
    """Save a correction (audited with the changed fields); errors shown in place, nothing saved."""
    public_id = _public_id(request)
    user_id = _user_id(request)
    form = await read_form(request)
    if form is None:  # too long or too many fields: the stored details as they are, a message
        record, _catalog = await in_transaction(
            request, lambda session: _record(session, forms.visit_id_for(session, public_id)))
        context = _edit_context(request, record, entry.form_values(record.details), {})
        name = "kiosk/forms/_edit.html" if _is_htmx(request) else "kiosk/forms/edit.html"
        return render(request, name, {**context, "form_error": UNREADABLE_FORM},
                      status_code=422)
    raw = entry.raw_from_form(form.multi_items())
    today = city_today(request)

    def work(session: Session) -> tuple[forms.VisitRecord, dict[str, str]]:
        visit_id = forms.visit_id_for(session, public_id)
        try:
            forms.correct_details(session, visit_id, raw, user_id, today)
        except ValidationFailed as error:
            return _record(session, visit_id)[0], {key: str(value)
                                                   for key, value in error.fields.items()}
        return _record(session, visit_id)[0], {}

    record, errors = await in_transaction(request, work)
    if errors:
        context = _edit_context(request, record, entry.echo_values(raw), errors)
        name = "kiosk/forms/_edit.html" if _is_htmx(request) else "kiosk/forms/edit.html"
        return render(request, name, context, status_code=422)
    if _is_htmx(request):
        response = render(request, "kiosk/forms/_details.html",
                          {**_details_context(record), "saved": True})
        response.headers.update(NO_STORE)
        return response
    return go(f"/forms/visit/{public_id}")


@require_role(Role.STAFF)
async def visit_form_print(request: Request) -> Response:
    """One form of the visit, filled from the details, laid out for A4 (audited)."""
    public_id = _public_id(request)
    form_id = request.path_params["form_id"]
    user_id = _user_id(request)
    today = city_today(request)

    def work(session: Session) -> tuple[forms.VisitRecord, Any]:
        visit_id = forms.visit_id_for(session, public_id)
        record, catalog = _record(session, visit_id)
        if catalog is None or not catalog.has("forms", form_id):
            raise NotFound(_("This form does not exist."))
        forms.record_view(session, user_id, visit_id, "form_printed", form=form_id)
        return record, catalog.form(form_id)

    record, form = await in_transaction(request, work)
    details = record.details
    with i18n.use_locale(FORM_LOCALE):
        response = render(request, PRINT_TEMPLATES.get(form.id, "kiosk/forms/generic.html"), {
            "record": record, "form": form, "d": details, "today": today,
            "era": lambda value: format_era(value) if value else "",
            "labels": FIELD_LABELS, "move_kinds": record.move_kinds,
            "children": forms.children(details, today),
            "show": lambda name, value: entry.display_value(
                name, value, i18n.current_language().babel),
            "data": details.to_data(), "age_on": forms.age_on})
    response.headers.update(NO_STORE)
    return response
