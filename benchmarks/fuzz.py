"""Long fuzz run: feed generated sig lines, structured items and batch records to medref.

    python benchmarks/fuzz.py --count 1000000 --seed 1 [--jobs 2]

Inputs mix real sig tokens (names, aliases, doses, units, frequencies) with hostile text
(control characters, right-to-left marks, look-alike letters, huge and odd numbers, random
Unicode). Anything other than a result, or medref's own documented errors, is a crash: the
script prints it with the input and exits 1. Prints the count of inputs and the time taken.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from typing import Any

TOKENS = [
    "mg", "mcg", "µg", "ug", "g", "IU", "units", "mL", "%", "patch", "patches", "tab", "tablets",
    "po", "iv", "im", "sc", "subq", "topical", "transdermal", "qd", "bid", "tid", "qid", "qhs",
    "hs", "q4h", "q4-6h", "q6h", "q0h", "q25h", "q8h", "q12h", "every", "hours", "to", "daily",
    "weekly", "monthly", "yearly", "once", "twice", "prn", "as", "needed", "for", "pain", "x",
    "days", "weeks", "-", "–", "—", ",", "1,000", "0", "-5", "NaN", "inf", "1e308", "0.075",
    "5", "10", "50-100", "400-800", "1 to 2", "times", "a", "day", "with", "meals", "cream",
    "\u202e", "\u200f", "\x00", "\x07", "\t", "\ufeff", "Тylenol", "ibuрrofen", "0 times daily",
]
NAMES = ["ibuprofen", "Tylenol", "APAP", "tramadol", "oxycodone", "ketorolac", "Advil",
         "vitamin d3", "calcium citrate", "alendronate", "zoledronic acid", "lidocaine",
         "Lidoderm", "capsaicin", "prednisone", "nicotine", "PRP", "xyzzy", "gabapentin",
         "romosozumab", "teriparatide", "magnesium", "boron", "manganese", "fluoxetine", ""]


def _line(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return "".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 40)))
    parts = [rng.choice(NAMES)] + [rng.choice(TOKENS) for _ in range(rng.randint(0, 8))]
    if rng.random() < 0.3:
        parts.insert(1, f"{rng.choice([0, 1, 5, 50, 500, 1000, 1e9, 0.001, -1])}")
    return " ".join(parts)


def _item(rng: random.Random) -> Any:
    if rng.random() < 0.8:
        return _line(rng)
    vals = [None, "", 0, -1, 1.5, 500, "abc", True, [], {}, float("nan"), "tid", "mg", "5 days"]
    keys = ["name", "dose", "dose_max", "unit", "frequency", "route", "prn", "duration", "bogus"]
    item = {k: rng.choice(vals) for k in rng.sample(keys, rng.randint(0, len(keys)))}
    if rng.random() < 0.7:
        item["name"] = rng.choice(NAMES)
    return item


def _work(args: tuple[int, int]) -> tuple[int, list[str]]:
    seed, count = args
    from medref.batch import check_many, read_jsonl
    from medref.engine import check
    from medref.errors import MedrefError
    rng = random.Random(seed)
    crashes: list[str] = []
    done = 0
    while done < count:
        kind = rng.random()
        try:
            if kind < 0.8:
                items = [_item(rng) for _ in range(rng.randint(1, 4))]
                done += len(items)
                with contextlib.suppress(MedrefError):
                    check(items)
            else:
                recs = []
                for _ in range(rng.randint(1, 5)):
                    rec: Any = {"id": rng.randint(0, 9), "items": [_item(rng)]}
                    if rng.random() < 0.2:
                        rec["context"] = {"age": rng.choice([30, -1, "x", 200, None])}
                    text = json.dumps(rec, default=str)
                    if rng.random() < 0.1:
                        text = text[: rng.randint(0, len(text))]
                    recs.append(text)
                done += len(recs)
                for res in check_many(read_jsonl(recs)):
                    res.to_json()
        except Exception:
            crashes.append(traceback.format_exc(limit=3))
            if len(crashes) >= 5:
                break
    return done, crashes


def main() -> None:
    ap = argparse.ArgumentParser(description="medref fuzz run")
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    t = time.perf_counter()
    per = 10_000
    tasks = [(args.seed * 1_000_003 + i, per) for i in range((args.count + per - 1) // per)]
    total = 0
    crashes: list[str] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, found in pool.map(_work, tasks):
            total += done
            crashes += found
    dt = time.perf_counter() - t
    print(f"fuzz: {total:,} inputs in {dt:.0f} s ({total / dt:,.0f}/s), {len(crashes)} crashes")
    for c in crashes[:5]:
        print(c)
    sys.exit(1 if crashes else 0)


if __name__ == "__main__":
    main()
