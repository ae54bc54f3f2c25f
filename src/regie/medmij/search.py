"""Typo-tolerant, ranked provider search (name, place, kind) over an in-memory index.

How a query is scored:

1. Text is folded (accents off, lower case, punctuation to spaces) and split into words.
2. Each query word is matched against the index's vocabulary: exactly, as a prefix
   ("zuidpl" → "zuidplein") and, for words of four letters or more, fuzzily with
   rapidfuzz (edit distance with transpositions, so "rotterdm" → "rotterdam" and
   "lidne" → "linde"). Short words ("de") only match exactly. The vocabulary is small (a few thousand words), so this is fast.
3. A provider gets, per query word, its best match among its own words, times the
   field weight (name > place > kind) and the word's rarity (IDF; for a word that is in
   the vocabulary as typed, its own rarity). The sum is the score.
4. Ties are broken by how much of the provider's name the query left unmatched, then
   by name.

Measured in bench/bench_provider_search.py (mean reciprocal rank, ms per query).
"""
from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

NAME_WEIGHT = 1.0
PLACE_WEIGHT = 0.9
KIND_WEIGHT = 0.6

# Words people type for each kind of provider.
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "huisarts": ("huisarts", "huisartsen", "huisartsenpraktijk", "huisartspraktijk", "dokter",
                 "gezondheidscentrum", "praktijk"),
    "apotheek": ("apotheek", "apotheker", "medicijnen"),
    "ziekenhuis": ("ziekenhuis", "medisch", "centrum", "specialist", "polikliniek"),
    "ggz": ("ggz", "psychiater", "psycholoog", "psychologie", "geestelijke", "gezondheidszorg"),
    "langdurige-zorg": ("zorgcentrum", "verpleeghuis", "woonzorg", "thuiszorg", "ouderenzorg"),
}
PLACE_ALIASES: dict[str, tuple[str, ...]] = {
    "'s-Hertogenbosch": ("den bosch",),
    "Den Haag": ("s gravenhage",),
}
_STOPWORDS = frozenset({"de", "het", "van", "der", "den", "aan", "in", "te", "voor", "op", "en"})
_NON_WORD = re.compile(r"[^a-z0-9]+")
_EDIT_SIMILARITY = {0: 1.0, 1: 0.8, 2: 0.6, 3: 0.45}


def fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NON_WORD.sub(" ", plain).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


@dataclass(frozen=True, slots=True)
class Searchable:
    """What the index needs to know about one provider."""

    key: str
    name: str
    place: str | None
    kind: str | None


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    score: float


class SearchIndex:
    def __init__(self, items: Sequence[Searchable]) -> None:
        self.items = tuple(items)
        postings: dict[str, dict[int, float]] = {}

        def add(word: str, index: int, weight: float) -> None:
            slot = postings.setdefault(word, {})
            if slot.get(index, 0.0) < weight:
                slot[index] = weight

        self._name_words: list[frozenset[str]] = []
        for i, item in enumerate(self.items):
            name_words = words(item.name)
            self._name_words.append(frozenset(w for w in name_words if w not in _STOPWORDS))
            for w in name_words:
                add(w, i, NAME_WEIGHT)
            if len(name_words) > 1:
                add("".join(name_words), i, NAME_WEIGHT)
            if item.place:
                place_forms = [item.place, *PLACE_ALIASES.get(item.place, ())]
                for form in place_forms:
                    place_words = words(form)
                    for w in place_words:
                        add(w, i, PLACE_WEIGHT)
                    if len(place_words) > 1:
                        add("".join(place_words), i, PLACE_WEIGHT)
            for w in KIND_WORDS.get(item.kind or "", ()):
                add(w, i, KIND_WEIGHT)
        total = max(1, len(self.items))
        self._postings = {w: tuple(p.items()) for w, p in postings.items()}
        self._idf = {w: math.log(1.0 + total / len(p)) for w, p in postings.items()}
        self._vocabulary = sorted(self._postings)

    def __len__(self) -> int:
        return len(self.items)

    def _matches(self, q: str) -> dict[str, float]:
        """Vocabulary words similar to query word *q*, with a similarity in (0, 1]."""
        found: dict[str, float] = {}
        if q in self._postings:
            found[q] = 1.0
        if len(q) <= 2 or q in _STOPWORDS:
            return found
        start = bisect_left(self._vocabulary, q)
        for word in self._vocabulary[start:]:
            if not word.startswith(q):
                break
            if word != q:
                found[word] = max(found.get(word, 0.0), 0.80 + 0.15 * len(q) / len(word))
        if len(q) >= 4:
            # Typos: edit distance with transpositions (OSA), at most 1, 2 or 3 edits.
            max_edits = 1 if len(q) <= 5 else 2 if len(q) <= 8 else 3
            for word, edits, _ in process.extract(
                q, self._vocabulary, scorer=OSA.distance, score_cutoff=max_edits, limit=None
            ):
                similarity = _EDIT_SIMILARITY.get(int(edits), 0.0)
                if similarity > found.get(word, 0.0):
                    found[word] = similarity
        return found

    def search(self, query: str, limit: int = 20, *, kind: str | None = None) -> list[Hit]:
        query_words = words(query)
        if not query_words:
            return []
        totals: dict[int, float] = {}
        matched_words: dict[int, set[str]] = {}
        for q in dict.fromkeys(query_words):
            best: dict[int, tuple[float, str]] = {}
            # A word people typed exactly weighs what that word weighs: a longer, rarer
            # word it is a prefix of (or close to) must not outrank the exact match.
            exact_idf = self._idf.get(q)
            for word, similarity in self._matches(q).items():
                factor = similarity * (exact_idf if exact_idf is not None else self._idf[word])
                for index, weight in self._postings[word]:
                    value = factor * weight
                    held = best.get(index)
                    if held is None or value > held[0]:
                        best[index] = (value, word)
            for index, (value, word) in best.items():
                totals[index] = totals.get(index, 0.0) + value
                matched_words.setdefault(index, set()).add(word)
        if kind:
            totals = {i: s for i, s in totals.items() if self.items[i].kind == kind}
        # Keep the strongest candidates, then break ties by the unmatched part of the name.
        top = sorted(totals.items(), key=lambda item: -item[1])[: max(limit * 5, 50)]

        def rank(item: tuple[int, float]) -> tuple[float, int, str]:
            index, score = item
            unmatched = len(self._name_words[index] - matched_words.get(index, set()))
            return (-round(score, 6), unmatched, self.items[index].name)

        top.sort(key=rank)
        return [Hit(self.items[i].key, round(s, 4)) for i, s in top[:limit]]
