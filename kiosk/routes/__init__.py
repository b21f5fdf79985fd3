"""Kiosk pages (touch screens in the lobby) and the no-write counter's pages for staff.

Thin HTTP over `kiosk.flow` and `kiosk.forms`. The browser keeps only the kiosk session's
opaque id in the signed session cookie; choices and details stay in the database. Every kiosk
response is `Cache-Control: no-store`, so the browser's back button cannot bring a previous
resident's page back either.

Inside: `common` holds what both halves share, `screens` the start and display screens,
`journey` the resident's steps, `staff_forms` the staff's pages; `routes` lists them in order.
"""

from __future__ import annotations

from starlette.routing import Route

from kiosk.routes.checkin import kiosk_checkin
from kiosk.routes.closed import kiosk_closed
from kiosk.routes.codes import kiosk_code, kiosk_code_submit
from kiosk.routes.journey import (
    kiosk_confirm,
    kiosk_details,
    kiosk_details_submit,
    kiosk_events,
    kiosk_events_submit,
    kiosk_guide,
    kiosk_issue,
    kiosk_questions,
    kiosk_questions_reset,
    kiosk_questions_submit,
    kiosk_ticket,
)
from kiosk.routes.screens import kiosk_begin, kiosk_display, kiosk_reset, kiosk_start
from kiosk.routes.staff_codes import code_lookup, code_lookup_submit
from kiosk.routes.staff_forms import (
    visit_details_edit,
    visit_details_save,
    visit_form_print,
    visit_forms,
)

__all__ = ["routes"]

routes = [
    Route("/kiosk", kiosk_start, methods=["GET"], name="kiosk_start"),
    Route("/kiosk/start", kiosk_begin, methods=["POST"], name="kiosk_begin"),
    Route("/kiosk/closed", kiosk_closed, methods=["GET"], name="kiosk_closed"),
    Route("/kiosk/display", kiosk_display, methods=["POST"], name="kiosk_display"),
    Route("/kiosk/reset", kiosk_reset, methods=["POST"], name="kiosk_reset"),
    Route("/kiosk/code", kiosk_code, methods=["GET"], name="kiosk_code"),
    Route("/kiosk/code", kiosk_code_submit, methods=["POST"]),
    Route("/kiosk/events", kiosk_events, methods=["GET"], name="kiosk_events"),
    Route("/kiosk/events", kiosk_events_submit, methods=["POST"]),
    Route("/kiosk/questions", kiosk_questions, methods=["GET"], name="kiosk_questions"),
    Route("/kiosk/questions", kiosk_questions_submit, methods=["POST"]),
    Route("/kiosk/questions/reset", kiosk_questions_reset, methods=["POST"],
          name="kiosk_questions_reset"),
    Route("/kiosk/guide", kiosk_guide, methods=["GET"], name="kiosk_guide"),
    Route("/kiosk/details", kiosk_details, methods=["GET"], name="kiosk_details"),
    Route("/kiosk/details", kiosk_details_submit, methods=["POST"]),
    Route("/kiosk/confirm", kiosk_confirm, methods=["GET"], name="kiosk_confirm"),
    Route("/kiosk/ticket", kiosk_ticket, methods=["GET"], name="kiosk_ticket"),
    Route("/kiosk/ticket", kiosk_issue, methods=["POST"]),
    Route("/forms/code", code_lookup, methods=["GET"], name="code_lookup"),
    Route("/forms/code", code_lookup_submit, methods=["POST"]),
    Route("/kiosk/checkin", kiosk_checkin, methods=["GET", "POST"], name="kiosk_checkin"),
    Route("/forms/visit/{public_id}", visit_forms, methods=["GET"], name="visit_forms"),
    Route("/forms/visit/{public_id}/details/edit", visit_details_edit, methods=["GET"],
          name="visit_details_edit"),
    Route("/forms/visit/{public_id}/details", visit_details_save, methods=["POST"],
          name="visit_details_save"),
    Route("/forms/visit/{public_id}/print/{form_id}", visit_form_print, methods=["GET"],
          name="visit_form_print"),
]
