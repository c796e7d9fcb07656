"""Generate a dispensing-claims CSV for ``medref claims``: members with fills of opioids
(Percocet, hydrocodone/APAP, oxycodone, tramadol, fentanyl patches), benzodiazepines,
NSAIDs, muscle relaxants and others, with overlapping and non-overlapping supplies, refills,
and a few unreadable rows mixed in (a bad date, a zero days' supply, an NDC without a
description).

    python benchmarks/make_claims.py --members 10000 --seed 7 > claims.csv
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys

DRUGS = [
    ("PERCOCET 10-325 MG TAB", (4, 6)), ("PERCOCET 5-325 MG TAB", (2, 4)),
    ("HYDROCODONE-ACETAMINOPHEN 10-325 MG TAB", (3, 6)), ("OXYCODONE HCL 10 MG TAB", (3, 6)),
    ("OXYCODONE HCL 30 MG TAB", (3, 4)), ("TRAMADOL HCL 50 MG TAB", (2, 8)),
    ("FENTANYL 25 MCG/HR PATCH", (10, 10)), ("ALPRAZOLAM 0.5 MG TAB", (1, 3)),
    ("LORAZEPAM 1 MG TAB", (1, 3)), ("DIAZEPAM 5 MG TAB", (1, 3)),
    ("IBUPROFEN 800 MG TAB", (2, 4)), ("MELOXICAM 15 MG TAB", (1, 2)),
    ("NAPROXEN 500 MG TAB", (2, 3)), ("CYCLOBENZAPRINE 10 MG TAB", (1, 3)),
    ("GABAPENTIN 600 MG TAB", (2, 4)), ("ACETAMINOPHEN 500 MG TAB", (2, 8)),
    ("SERTRALINE 50 MG TAB", (1, 2)), ("WARFARIN 5 MG TAB", (1, 1)),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad-every", type=int, default=500,
                    help="one unreadable row every N rows (0: none)")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    out = sys.stdout
    out.write("member_id,fill_date,ndc,drug,quantity,days_supply\n")
    rows = 0
    start = dt.date(2026, 1, 1)
    for m in range(args.members):
        for _ in range(rnd.randint(1, 6)):
            drug, (lo, hi) = rnd.choice(DRUGS)
            days = rnd.choice([7, 10, 15, 30, 30, 30])
            fills = rnd.choice([1, 1, 2, 3])
            day = start + dt.timedelta(days=rnd.randint(0, 120))
            per = rnd.randint(lo, hi)
            for _ in range(fills):
                rows += 1
                if args.bad_every and rows % args.bad_every == 0:
                    out.write(rnd.choice([
                        f"M{m:06d},{day.isoformat()[:7]},,{drug},{per * days},{days}\n",
                        f"M{m:06d},{day.isoformat()},,{drug},{per * days},0\n",
                        f"M{m:06d},{day.isoformat()},00406-0512-01,,{per * days},{days}\n"]))
                    continue
                qty = per * days if "PATCH" not in drug else days // 3
                out.write(f"M{m:06d},{day.isoformat()},,{drug},{max(qty, 1)},{days}\n")
                day += dt.timedelta(days=days + rnd.choice([-5, 0, 0, 3, 20]))


if __name__ == "__main__":
    main()
