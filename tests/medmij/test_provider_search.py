"""Provider search quality (the benchmark's queries, MRR >= 0.85) and its building blocks."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from regie.medmij.provider_details import DetailsError, derive_details, parse_details
from regie.medmij.search import Searchable, SearchIndex, fold
from regie.sandbox import directory as sandbox_directory
from regie.sandbox.directory import details_document, generate_directory

REPO = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_provider_search", REPO / "bench/bench_provider_search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_search_quality_meets_the_target():
    bench = _bench()
    data = bench.load_queries()
    assert len(data["queries"]) >= 40
    directory = bench.build_directory(data["directory"]["size"], data["directory"]["seed"])
    assert len(directory) >= 2000
    # Every query has at least one right answer in the directory.
    for item in data["queries"]:
        assert any(bench.relevant(p, item["expect"]) for p in directory.providers), item
    result = bench.evaluate(directory, data["queries"])
    assert result["mrr"] >= 0.85, result["misses"]


def test_generator_is_deterministic_and_valid():
    a, b = generate_directory(300, seed=5), generate_directory(300, seed=5)
    assert a == b and a != generate_directory(300, seed=6)
    assert len({p.naam for p in a}) == 300
    assert all(p.naam.isalpha() and p.naam.islower() and 3 <= len(p.naam) <= 50 for p in a)
    assert len({(p.display_name, p.place) for p in a}) == 300
    assert a[0].display_name == "Huisartsenpraktijk De Linde" and a[0].place == "Utrecht"


def test_sandbox_directory_never_imports_web_or_store():
    code = ("import sys, regie.sandbox.directory; "
            "print([m for m in sys.modules if m.startswith(('regie.web', 'regie.store'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_details_document_round_trip_and_format_constants():
    from regie.medmij import provider_details

    assert sandbox_directory.DETAILS_FILENAME == provider_details.DETAILS_FILENAME
    assert sandbox_directory.DETAILS_FORMAT == provider_details.DETAILS_FORMAT
    providers = generate_directory(25, seed=1)
    document = parse_details(details_document(providers, volgnummer=4))
    assert document.header.volgnummer == 4 and len(document.providers) == 25
    first = document.providers[providers[0].zorgaanbiedernaam]
    assert (first.naam, first.plaats, first.soort) == ("Huisartsenpraktijk De Linde", "Utrecht", "huisarts")


@pytest.mark.parametrize("document", [
    b"not json", b"[]", b'{"format": "other"}',
    b'{"format": "regie-provider-details/1", "volgnummer": 0, "tijdstempel": "2026-01-01T00:00:00Z", "zorgaanbieders": []}',
    b'{"format": "regie-provider-details/1", "volgnummer": 1, "tijdstempel": "gisteren", "zorgaanbieders": []}',
    b'{"format": "regie-provider-details/1", "volgnummer": 1, "tijdstempel": "2026-01-01T00:00:00+00:00", "zorgaanbieders": [{"naam": "X"}]}',
    json.dumps({"format": "regie-provider-details/1", "volgnummer": 1, "tijdstempel": "2026-01-01T00:00:00+00:00",
                "zorgaanbieders": [{"zorgaanbiedernaam": "a@medmij", "naam": "x" * 500}]}).encode(),
])
def test_bad_details_documents_are_refused(document):
    with pytest.raises(DetailsError):
        parse_details(document)


def test_derived_names():
    assert derive_details("apotheekdemolen@medmij").naam == "Apotheek Demolen"
    assert derive_details("huisartsdevries@medmij").soort == "huisarts"
    assert derive_details("rivmvaccinaties@medmij").soort is None


def test_search_building_blocks():
    assert fold("'s-Hertogenbosch, Zuid-Oost") == "s hertogenbosch zuid oost"
    index = SearchIndex([
        Searchable("a", "Apotheek De Linde", "Utrecht", "apotheek"),
        Searchable("b", "Huisartsenpraktijk De Linde", "Utrecht", "huisarts"),
        Searchable("c", "Huisartsenpraktijk Lindenhof", "Delft", "huisarts"),
    ])
    assert [h.key for h in index.search("huisarts de linde")][:1] == ["b"]
    assert [h.key for h in index.search("lindenhf")][:1] == ["c"]
    assert [h.key for h in index.search("linde", kind="apotheek")] == ["a"]
    assert index.search("   ") == []
