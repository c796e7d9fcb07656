"""Unit conversion: mass units (g, mg, mcg) convert; IU converts to mcg with a per-entry factor.

Percent (a concentration), mL, patch counts and milliequivalents only compare with themselves.
"""

from __future__ import annotations

MASS_IN_MG = {"g": 1000.0, "mg": 1.0, "mcg": 0.001}
"""Milligrams per unit for the mass units."""


def comparable(a: str, b: str, iu_per_mcg: float | None = None) -> bool:
    """True when an amount in unit ``a`` can be converted to unit ``b``.

    Args:
        a: source unit (``mg``, ``mcg``, ``g``, ``IU``, ``mL``, ``%``, ``patch``).
        b: target unit.
        iu_per_mcg: the entry's IU-per-mcg factor (vitamin D: 40), or None.
    """
    if a == b:
        return True
    if a in MASS_IN_MG and b in MASS_IN_MG:
        return True
    if iu_per_mcg and "IU" in (a, b):
        other = b if a == "IU" else a
        return other in MASS_IN_MG
    return False


def convert(amount: float, a: str, b: str, iu_per_mcg: float | None = None) -> float:
    """Convert ``amount`` from unit ``a`` to unit ``b``.

    Raises:
        ValueError: the units cannot be compared (see :func:`comparable`).
    """
    if a == b:
        return amount
    if a in MASS_IN_MG and b in MASS_IN_MG:
        return amount * MASS_IN_MG[a] / MASS_IN_MG[b]
    if iu_per_mcg and a == "IU" and b in MASS_IN_MG:
        return convert(amount / iu_per_mcg, "mcg", b)
    if iu_per_mcg and b == "IU" and a in MASS_IN_MG:
        return convert(amount, a, "mcg") * iu_per_mcg
    raise ValueError(f"cannot convert {a} to {b}")
