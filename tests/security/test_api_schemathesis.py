"""schemathesis against Regie's OpenAPI document: every operation, valid and invalid data, no 5xx.

Each operation gets a few examples of schema-valid data (positive) and a few that break the schema
on purpose (negative: wrong types, missing fields, out-of-range values), sent with a bearer token
(the API's own authentication, so no CSRF token: tests/security/test_api_fuzz.py fuzzes the cookie
path), deterministic so a failure repeats. The check is schemathesis' ``not_a_server_error``; a
failing operation is named with the request that broke it. The run is bounded: a few examples per
operation and mode, and the whole sweep must stay under a minute of CPU time per database (CPU
seconds, not wall time: the machine is shared, and the app runs in this process).
Logging out and revoking go last, so they cannot end the token halfway.
"""
from __future__ import annotations

import time

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from regie.accounts import tokens
from regie.accounts.activity import ClientInfo
from tests.access.world import make_user, seed_record
from tests.security.conftest import Owner

EXAMPLES = 4  # per operation and mode: enough for every documented field to be hit across the run
BUDGET_SECONDS = 60
LAST = ("/api/v1/auth/logout", "/api/v1/tokens")


def _bearer(owner: Owner) -> str:
    context = owner.app.state.context
    user = make_user(context, "schemathesis@voorbeeld.nl")
    seed_record(context, user)
    with context.db.session() as session:
        return tokens.create(session, user.id, "schemathesis", ClientInfo()).token


def test_no_operation_answers_5xx_to_valid_or_invalid_data(owner: Owner) -> None:
    headers = {"Authorization": f"Bearer {_bearer(owner)}"}
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", owner.app)
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.path.startswith(LAST), op.path, op.method))
    assert len(operations) >= 25, [op.label for op in operations]
    started = time.process_time()
    failures: list[str] = []
    sent: dict[str, int] = {}
    unsatisfiable: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: schemathesis.Case) -> None:
                response = case.call(headers=headers)
                sent[operation.label] = sent.get(operation.label, 0) + 1
                try:
                    case.validate_response(response, checks=[not_a_server_error], headers=headers)
                except AssertionError as error:
                    failures.append(f"{operation.label} [{mode.value}] {case.path_parameters} "
                                    f"{case.query} {str(case.body)[:120]} -> {response.status_code}: {error}"[:600])
            try:
                run()
            except Unsatisfiable:
                # Nothing in the operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label
                unsatisfiable.append(operation.label)
    elapsed = time.process_time() - started
    assert not failures, "\n".join(failures[:10])
    # Every operation was really exercised (a schema the generator cannot satisfy sends nothing).
    assert set(sent) == {op.label for op in operations}, sorted({op.label for op in operations} - set(sent))
    # Negative data was really sent to every operation with a documented body (a free-text path or
    # query parameter has no invalid value; bodies the document leaves out are fuzzed by
    # tests/security/test_api_fuzz.py).
    with_body = {op.label for op in operations if len(op.body)}
    assert with_body and not with_body & set(unsatisfiable), sorted(with_body & set(unsatisfiable))
    assert len(unsatisfiable) < len(operations), unsatisfiable
    assert sum(sent.values()) <= len(operations) * 2 * EXAMPLES, sum(sent.values())
    assert elapsed < BUDGET_SECONDS, f"the bounded run took {elapsed:.0f} CPU seconds"
