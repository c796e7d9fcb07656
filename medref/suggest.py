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
from collections.abc import Iterable, Mapping

_CUTOFF = 0.75
"""Scores at or above this are close matches; below it, "no close match" (tuned on the
misspelling table in ``tests/test_suggest.py``: every misspelling found, no unrelated drug
offered for an unknown one such as metformin)."""
_SHORTLIST = 12
"""Known names (by shared trigrams) scored per unknown name."""

_FOLD = [(re.compile(a), b) for a, b in (
    (r"ph", "f"), (r"y", "i"), (r"[ck]", "k"), (r"z", "s"), (r"(.)\1+", r"\1"), (r"e\b", ""),
)]


def fold(name: str) -> str:
    """A spelling-insensitive form of a normalized name (``ibuprophen`` and ``ibuprofen``,
    ``gabapentine`` and ``gabapentin`` fold alike)."""
    out = name
    for rx, rep in _FOLD:
        out = rx.sub(rep, out)
    return out


def _ratio(a: str, b: str) -> float:
    """difflib's ratio, skipped (0) when its cheap upper bounds are already below the cutoff."""
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.real_quick_ratio() < _CUTOFF or m.quick_ratio() < _CUTOFF:
        return 0.0
    return m.ratio()


def _trigrams(text: str) -> set[str]:
    t = f"  {text} "
    return {t[i:i + 3] for i in range(len(t) - 2)}


class Suggester:
    """Suggestions from a name index (normalized name -> canonical id).

    ``extra`` maps known misspellings (normalized) to the name they stand for; they are
    offered first, never accepted silently.
    """

    def __init__(self, index: Mapping[str, str], extra: Mapping[str, str] | None = None,
                 display: Mapping[str, str] | None = None) -> None:
        self._index = dict(index)
        self._extra = dict(extra or {})
        self._display = dict(display or {})
        self._grams: dict[str, list[str]] = {}
        self._folded = {name: fold(name) for name in self._index}
        for name in self._index:
            for g in _trigrams(name) | _trigrams(self._folded[name]):
                self._grams.setdefault(g, []).append(name)

    def _shortlist(self, key: str, folded: str) -> list[str]:
        counts: dict[str, int] = {}
        for g in _trigrams(key) | _trigrams(folded):
            for name in self._grams.get(g, ()):
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
        for name in self._shortlist(key, folded):
            ratio = max(_ratio(key, name), _ratio(folded, self._folded[name]))
            if ratio >= _CUTOFF:
                scored.append((ratio, name))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return tuple(self._label(name) for name in _distinct(scored, self._index))[:n]

    def _label(self, name: str) -> str:
        eid = self._index[name]
        if name in (eid, eid.replace("-", " ")):
            return eid
        return f"{self._display.get(name, name)} ({eid})"


def _distinct(scored: Iterable[tuple[float, str]], index: Mapping[str, str]) -> list[str]:
    """Names in order, one per canonical id."""
    seen: set[str] = set()
    out: list[str] = []
    for _, name in scored:
        eid = index[name]
        if eid not in seen:
            seen.add(eid)
            out.append(name)
    return out
