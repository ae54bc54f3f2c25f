"""Data sources for the resource servers: synthetic patients, and several combined."""

from __future__ import annotations

import threading
from collections import OrderedDict

from .search import PatientData

__all__ = ["MultiSource", "SynthSource"]


class SynthSource:
    """Synthetic data: every valid BSN is a person (deterministic from seed and BSN).

    ``providers`` optionally limits which providers hold data (provider -> service
    ids); by default every provider has data for every service the generator covers.
    Generated records are cached (LRU) because big records take a while to build.
    """

    def __init__(self, seed: int = 1, *, size: str = "normal",
                 providers: dict[str, set[str]] | None = None, cache_size: int = 64) -> None:
        self.seed = seed
        self.size = size
        self.providers = providers
        self._cache: OrderedDict[tuple[str, str, str], PatientData | None] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def patient_data(self, provider: str, service_id: str, bsn: str) -> PatientData | None:
        from regie.sandbox import synth

        if self.providers is not None and service_id not in self.providers.get(provider, ()):
            return None
        key = (provider, service_id, bsn)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        if not synth.is_valid_bsn(bsn):
            data = None
        else:
            person = synth.person_for_bsn(self.seed, bsn, size=self.size)
            resources = synth.resources_for(person, service_id, provider=provider)
            data = None if resources is None else PatientData(resources)
        with self._lock:
            self._cache[key] = data
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return data


class MultiSource:
    """The first source that holds data for the person wins."""

    def __init__(self, *sources: object) -> None:
        self.sources = sources

    def patient_data(self, provider: str, service_id: str, bsn: str) -> PatientData | None:
        for src in self.sources:
            data = src.patient_data(provider, service_id, bsn)  # type: ignore[attr-defined]
            if data is not None:
                return data
        return None
