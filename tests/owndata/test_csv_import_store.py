"""A CSV import into the record is idempotent (the same file twice stores each row once)
and atomic (all good rows in one transaction); property: any set of rows, imported twice
in any order, leaves exactly one measurement per distinct row."""
from __future__ import annotations

import base64
import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regie.owndata import csv_import
from regie.owndata.service import OwnData
from tests.web.conftest import app, browser, client  # noqa: F401 - the app on both databases

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def _csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Datum", "Tijd", "Gewicht"])
    for day, minute, weight in rows:
        writer.writerow([f"{day:02d}-01-2026", f"08:{minute:02d}", str(weight).replace(".", ",")])
    return out.getvalue().encode()


def _good(data: bytes):
    table = csv_import.read_table(data)
    mapping = csv_import.guess_mapping(table.headers, "body_weight")
    return [r.measurement for r in csv_import.check_rows(table, mapping, "body_weight", "kg", now=NOW)
            if r.measurement is not None]


rows = st.lists(st.tuples(st.integers(1, 28), st.integers(0, 59),
                          st.decimals(min_value=Decimal("40"), max_value=Decimal("150"), places=1)),
                min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_the_same_row_gets_the_same_id(items, rnd) -> None:
    first = _good(_csv(items))
    shuffled = list(items)
    rnd.shuffle(shuffled)
    second = _good(_csv(shuffled))
    assert {m.resource_id for m in first} == {m.resource_id for m in second}
    assert len({m.resource_id for m in first}) == len(set(items))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows)
def test_importing_twice_stores_each_row_once(app, browser, items) -> None:  # noqa: F811
    account = browser.register()
    context = app.state.context
    with context.db.session() as session:
        user = context.accounts.by_email(session, account.email)
    own = OwnData(context.db, context.accounts.keyring, user, "web")
    data = _csv(items)
    own.save_many(_good(data))
    own.save_many(_good(data))
    stored = [s.measurement for s in own.measurements("body_weight") if s.measurement]
    assert sorted((m.time, m.values["value"]) for m in stored) == sorted(
        {(m.time, m.values["value"]) for m in _good(data)})


def test_the_import_page_twice_adds_nothing(browser) -> None:  # noqa: F811
    browser.register()
    data = _csv([(5, 30, Decimal("72.5")), (6, 30, Decimal("72.1"))])
    form = {"content": base64.b64encode(data).decode(), "type": "body_weight", "step": "preview", "unit": "kg",
            "column-0": "date", "column-1": "clock", "column-2": "value", "do": "import"}
    assert browser.post_form("/measurements/import", form).status_code == 200
    once = browser.client.get("/measurements?type=body_weight").text
    assert "72,5 kg" in once and "72,1 kg" in once
    assert browser.post_form("/measurements/import", form).status_code == 200
    twice = browser.client.get("/measurements?type=body_weight").text
    assert twice.count("72,5 kg") == once.count("72,5 kg") and twice.count("72,1 kg") == once.count("72,1 kg")
    assert twice.count("data-measurement=") == once.count("data-measurement=")
