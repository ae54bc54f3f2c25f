"""The whole flow against the live sandbox with a plain HTTP client, as a script would."""
from __future__ import annotations

import pytest

from tests.collect.harness import GP


def test_collect_everything_from_the_gp(regie):
    view = regie.collect(GP)
    assert view["state"] == "done", view
    receipt = view["receipt"]
    assert receipt["outcome"] == "complete", receipt
    assert [s["id"] for s in receipt["services"]] == ["49", "51", "904"]
    assert receipt["totals"]["new"] > 0
