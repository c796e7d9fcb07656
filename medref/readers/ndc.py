"""An NDC as a drug name the product layer reads: CDC's 2018 product file gives the product,
its ingredients, form and the *controlled* ingredient's strength (for a combination such as
hydrocodone/acetaminophen, the acetaminophen strength is not in the file).

:func:`ndc_description` writes the RxNorm-style name of the product (``Acetaminophen 325 MG /
hydrocodone Bitartrate 10 MG Oral Tablet``). A combination's other amounts come from the
product strengths on file whose controlled ingredient has that strength: the one the product's
marketed name names, when it names one (``TYLENOL W/CODEINE #3``: 300/30); otherwise one
such strength is used as it is; several, the strongest is used and the line says the
strength was assumed (the alert policy then holds its findings at a warning); none, only the
controlled amount is written and the reader reports the rest of the name it could not use.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from medref.knowledge import Knowledge, Product, Strength
from medref.reference import NdcProduct, Reference
from medref.text import normalize

_FORMS = {"Tablet": "Oral Tablet", "Tablet, Extended Release": "Extended Release Oral Tablet",
          "Tablet, Disintegrating": "Disintegrating Oral Tablet", "Capsule": "Oral Capsule",
          "Capsule, Extended Release": "Extended Release Oral Capsule",
          "Capsule, Extended Release, 24": "24 HR Extended Release Oral Capsule",
          "Patch, Extended Release": "Transdermal System", "Solution": "Oral Solution",
          "Liquid": "Oral Solution", "Suspension": "Oral Suspension"}
"""CDC's dose forms as RxNorm dose forms (others are written as CDC has them)."""


class NdcName(NamedTuple):
    """What an NDC is read as: the name, and the strength's label (``10/325``) when it was
    assumed (several strengths on file have the controlled amount: the strongest is used)."""

    name: str
    assumed: str | None = None


def normalize_ndc(text: str) -> str | None:
    """An NDC as 11 digits (5-4-2): 11 digits as they are, or a hyphenated 10-digit NDC
    (4-4-2, 5-3-2, 5-4-1) padded; None for anything else (a bare 10-digit NDC is ambiguous)."""
    t = text.strip()
    if re.fullmatch(r"\d{11}", t):
        return t
    m = re.fullmatch(r"(\d{4,5})-(\d{3,4})-(\d{1,2})", t)
    if m is None:
        return None
    a, b, c = m.groups()
    if len(a) + len(b) + len(c) == 11:
        return a + b + c
    if len(a) + len(b) + len(c) != 10:
        return None
    return a.zfill(5) + b.zfill(4) + c.zfill(2)


def _ingredient(reference: Reference, part: str) -> str | None:
    """The ingredient id of one of CDC's ingredient names (``hydrocodone Bitartrate``)."""
    for name in (part, part.split()[0] if part.split() else part):
        hit = reference.resolve(normalize(name))
        if hit is not None and hit in reference.knowledge.ingredients:
            return hit
    return None


def _candidates(kb: Knowledge, ids: list[str], controlled: str, strength: float,
                formulation: str | None) -> list[tuple[Product, Strength]]:
    out = []
    for pid in kb.products:
        pr = kb.products[pid]
        if sorted(pr.ingredients) != sorted(ids):
            continue
        if formulation is not None and pr.formulation not in (formulation, ""):
            continue
        for st in pr.marketed:
            if any(c.ingredient == controlled and abs(c.written - strength) < 1e-9
                   for c in st.components):
                out.append((pr, st))
    return out


def _amounts_of(st: Strength) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((c.ingredient, c.written) for c in st.components))


def _named_strength(reference: Reference, name: str) -> tuple[tuple[str, float], ...] | None:
    """The amounts of the strength a product's marketed name itself names (``TYLENOL
    W/CODEINE #3``: the 300/30 of Tylenol with Codeine #3), or None when the name names none."""
    info = reference.name_info(normalize(name))
    if info is None or info.product is None or info.strength is None:
        return None
    product = reference.knowledge.products.get(info.product)
    if product is None:
        return None
    for st in product.strengths:
        if st.label == info.strength:
            return _amounts_of(st)
    return None


def ndc_description(reference: Reference, p: NdcProduct) -> NdcName:
    """The name an NDC's product is read by (see the module text)."""
    form = _FORMS.get(p.form, p.form)
    parts = [x.strip() for x in p.generic.split("/") if x.strip()]
    unit = p.unit or "MG"
    if p.strength is None:
        return NdcName(f"{' / '.join(parts)} {form}")
    amount = f"{p.strength:g} {unit}"
    if len(parts) == 1:
        return NdcName(f"{parts[0]} {amount} {form}")
    drug = re.sub(r"\s+(SA|LA)$", "", p.drug).strip().lower()
    at = next((i for i, x in enumerate(parts) if x.lower().startswith(drug)), 0)
    ids = [_ingredient(reference, x) for x in parts]
    controlled = ids[at]
    if controlled is not None and None not in ids:
        known = [i for i in ids if i is not None]
        formulation = {"SA": "IR", "LA": "ER"}.get(p.acting)
        found = _candidates(reference.knowledge, known, controlled, p.strength, formulation)
        named = _named_strength(reference, p.name)
        if named is not None:  # "TYLENOL W/CODEINE #3" names its strength: 300/30, exactly
            exact = [x for x in found if _amounts_of(x[1]) == named]
            found = exact or found
        if found:
            # several strengths with this controlled amount: the strongest (worst case)
            def amounts(x: tuple[Product, Strength]) -> tuple[float, ...]:
                got = {c.ingredient: c.written for c in x[1].components}
                return tuple(got.get(i, 0.0) for i in known)
            _, st = max(found, key=amounts)
            distinct = {tuple(sorted((c.ingredient, c.written) for c in s.components))
                        for _, s in found}
            written = {c.ingredient: c.written for c in st.components}
            name = " / ".join(f"{x} {written[i]:g} {unit}" for x, i in zip(parts, known,
                                                                            strict=True))
            return NdcName(f"{name} {form}",
                           None if len(distinct) == 1 else st.label)
    others = "/".join(x for i, x in enumerate(parts) if i != at)
    return NdcName(f"{parts[at]} {amount} / {others} {form}")
