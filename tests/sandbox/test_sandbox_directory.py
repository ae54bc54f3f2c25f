"""The sandbox's directory: generated providers never take the answering providers'
names, and those get a place and kind in the provider-details document."""
from __future__ import annotations

import json

from regie.sandbox.config import default_config
from regie.sandbox.directory import LANDMARKS, details_document, generate_directory, sandbox_directory


def test_generator_avoids_given_names_landmarks_included():
    avoid = ["Huisartsenpraktijk De Vries", "Ziekenhuis Rivierenland"]
    providers = generate_directory(2000, seed=1, avoid_names=avoid)
    assert len(providers) == 2000
    names = {p.display_name.casefold() for p in providers}
    assert not names & {a.casefold() for a in avoid}
    assert {m[0] for m in LANDMARKS} - {p.display_name for p in providers} == {"Ziekenhuis Rivierenland"}
    # Without names to avoid nothing changes (the search benchmark's directory).
    assert generate_directory(300, seed=5) == generate_directory(300, seed=5, avoid_names=())


def test_answering_providers_are_distinguishable():
    base = default_config(port=8100)
    config, entries = sandbox_directory(base, 500)
    assert len(config.providers) == len(base.providers) + 500
    document = json.loads(details_document(entries))["zorgaanbieders"]
    by_name: dict[str, list[dict]] = {}
    for entry in document:
        by_name.setdefault(entry["naam"], []).append(entry)
    for provider in base.providers:
        [entry] = by_name[provider.display_name]
        assert entry["zorgaanbiedernaam"] == provider.zorgaanbiedernaam
        assert entry["plaats"] and entry["soort"]
