"""Score medref on the realistic regimen corpus (``tests/regimens``): missed findings and
false alarms (a warning or error where none is expected), per regimen and in total.

    python benchmarks/corpus.py            # summary and every miss / false alarm
    python benchmarks/corpus.py --quiet    # the summary line only
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import load, score


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    regimens = load()
    n_exp = n_missed = n_alarms = clean = 0
    for r in regimens:
        missed, alarms, _ = score(r)
        n_exp += len(r["expect"])
        n_missed += len(missed)
        n_alarms += len(alarms)
        clean += not any(e["severity"] != "info" for e in r["expect"])
        if not args.quiet:
            for e in missed:
                print(f"MISSED  {r['id']}: {e['code']} {e['severity']} {e.get('items')} "
                      f"({e.get('why')})")
            for f in alarms:
                print(f"FALSE   {r['id']}: {f.code} {f.severity} {list(f.items)}: "
                      f"{f.message[:120]}")
    print(f"corpus: {len(regimens)} regimens ({clean} expected clean), {n_exp} expected "
          f"findings; missed {n_missed}, false alarms {n_alarms}")
    return 0 if not (n_missed or n_alarms) else 1


if __name__ == "__main__":
    sys.exit(main())
