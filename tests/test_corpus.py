"""The realistic regimen corpus: every expected finding, and no false alarm.

The corpus (``tests/regimens``) was committed before the code that makes it pass; each
expectation cites the fact it rests on. ``benchmarks/corpus.py`` prints the same figures.
"""

from __future__ import annotations

from typing import Any

import pytest
from corpus import load, score

from medref.codes import ALERT_POLICY

REGIMENS = load()


def test_the_corpus_is_big_enough_and_has_clean_regimens() -> None:
    assert len(REGIMENS) >= 60
    clean = [r for r in REGIMENS if not any(e["severity"] != "info" for e in r["expect"])]
    assert len(clean) >= 10
    assert len({r["id"] for r in REGIMENS}) == len(REGIMENS)
    for r in REGIMENS:
        for e in r["expect"]:
            assert e.get("why") and e.get("source"), (r["id"], e)


@pytest.mark.parametrize("regimen", REGIMENS, ids=[r["id"] for r in REGIMENS])
def test_regimen(regimen: dict[str, Any]) -> None:
    missed, alarms, result = score(regimen)
    assert result.summary.alert_policy == ALERT_POLICY
    seen = [(f.code, f.severity, f.items) for f in result.findings]
    assert not missed, f"missed: {missed}\nfindings: {seen}"
    assert not alarms, f"false alarms: {[(f.code, f.severity, f.items, f.message) for f in alarms]}"
