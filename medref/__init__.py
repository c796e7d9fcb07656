"""medref: a typed, sourced medication and supplement reference and regimen checker.

Example::

    >>> from medref import check
    >>> result = check(["tramadol 50-100 mg q4-6h prn"])
    >>> [f.code for f in result.findings if f.severity == "error"][:1]
    ['MR102']

Names are imported lazily so that ``import medref`` (and the CLI) start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from medref._version import __version__

if TYPE_CHECKING:
    from medref.api import check, check_fhir, check_many
    from medref.context import Context
    from medref.errors import DataError, InputError, MedrefError, SigError, UnknownSubstanceError
    from medref.models import (
        BoneHealing,
        Condition,
        ContextRule,
        Drug,
        Entry,
        InteractionRule,
        Limit,
        Policy,
        Product,
        Supplement,
        TypicalDose,
    )
    from medref.reference import DataInfo, Reference, load_reference
    from medref.result import CheckResult, Finding, IngredientResult, ItemResult, Summary
    from medref.schema import StructuredItem
    from medref.sig import Frequency, ParsedLine, parse_line
    from medref.validators import (
        WithinDailyMax,
        check_daily_dose,
        daily_max,
        within_daily_max,
    )
    from medref.vocab import Severity

_LAZY = {
    "check": "medref.api",
    "check_fhir": "medref.api",
    "check_many": "medref.api",
    "DataError": "medref.errors",
    "InputError": "medref.errors",
    "MedrefError": "medref.errors",
    "SigError": "medref.errors",
    "UnknownSubstanceError": "medref.errors",
    "BoneHealing": "medref.models",
    "Condition": "medref.models",
    "ContextRule": "medref.models",
    "Drug": "medref.models",
    "Entry": "medref.models",
    "InteractionRule": "medref.models",
    "Limit": "medref.models",
    "Policy": "medref.models",
    "Product": "medref.models",
    "Supplement": "medref.models",
    "TypicalDose": "medref.models",
    "DataInfo": "medref.reference",
    "Reference": "medref.reference",
    "load_reference": "medref.reference",
    "CheckResult": "medref.result",
    "Context": "medref.context",
    "Finding": "medref.result",
    "IngredientResult": "medref.result",
    "ItemResult": "medref.result",
    "Summary": "medref.result",
    "StructuredItem": "medref.schema",
    "Frequency": "medref.sig",
    "ParsedLine": "medref.sig",
    "parse_line": "medref.sig",
    "WithinDailyMax": "medref.validators",
    "check_daily_dose": "medref.validators",
    "daily_max": "medref.validators",
    "within_daily_max": "medref.validators",
    "Severity": "medref.vocab",
}

__all__ = [
    "BoneHealing",
    "CheckResult",
    "Condition",
    "Context",
    "ContextRule",
    "DataError",
    "DataInfo",
    "Drug",
    "Entry",
    "Finding",
    "Frequency",
    "IngredientResult",
    "InputError",
    "InteractionRule",
    "ItemResult",
    "Limit",
    "MedrefError",
    "ParsedLine",
    "Policy",
    "Product",
    "Reference",
    "Severity",
    "SigError",
    "StructuredItem",
    "Summary",
    "Supplement",
    "TypicalDose",
    "UnknownSubstanceError",
    "WithinDailyMax",
    "__version__",
    "check",
    "check_daily_dose",
    "check_fhir",
    "check_many",
    "daily_max",
    "load_reference",
    "parse_line",
    "within_daily_max",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'medref' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
