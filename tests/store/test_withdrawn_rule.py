"""The lists' check of a decrypted item (record_queries.is_withdrawn, a plain loop on the hot
path) is the import's rule for the plain ``withdrawn`` column (record.entered_in_error)."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from regie.store.record import entered_in_error
from regie.store.record_queries import is_withdrawn

_WORDS = st.sampled_from(["entered-in-error", "final", "active", "Verificatie", "Status", ""])
_DETAIL = st.fixed_dictionaries({}, optional={"label": _WORDS, "text": _WORDS, "code": _WORDS})
_ITEM = st.fixed_dictionaries({}, optional={"status": st.one_of(st.none(), _WORDS),
                                            "details": st.lists(_DETAIL, max_size=4)})


@given(_ITEM)
def test_a_listed_item_is_withdrawn_exactly_when_the_import_says_so(item: dict) -> None:
    details = ((d.get("label", ""), d.get("text", "")) for d in item.get("details", ()))
    assert is_withdrawn(item) == entered_in_error(item.get("status"), details)


def test_the_two_ways_of_being_withdrawn() -> None:
    assert is_withdrawn({"status": "entered-in-error"})
    assert is_withdrawn({"status": "final", "details": [{"label": "Verificatie", "text": "entered-in-error"}]})
    assert not is_withdrawn({"status": "final", "details": [{"label": "Status", "text": "entered-in-error"}]})
    assert not is_withdrawn({})
