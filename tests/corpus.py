"""The realistic regimen corpus (``tests/regimens/*.json``): loading and scoring.

Each file is one regimen as prescriptions arrive, with the findings a pharmacist should see,
derived from cited facts under the alert policy (``docs/ALERT-POLICY.md``)::

    {"id": "...", "description": "...", "items": [...], "context": {...},
     "expect": [{"code": "MR303", "severity": "warning", "items": ["alprazolam", ...],
                 "why": "...", "source": "..."}]}

``expect`` lists every finding expected at warning or error (and any info finding that is
the point of the regimen). Scoring: an expectation is **missed** unless a finding has its code,
its severity and at least its items; a warning or error finding that no expectation claims is
a **false alarm**. Used by ``tests/test_corpus.py`` and ``benchmarks/corpus.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import medref

CORPUS = Path(__file__).resolve().parent / "regimens"


def load(directory: Path = CORPUS) -> list[dict[str, Any]]:
    """Every regimen in the corpus, in file order."""
    return [json.loads(p.read_text(encoding="utf-8")) | {"file": p.name}
            for p in sorted(directory.glob("*.json"))]


def _claims(exp: dict[str, Any], f: medref.Finding) -> bool:
    return (f.code == exp["code"] and f.severity == exp["severity"]
            and set(exp.get("items", ())) <= set(f.items))


def score(regimen: dict[str, Any], reference: medref.Reference | None = None
          ) -> tuple[list[dict[str, Any]], list[medref.Finding], medref.CheckResult]:
    """Check one regimen: (missed expectations, false alarms, the result)."""
    result = medref.check(regimen["items"], regimen.get("context") or None,
                          reference=reference)
    expected = list(regimen.get("expect", ()))
    missed = [e for e in expected if not any(_claims(e, f) for f in result.findings)]
    alarms = [f for f in result.findings if f.rank >= 1
              and not any(_claims(e, f) for e in expected)]
    return missed, alarms, result
