"""Schemathesis against /api/openapi.json: no request, valid or not, gets a 5xx or a response
the document does not describe, and none leaves a half-written record behind."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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


def test_every_json_body_survives_hostile_json(fuzz_client, engine):
    """Deep nesting, huge numbers and oversized bodies to every operation that reads JSON:
    a 4xx that says what is wrong (JSON), never a 5xx, nothing half-written."""
    from tests.test_jsonbody import bodies

    document = fuzz_client.get("/api/openapi.json").json()
    paths = [path for path, item in document["paths"].items()
             if "requestBody" in item.get("post", {})]
    assert len(paths) >= 10
    ids = {"counter_id": "1", "task_id": "1"}
    targets = [path.format(**ids) for path in paths]
    # The cases first, on every operation, then what Hypothesis makes of them.
    known = ["[" * 20_000, '{"services": [' + "9" * 5000 + "]}",
             '{"counter_id": 1' + "0" * 400 + "}", '{"reason": "' + "x" * 70_000 + '"}',
             '{"services": ["residents"], "details": {"name": ' + "[" * 500 + "]" * 500 + "}}"]
    for path in targets:
        for body in known:
            response = fuzz_client.post(path, content=body,
                                        headers={"Content-Type": "application/json"})
            assert 400 <= response.status_code < 500, (path, response.text[:300])
            assert "error" in response.json()

    @settings(FUZZ_SETTINGS, max_examples=40)
    @given(path=st.sampled_from(targets), body=bodies)
    def post(path: str, body: str) -> None:
        response = fuzz_client.post(path, content=body.encode("utf-8", "surrogatepass"),
                                    headers={"Content-Type": "application/json"})
        assert response.status_code < 500, (path, body[:200], response.text[:300])

    post()
    assert problems(engine) == []
