"""Build ``data/ndc.json`` from CDC's 2018 product file (NDC -> product, ingredients, form,
strength), for reading dispensing claims that carry an NDC and no drug description.

    python tools/build_ndc.py ../shared/research/external/cdc-mme-2018 > data/ndc.json

Source: CDC NCIPC, "Oral Morphine Milligram Equivalents" (Sept 2018), the opioid,
benzodiazepine and muscle-relaxant sheets saved as CSV (cells unchanged; source id
``cdc-mme-2018`` in sources.json). Values are copied, never edited: ``strength`` is CDC's
``Strength_Per_Unit`` (for a combination, the controlled ingredient's strength only) and
``unit`` its ``UOM``. CDC's 2018 analytic MME factors are not copied (medref uses the CDC 2022
clinical factors of its data). Rows with no strength are kept (the claim is then read by
ingredient, and says the strength is unknown).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SHEETS = ("opioids.csv", "benzos.csv", "muscle-relaxants.csv")
FIELDS = ("PRODNME", "GENNME", "Master_Form", "LongShortActing", "Drug", "Strength_Per_Unit",
          "UOM")


def main() -> None:
    src = Path(sys.argv[1])
    products: list[dict[str, object]] = []
    index: dict[tuple[str, ...], int] = {}
    ndc: dict[str, int] = {}
    for sheet in SHEETS:
        with open(src / sheet, encoding="utf-8", errors="strict", newline="") as fh:
            for row in csv.DictReader(fh):
                key = tuple(row[f].strip() for f in FIELDS)
                if key not in index:
                    name, generic, form, acting, drug, strength, unit = key
                    index[key] = len(products)
                    products.append({
                        "name": name, "generic": generic, "form": form, "acting": acting,
                        "drug": drug, "strength": float(strength) if strength else None,
                        "unit": unit, "sheet": sheet})
                code = row["NDC"].strip()
                if code in ndc and ndc[code] != index[key]:
                    raise SystemExit(f"{sheet}: NDC {code} listed twice with different rows")
                ndc[code] = index[key]
    doc = {"version": "CDC MME file, September 2018", "source": "cdc-mme-2018",
           "note": "NDC (11 digits, 5-4-2) -> product row; strength is the controlled "
                   "ingredient's only (CDC's Strength_Per_Unit); built by tools/build_ndc.py",
           "products": products, "ndc": dict(sorted(ndc.items()))}
    json.dump(doc, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
