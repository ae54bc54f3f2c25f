"""A bounded, hypothesis-driven fuzzer over every operation of the OpenAPI document: no 5xx.

Path parameters, query parameters and JSON bodies are drawn from hypothesis strategies (random
JSON of any shape, plus values of the documented types), sent by a signed-in person with the
CSRF header, a few examples per operation, derandomised so a failure repeats. A missing operation
in the document (a new route) is fuzzed as soon as it is documented. Logging out goes last.
It complements tests/security/test_api_schemathesis.py (schema-driven, bearer token): this one
goes through the cookie session with its CSRF header, and sends JSON bodies to every POST, PUT
and PATCH, also where the document does not describe the body (diary, measurements, notes, sends).
"""
from __future__ import annotations

import re
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.access.world import make_user, seed_record, sign_in
from tests.security.conftest import Owner

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10**12, max_value=10**12)
    | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
SEGMENT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=""),
                  min_size=1, max_size=40) | st.sampled_from(["0", "-1", "..", "ffffffffffffffffffffffffffffffff", "%00"])
LAST = {"/api/v1/auth/logout"}


def _value(schema: dict) -> st.SearchStrategy:
    kind = schema.get("type")
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | JSON
    if kind == "integer":
        return st.integers(min_value=-10**6, max_value=10**9) | st.text(max_size=8)
    if kind == "boolean":
        return st.booleans() | st.text(max_size=5)
    return st.text(max_size=30) | st.sampled_from(["", "-1", "9" * 30, "2024-13-45", "' OR 1=1 --"])


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    found = [(path, method.upper(), op) for path, item in document["paths"].items()
             for method, op in item.items() if method in ("get", "post", "put", "patch", "delete")]
    return sorted(found, key=lambda o: (o[0] in LAST, o[0], o[1]))


def test_no_operation_answers_5xx(owner: Owner) -> None:
    context = owner.app.state.context
    user = make_user(context, "fuzz@voorbeeld.nl")
    seed_record(context, user)
    person = sign_in(owner.app, context, user)
    document = person.client.get("/api/v1/openapi.json").json()
    operations = _operations(document)
    assert len(operations) > 20
    failures: list[str] = []
    for path, method, op in operations:
        params = [p for p in op.get("parameters", []) if p.get("in") in ("path", "query")]
        draws = {p["name"]: (SEGMENT if p["in"] == "path" else _value(p.get("schema", {}))) for p in params}
        takes_body = method in ("POST", "PUT", "PATCH")

        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(values=st.fixed_dictionaries(draws), body=JSON)
        def fuzz(values: dict, body: object) -> None:
            url = re.sub(r"\{([^}]+)\}", lambda m: quote(str(values[m.group(1)]), safe="") or "x", path)
            query = {p["name"]: values[p["name"]] for p in params if p["in"] == "query"}
            query = {k: v if isinstance(v, str | int | float | bool) else str(v) for k, v in query.items()}
            kwargs = {"json": body} if takes_body else {}
            response = person.client.request(method, url, params=query, headers={"X-CSRF-Token": person.csrf},
                                             **kwargs)
            if response.status_code >= 500:
                failures.append(f"{method} {url} {str(body)[:80]} -> {response.status_code}")
        fuzz()
    person.client.close()
    assert not failures, failures[:10]
