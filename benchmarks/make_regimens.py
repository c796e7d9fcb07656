"""Deterministic generator of realistic regimens for medref's batch benchmarks.

    python benchmarks/make_regimens.py --records 200000 --seed 1 > regimens.jsonl

Each record has 1-12 items drawn from all 40 reference entries, written the way pharmacists
write them (brands, abbreviations, glued units, ranges, PRN, routes, durations), with about 5%
unknown or malformed lines and some records carrying patient context.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"

FREQ_SPELLINGS = {
    "qd": ["daily", "qd", "once daily", "every day", "QD"],
    "bid": ["bid", "twice daily", "BID", "twice a day", "q12h"],
    "tid": ["tid", "three times daily", "TID", "three times a day", "q8h"],
    "qid": ["qid", "four times daily", "QID", "q6h"],
    "hs": ["qhs", "at bedtime", "hs"],
    "weekly": ["weekly", "once weekly", "every week"],
    "monthly": ["monthly", "once monthly", "every month"],
    "yearly": ["yearly", "once a year", "annually"],
    "once": ["once"],
}
MALFORMED = [
    "ibuprofin 400 mg tid", "tylenol q6h", "xyzzy 10 mg daily", "ibuprofen 400 mg q0h",
    "asdf", "gabapentin three hundred mg tid", "oxycodone 5 mg q25h", "Percocet 5/325 q6h",
    "aspirin 81 mg daily", "prednisone 10 mg daily", "nicotine patch 21 mg daily",
    "fish oil", "acetaminophen -500 mg q6h", "metformin 500 mg bid",
]


def _lines_for(entry: dict) -> list[str]:
    names = [entry["id"].replace("-", " "), *entry.get("aliases", [])[:6]]
    t = entry.get("typical")
    out = []
    if not t:
        return [f"{n} once" for n in names]
    unit = t["unit"]
    lo, hi = t["min"], t["max"]
    base = t["frequency"].split()[0]
    prn = t["frequency"].endswith("prn")
    freqs = FREQ_SPELLINGS.get(base, [base])
    for n in names:
        for f in freqs[:3]:
            for dose in {lo, hi}:
                d = f"{dose:g}"
                u = {"%": "%", "patch": " patch"}.get(unit, " " + unit)
                glued = random.random() < 0.3 and unit in ("mg", "mcg", "g")
                amount = f"{d}{unit}" if glued else f"{d}{u}"
                tail = " prn" if prn else ""
                out.append(f"{n} {amount} {f}{tail}")
            if lo != hi and unit not in ("%", "patch"):
                out.append(f"{n} {lo:g}-{hi:g} {unit} {f}{' prn pain' if prn else ''}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--malformed-records", type=float, default=0.002,
                    help="fraction of records that are broken JSON or of the wrong shape")
    ap.add_argument("--repeat", type=float, default=0.0,
                    help="fraction of records that repeat an earlier record's regimen (items "
                         "and context; real drug-utilisation data repeats regimens): drawn "
                         "from the first 2,000 distinct regimens, the earliest most often. "
                         "Default 0: the records are exactly those of earlier versions")
    args = ap.parse_args()
    random.seed(args.seed)
    entries = []
    for f in ("drugs.json", "supplements.json"):
        entries += json.loads((DATA / f).read_text())
    pool = {e["id"]: _lines_for(e) for e in entries}
    ids = sorted(pool)
    rng = random.Random(args.seed)
    w = sys.stdout.write
    seen: list[tuple[list[str], dict | None]] = []
    reuse = random.Random(args.seed + 1)  # its own stream: the default output is unchanged
    for i in range(args.records):
        if args.repeat and seen and reuse.random() < args.repeat:
            items, ctx = seen[int(len(seen) * reuse.random() ** 2)]
            again: dict = {"id": f"R{i:07d}", "items": items}
            if ctx is not None:
                again["context"] = ctx
            w(json.dumps(again) + "\n")
            continue
        if rng.random() < args.malformed_records:
            w(rng.choice([f'{{"id": {i}, "items": "oops"}}', f'{{"id": {i}, items: []}}',
                          f'{{"id": {i}}}']) + "\n")
            continue
        n = rng.randint(1, 12)
        items = []
        for _ in range(n):
            if rng.random() < 0.05:
                items.append(rng.choice(MALFORMED))
            else:
                items.append(rng.choice(pool[rng.choice(ids)]))
        rec: dict = {"id": f"R{i:07d}", "items": items}
        r = rng.random()
        if r < 0.2:
            rec["context"] = {"age": rng.randint(19, 95)}
        elif r < 0.25:
            rec["context"] = {"age": rng.randint(40, 90), "crcl": rng.choice([20, 45, 90]),
                              "weeks_since_surgery": rng.randint(1, 60)}
        if args.repeat and len(seen) < 2_000:
            seen.append((items, rec.get("context")))
        w(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
