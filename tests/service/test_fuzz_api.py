"""Fuzzing every operation from the service's own OpenAPI document (schemathesis).

Requests generated from /openapi.json, sent to the real app on both databases with a key of the role each
operation serves: no answer may be a server error, and every answer must be documented (status, content
type, body schema). The filing part is documented as the filing models, so valid filings are generated too:
some must be accepted.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.api.app import create_app
from service.db.tables import Filing
from service.domain.participants import IssuedKey
from service.settings import Settings
from tests.conftest import Keys


def no_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """No 5xx, but for the documented 503 of the matching routes: the `settings` fixture turns matching off."""
    if response.status_code == 503 and b'"error":"matching_unavailable"' in response.content:
        return True
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and generation mode; SCANMATCH_FUZZ_EXAMPLES raises it for a longer hunt. Filings, whose
# input is by far the largest, get three times as many.
EXAMPLES = int(os.environ.get("SCANMATCH_FUZZ_EXAMPLES", "25"))
# Which role's key each operation is sent with (by its OpenAPI tag); filings go with the filer's key.
ROLE_OF_TAG = {
    "shipments": "inspector",
    "matching": "inspector",
    "images": "inspector",
    "audit": "admin",
    "keys": "admin",
}


@dataclass
class Fuzzed:
    app: FastAPI
    keys: dict[str, IssuedKey]
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    owners: dict[str, IssuedKey] = field(default_factory=dict)  # filing id: the key that filed it

    def key_for(self, case: schemathesis.Case) -> IssuedKey | None:
        tags = case.operation.tags or []
        if "filings" in tags and case.method == "GET":
            return self.owners.get(str((case.path_parameters or {}).get("filing_id")), self.keys["carrier"])
        if "filings" in tags:
            return self._filer(case)
        role = next((ROLE_OF_TAG[tag] for tag in tags if tag in ROLE_OF_TAG), None)
        return self.keys[role] if role else None

    def _filer(self, case: schemathesis.Case) -> IssuedKey:
        filing = case.body.get("filing") if isinstance(case.body, dict) else None
        if not isinstance(filing, dict):
            return self.keys["carrier"]
        key = self.keys["marketplace" if filing.get("filer_type") == "marketplace" else "carrier"]
        # The originator code is the key's, which no schema can know: without it every filing is refused.
        # A broker's or forwarder's filing still goes with the carrier's key, and is refused (403).
        filing["originator_code"] = key.originator_code
        return key

    def call(self, case: schemathesis.Case, session: ASGIClient) -> schemathesis.Response:
        key = self.key_for(case)
        headers = {"Authorization": f"Bearer {key.key}"} if key else {}
        response = case.call_and_validate(session=session, headers=headers, checks=CHECKS)
        self.statuses[(case.operation.label, response.status_code)] += 1
        if case.operation.label == "POST /v1/filings" and response.status_code in (200, 201) and key:
            self.owners[response.json()["filing_id"]] = key
        return response


@pytest.fixture
def fuzzed(settings: Settings, keys: Keys) -> Iterator[Fuzzed]:
    app = create_app(settings)
    with TestClient(app):  # the lifespan: database, image store
        yield Fuzzed(app=app, keys={role: keys(role) for role in ("carrier", "marketplace", "inspector", "admin")})


def test_no_generated_request_breaks_the_api(fuzzed: Fuzzed, session: Session) -> None:
    schema = schemathesis.openapi.from_dict(fuzzed.app.openapi())
    # Not entered: the requests reach the app in-process, and the lifespan stays the TestClient's.
    client = ASGIClient(fuzzed.app)
    for result in schema.get_all_operations():
        operation = result.ok()
        modes = [schemathesis.GenerationMode.POSITIVE]
        if len(operation.path_parameters) or len(operation.query) or len(operation.body):
            # Invalid data needs something to be invalid: not an operation whose only input is the key.
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:

            @hypothesis_settings(
                max_examples=EXAMPLES * (3 if operation.label == "POST /v1/filings" else 1),
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                fuzzed.call(case, client)

            run()
    created = fuzzed.statuses[("POST /v1/filings", 201)]
    assert created >= 3, sorted(fuzzed.statuses.items())
    assert session.scalar(select(func.count()).select_from(Filing)) == created  # each one stored


def test_linked_requests_keep_to_the_contract(fuzzed: Fuzzed) -> None:
    """Stateful: schemathesis chains operations by the ids one answers and the next takes (a receipt's filing_id
    read back by its filer, an issued key's key_id revoked, a found shipment's verdict asked for)."""
    schema = schemathesis.openapi.from_dict(fuzzed.app.openapi())
    client = ASGIClient(fuzzed.app)

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: schemathesis.Case, **kwargs: object) -> schemathesis.Response:
            return fuzzed.call(case, client)

        def validate_response(self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: object) -> None:
            pass  # validated in the call, with the checks above

    Scenarios.run(
        settings=hypothesis_settings(
            max_examples=EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert fuzzed.statuses[("GET /v1/filings/{filing_id}", 200)] >= 1, sorted(fuzzed.statuses.items())
    assert fuzzed.statuses[("DELETE /v1/keys/{key_id}", 200)] >= 1, sorted(fuzzed.statuses.items())
