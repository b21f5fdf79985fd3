"""Schemathesis against /api/openapi.json: no request, valid or not, gets a 5xx or a response
the document does not describe, and none leaves a half-written record behind."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from composition.factory import create_app
from frontyard.auth import DeviceKind, Role, create_device
from frontyard.database import session_scope
from tests.conftest import PASSWORDS, log_in, make_client
from tests.consistency import problems

EXAMPLES = 6
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzz_client(settings, engine, world, users):  # type: ignore[no-untyped-def]
    """A staff member signed in at counter 1 with tickets waiting and one called, and a kiosk
    token, so fuzzed ids and codes can reach real records; limits out of the way."""
    app = create_app(settings.model_copy(update={"ticket_rate_limit": 100_000,
                                                 "status_rate_limit": 100_000}))
    with session_scope(engine) as session:
        _, token, _ = create_device(session, "fuzz-kiosk", DeviceKind.KIOSK,
                                    office_id=world.office_id)
    with make_client(app) as client:
        log_in(client, users[Role.STAFF], PASSWORDS[Role.STAFF])
        kiosk = {"Authorization": f"Bearer {token}"}
        for services in (["residents"], ["residents", "insurance"], ["insurance"]):
            assert client.post("/api/v1/tickets", json={"services": services},
                               headers=kiosk).status_code == 201
        counter = world.counters[0]
        assert client.post(f"/api/v1/counters/{counter}/open",
                           json={"services": ["residents", "insurance"]}).status_code == 200
        assert client.post(f"/api/v1/counters/{counter}/call-next").status_code == 200
        client.headers.update(kiosk)
        yield client


def _send(client, case) -> Any:  # type: ignore[no-untyped-def]
    """Send a generated case through our TestClient (our app's lifespan, our session)."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver")
    kwargs.pop("cookies", None)  # the generated session cookie would replace the real one
    headers = {key: value for key, value in kwargs.pop("headers").items()
               if key.lower() != "authorization"}
    if isinstance(kwargs.get("data"), str | bytes):
        kwargs["content"] = kwargs.pop("data")
    return client.request(headers=headers, **kwargs)


def test_api_fuzzing_finds_no_server_error_and_no_half_written_record(fuzz_client, engine):
    """Valid and invalid requests to every operation get documented answers below 500."""
    document = fuzz_client.get("/api/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    seen: dict[str, set[int]] = {}
    for operation in operations:
        modes = [GenerationMode.POSITIVE]
        if operation.method.upper() == "POST":  # bodies and integer paths can be negated
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:

            @FUZZ_SETTINGS
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case) -> None:  # type: ignore[no-untyped-def]
                response = _send(fuzz_client, case)
                seen.setdefault(case.operation.label, set()).add(response.status_code)
                case.validate_response(response, checks=CHECKS)

            fuzz()
    assert problems(engine) == []
    # The fuzzer got past the guards: some requests were accepted, not merely refused.
    assert any(code < 300 for codes in seen.values() for code in codes), seen
