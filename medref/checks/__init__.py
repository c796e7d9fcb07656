"""Check families: one module each, listed in :data:`CHECKS` (the order is irrelevant:
findings are sorted).

To add a check, write a module with a :class:`~medref.checks.base.LineCheck`,
:class:`~medref.checks.base.IngredientCheck` or :class:`~medref.checks.base.RegimenCheck`
subclass and its :class:`~medref.codes.Code` declarations, and add an instance here (see
``docs/ARCHITECTURE.md``). A site's own check outside the package is named in the
``MEDREF_CHECKS`` environment variable (``package.module:attribute``, comma-separated).
"""

from __future__ import annotations

import os
from importlib import import_module

from medref.checks.base import Check, IngredientCheck, LineCheck, RegimenCheck, Scope
from medref.checks.bone import BoneHealing
from medref.checks.context_rules import ContextRules
from medref.checks.dose import DoseLimits, TypicalRange
from medref.checks.duplicates import SameLine, SameProduct
from medref.checks.duration import DurationLimits
from medref.checks.interactions import InteractionRules
from medref.checks.mme import LineMme, TotalMme
from medref.checks.periods import PeriodLimits
from medref.checks.readability import Readability
from medref.checks.upper_intake import ElementTotals, UpperIntake
from medref.checks.weight import PerKgLimits
from medref.codes import Code, validate

CHECKS: tuple[Check, ...] = (
    Readability(), DoseLimits(), TypicalRange(), LineMme(),
    PeriodLimits(), DurationLimits(), ContextRules(), BoneHealing(), UpperIntake(),
    SameProduct(),
    SameLine(), InteractionRules(), TotalMme(), PerKgLimits(), ElementTotals(),
)
"""Every built-in check."""

ENV_EXTRA = "MEDREF_CHECKS"
"""Environment variable naming extra checks: ``package.module:attribute``, comma-separated."""


def extra_checks(spec: str | None = None) -> tuple[Check, ...]:
    """The checks named in ``spec`` (default ``$MEDREF_CHECKS``).

    Raises:
        ValueError: a name that is not ``module:attribute``, a module that cannot be imported,
            or an attribute that is not a check instance.
    """
    text = os.environ.get(ENV_EXTRA, "") if spec is None else spec
    out: list[Check] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        mod, sep, attr = part.partition(":")
        if not sep or not mod or not attr:
            raise ValueError(f"{ENV_EXTRA}: {part!r} is not 'package.module:attribute'")
        try:
            obj = getattr(import_module(mod), attr, None)
        except ImportError as exc:
            raise ValueError(f"{ENV_EXTRA}: cannot import {mod!r} ({exc})") from None
        if not isinstance(obj, Check):
            raise ValueError(f"{ENV_EXTRA}: {part!r} is not a medref check instance")
        out.append(obj)
    return tuple(out)


def all_checks() -> tuple[Check, ...]:
    """The built-in checks and those named in ``$MEDREF_CHECKS``."""
    return CHECKS + extra_checks()


def codes_of(checks: tuple[Check, ...], extra: tuple[Code, ...] = ()) -> dict[str, Code]:
    """Every code the checks declare, by code, in code order.

    Raises:
        ValueError: one code declared with two different meanings, or a code that is not
            valid (its shape, category or severities).
    """
    found: dict[str, Code] = {}
    for c in (*extra, *(code for check in checks for code in check.codes)):
        c = validate(c)
        old = found.get(c.code)
        if old is not None and old != c:
            raise ValueError(f"code {c.code} is declared twice with different meanings")
        found[c.code] = c
    return dict(sorted(found.items()))


__all__ = ["CHECKS", "Check", "IngredientCheck", "LineCheck", "RegimenCheck", "Scope",
           "all_checks", "codes_of", "extra_checks"]
