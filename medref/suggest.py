""""Did you mean": close known names for an unknown one, fast.

A character-trigram index picks the few known names that share the most trigrams with the
unknown one (a handful of dict look-ups), and only those are scored with difflib's ratio, on
the name as written and on a folded spelling (doubled letters, ``ph``/``f``, ``y``/``i``,
``c``/``k``, a final ``e``), so ``ibuprofin``, ``acetominophen``, ``tylenal`` and
``cyclobenzeprine`` find their drug. Scoring every known name with difflib, as before, cost
about 2 ms per unknown name; this costs tens of microseconds. No third-party library: the index
is 60 lines and the quality is tested against a table of real misspellings
(``tests/test_suggest.py``).
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterable, Mapping

_CUTOFF = 0.75
"""Scores at or above this are close matches; below it, "no close match" (tuned on the
misspelling table in ``tests/test_suggest.py``: every misspelling found, no unrelated drug
offered for an unknown one such as sitagliptin)."""
_SHORTLIST = 12
"""Known names (by shared trigrams) scored per unknown name."""

_OTHER_START = 0.85
"""A name that starts with another letter must score at least this (a homoglyph or a typo in
the first letter: ``іbuprofen``, ``selebrex``); below it, a different first letter means a
different drug (``lisinopril``, before it was on file, was not ``clinoril``, 0.78)."""

_LETTERS = str.maketrans({"y": "i", "c": "k", "z": "s"})
_DOUBLES = re.compile(r"(.)\1+")
_FINAL_E = re.compile(r"e\b")


def fold(name: str) -> str:
    """A spelling-insensitive form of a normalized name (``ibuprophen`` and ``ibuprofen``,
    ``gabapentine`` and ``gabapentin`` fold alike)."""
    out = name.replace("ph", "f").translate(_LETTERS)
    return _FINAL_E.sub("", _DOUBLES.sub(r"\1", out))


def _trigrams(text: str) -> set[str]:
    t = f"  {text} "
    return {t[i:i + 3] for i in range(len(t) - 2)}


class Suggester:
    """Suggestions from a name index (normalized name -> canonical id).

    ``extra`` maps known misspellings (normalized) to the name they stand for; they are
    offered first, never accepted silently. ``owners`` maps a product id to the ingredients
    it holds, shown with it (``advil (ibuprofen)``).
    """

    def __init__(self, index: Mapping[str, str], extra: Mapping[str, str] | None = None,
                 display: Mapping[str, str] | None = None,
                 owners: Mapping[str, str] | None = None) -> None:
        self._index = dict(index)
        self._owners = dict(owners or {})
        self._extra = dict(extra or {})
        self._lock = threading.Lock()
        # one matcher per known name (and per folded name), its second sequence fixed: difflib
        # indexes the second sequence once, so scoring a query costs only the comparison
        self._matchers: dict[str, difflib.SequenceMatcher[str]] = {}
        self._display = dict(display or {})
        self._grams: dict[str, tuple[str, ...]] = {}
        self._folded: dict[str, str] = {}
        self._padded = [(f"  {name} ", name) for name in self._index]
        self._queries = 0
        self._built = False

    def _postings(self, gram: str) -> tuple[str, ...]:
        """The known names holding a trigram; the index is built as trigrams are asked for
        (one unknown name costs a scan of the names for its own trigrams), then whole once
        many names have been asked about."""
        hit = self._grams.get(gram)
        if hit is None:
            if self._built:
                return ()
            hit = self._grams[gram] = tuple(n for padded, n in self._padded if gram in padded)
        return hit

    def _build(self) -> None:
        grams: dict[str, list[str]] = {}
        for name in self._index:
            for g in _trigrams(name):
                grams.setdefault(g, []).append(name)
        self._grams = {g: tuple(v) for g, v in grams.items()}
        self._built = True

    def _shortlist(self, key: str, folded: str) -> list[str]:
        counts: dict[str, int] = {}
        if not self._built:
            self._queries += 1
            if self._queries > 20:
                self._build()
        for g in _trigrams(key) | _trigrams(folded):
            for name in self._postings(g):
                counts[name] = counts.get(name, 0) + 1
        top = sorted(counts, key=lambda n: (-counts[n], n))[:_SHORTLIST]
        return [n for n in top if counts[n] >= 2]

    def suggest(self, key: str, n: int = 3) -> tuple[str, ...]:
        """Up to ``n`` suggestions for the normalized name ``key``, best first: a canonical id,
        or ``name (id)`` when the close name is an alias."""
        if len(key) < 2:
            return ()
        scored: list[tuple[float, str]] = []
        hit = self._extra.get(key)
        if hit is not None and hit in self._index:
            scored.append((2.0, hit))
        folded = fold(key)
        with self._lock:
            for name in self._shortlist(key, folded):
                fn = self._folded.get(name)
                if fn is None:
                    fn = self._folded[name] = fold(name)
                ratio = max(self._ratio(key, name), self._ratio(folded, fn))
                if ratio < _CUTOFF or (fn[:1] != folded[:1] and ratio < _OTHER_START):
                    continue  # a weak match must keep the first sound: lisinopril != clinoril
                if ratio >= _CUTOFF:
                    scored.append((ratio, name))
        scored.sort(key=lambda x: (-x[0], x[1]))
        found = _distinct(scored, self._index, self._owners)
        return tuple(self._label(name) for name in found)[:n]

    def _ratio(self, a: str, b: str) -> float:
        """difflib's ratio of ``a`` to the known name ``b``, skipped (0) when its cheap upper
        bounds are already below the cutoff. Call with the lock held."""
        la, lb = len(a), len(b)
        if not la or 2 * min(la, lb) / (la + lb) < _CUTOFF:
            return 0.0
        m = self._matchers.get(b)
        if m is None:
            m = self._matchers[b] = difflib.SequenceMatcher(None, "", b, autojunk=False)
        m.set_seq1(a)
        if m.quick_ratio() < _CUTOFF:
            return 0.0
        return m.ratio()

    def _label(self, name: str) -> str:
        eid = self._index[name]
        owner = self._owners.get(eid)
        if owner is not None:  # a product: 'advil (ibuprofen)', 'norco (hydrocodone + ...)'
            shown = eid if name in (eid, eid.replace("-", " ")) else self._display.get(name, name)
            return f"{shown} ({owner})"
        if name in (eid, eid.replace("-", " ")):
            return eid
        return f"{self._display.get(name, name)} ({eid})"


def _distinct(scored: Iterable[tuple[float, str]], index: Mapping[str, str],
              owners: Mapping[str, str]) -> list[str]:
    """Names in order, one per canonical id (one per ingredient set for products: ``lyrica``
    and ``lyrica cr`` are both pregabalin)."""
    seen: set[str] = set()
    out: list[str] = []
    for _, name in scored:
        eid = owners.get(index[name], index[name])
        if eid not in seen:
            seen.add(eid)
            out.append(name)
    return out
