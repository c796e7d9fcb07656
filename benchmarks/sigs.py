"""Sig-reading benchmark on the doseminer silver standard (UK CPRD "common dosages" strings).

    python benchmarks/sigs.py                  # report on odd-ID rows (the held-out half)
    python benchmarks/sigs.py --split even     # the half used for tuning
    python benchmarks/sigs.py --dump 100       # also print 100 disagreements to hand-check

Rows: numeric ``DN MAX`` (dose number) and ``DF MAX`` (doses per day) and ``DI MAX`` = 1 (a
daily interval). Each string is checked as one line, ``<carrier>: <string>``, through the
public :func:`medref.check` result (no parser internals), and scored on

- doses per day: ``administrations_per_day`` equals ``DF MAX``;
- maximum units per day: equals ``DN MAX x DF MAX``, where a line's units per dose are its
  count (``units_per_dose_max`` / ``units_per_dose``: "1-2 tablets" is 2), else its dose when
  written in a countable unit (``5 ml``, ``2 puffs``), else one when an amount was read
  ("500 mg" is one unit, as the file labels it), else no score (nothing was read as a dose);
  per day is that times ``administrations_per_day`` (within a written maximum per day).

The labels come from a text-mining algorithm, not from people, and are noisy: a disagreement
is not always medref's error (see the README for the hand-checked sample). The file is read
from ``../shared/research/external/doseminer`` (or ``--file``); none of its strings are part
of medref.

Run it under another install's Python (``/path/to/venv/bin/python benchmarks/sigs.py``) to
score that version side by side (older versions lack some fields; they score on the rest).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent.parent / "shared" / "research" / "external" / "doseminer" / \
    "common_doses_textmining.csv"
CARRIER = "acetaminophen"
"""The name each string is checked under: a known ingredient with no dose form of its own, so
the string alone says what a unit is."""
COUNTABLE = {"ml", "tablet", "capsule", "caplet", "patch", "puff", "drop", "spray", "sachet",
             "softgel", "lozenge", "suppository", "application", "unit", "blister", "each",
             "tab", "cap", "piece", "scoop", "teaspoon", "tablespoon", "pack"}


def _num(x: str) -> float | None:
    try:
        return float(x)
    except ValueError:
        return None


def rows(path: Path, split: str) -> list[dict[str, Any]]:
    """The labelled rows of one split (``odd`` or ``even`` IDs, or ``all``)."""
    out = []
    with open(path, encoding="latin-1", newline="") as fh:
        for r in csv.DictReader(fh):
            dn, df = _num(r["DN MAX"]), _num(r["DF MAX"])
            if dn is None or df is None or r["DI MAX"].strip() != "1":
                continue
            rid = int(r["ID"])
            if split != "all" and (rid % 2 == 1) != (split == "odd"):
                continue
            out.append({"id": rid, "text": r["PRESCRIPTION"], "dn": dn, "df": df,
                        "units_per_day": dn * df})
    return out


def units_per_day(item: dict[str, Any]) -> float | None:
    """Maximum units per day from a check result item (see the module docstring)."""
    per_day = item.get("administrations_per_day")
    if per_day is None:
        return None
    if item.get("units_per_day") is not None:
        return float(item["units_per_day"])
    units = item.get("units_per_dose_max") or item.get("units_per_dose")
    if units is None or item.get("units_assumed"):
        dose = item.get("dose_max") if item.get("dose_max") is not None else item.get("dose")
        if dose is None:
            return None  # nothing read as a dose: no score
        unit = (item.get("unit") or "").lower().rstrip("s")
        units = dose if unit in COUNTABLE else 1.0
    return float(units) * per_day


def score(data: list[dict[str, Any]], carrier: str) -> tuple[dict[str, Any], list[Any]]:
    """Check every row; return the figures and the disagreements."""
    import medref
    ref = medref.load_reference()
    n = per_day_ok = units_ok = unread = 0
    misses = []
    t = time.perf_counter()
    for r in data:
        res = medref.check([f"{carrier}: {r['text']}"], reference=ref)
        item = res.items[0].to_dict()
        n += 1
        got_df = item.get("administrations_per_day")
        got_units = units_per_day(item)
        ok_df = got_df is not None and got_df == r["df"]
        ok_units = got_units is not None and abs(got_units - r["units_per_day"]) < 1e-9
        per_day_ok += ok_df
        units_ok += ok_units
        unread += bool(item.get("unparsed")) or item["status"] == "unparseable"
        if not (ok_df and ok_units):
            misses.append((r, got_df, got_units, item.get("unparsed"), item["status"]))
    secs = time.perf_counter() - t
    return ({"rows": n, "doses_per_day": per_day_ok / n if n else 0.0,
             "units_per_day": units_ok / n if n else 0.0,
             "with_unread_text": unread / n if n else 0.0, "seconds": secs,
             "version": getattr(medref, "__version__", "?")}, misses)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file", type=Path, default=DEFAULT)
    ap.add_argument("--split", choices=["odd", "even", "all"], default="odd")
    ap.add_argument("--carrier", default=CARRIER)
    ap.add_argument("--dump", type=int, default=0, metavar="N",
                    help="print N disagreements (every k-th, spread over the split)")
    args = ap.parse_args(argv)
    if not args.file.is_file():
        print(f"benchmarks/sigs.py: {args.file}: not found (pass --file)", file=sys.stderr)
        return 2
    data = rows(args.file, args.split)
    figures, misses = score(data, args.carrier)
    print(f"doseminer silver standard, {args.split} IDs: {figures['rows']} rows "
          f"(medref {figures['version']}, {figures['seconds']:.1f} s)")
    print(f"  exact doses per day:         {100 * figures['doses_per_day']:.1f}%")
    print(f"  exact maximum units per day: {100 * figures['units_per_day']:.1f}%")
    print(f"  lines with text not read:    {100 * figures['with_unread_text']:.1f}%")
    if args.dump and misses:
        step = max(1, len(misses) // args.dump)
        print(f"\n{len(misses)} disagreements; every {step}th:")
        print("id\tlabel DN x DF\tmedref per day, units/day\tstatus\tstring")
        for r, df, units, unparsed, status in misses[::step][:args.dump]:
            print(f"{r['id']}\t{r['dn']:g} x {r['df']:g}\t{df}, {units}\t{status}"
                  f"{' ' + repr(unparsed) if unparsed else ''}\t{r['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
