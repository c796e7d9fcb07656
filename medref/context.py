"""Patient context: the values some rules need, one validation rule, one precedence rule.

A regimen's context can come from two places: the input itself (a record's ``context``, a
JSON file's ``context``, CSV context columns) and the caller (command-line options such as
``--age``, or the library's ``context=`` argument). **The input's own value wins; the caller's
value fills only what the input leaves unset**: a record describes one patient, an option
describes a whole run. :func:`merge` applies this everywhere, and :func:`sources` says where
each value came from (reported in the output as ``summary.context_sources``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

CONTEXT_KEYS: Final = ("age", "crcl", "hepatic_impairment", "weeks_since_surgery", "weight",
                       "egfr", "opioid_tolerant")
"""The fields of :class:`Context`, in order (also the keys of a record's ``context``)."""

CONTEXT_RANGES: Final = {"age": 130, "crcl": 250, "weeks_since_surgery": 520, "weight": 300,
                         "egfr": 250}
BOOL_KEYS: Final = frozenset({"hepatic_impairment", "opioid_tolerant"})
"""Inclusive upper bound of each numeric context field (the lower bound is 0)."""

FROM_INPUT: Final = "input"
"""``context_sources`` value: the value came with the regimen (record, file, CSV row)."""
FROM_OPTIONS: Final = "options"
"""``context_sources`` value: the value came from command-line options or ``context=``."""

ContextValue = int | float | bool | None


def context_value(key: str, value: object) -> ContextValue:
    """Validate one context value; the one rule behind :class:`Context` and every reader.

    ``None`` is unset. ``hepatic_impairment`` and ``opioid_tolerant`` must be bools; the
    others a finite number (a bool is not a number) from 0 to their bound in
    :data:`CONTEXT_RANGES`. ``age`` is whole
    years: a fractional age is truncated (80.9 is 80). ``-0.0`` is stored as ``0.0``.

    Returns:
        The value to store (``age`` as an int).

    Raises:
        ValueError: naming the field as ``field 'context.<key>'``.
    """
    if value is None:
        return None
    if key in BOOL_KEYS:
        if not isinstance(value, bool):
            raise ValueError(f"field 'context.{key}': must be true or false")
        return value
    top = CONTEXT_RANGES.get(key)
    if top is None:
        raise ValueError(f"field 'context.{key}': unknown (expected {', '.join(CONTEXT_KEYS)})")
    number: int | float
    if isinstance(value, bool):
        raise ValueError(f"field 'context.{key}': must be a number")
    if isinstance(value, int | float):
        number = value
    else:
        import numbers  # numpy and other real number types, converted to float
        if not isinstance(value, numbers.Real):
            raise ValueError(f"field 'context.{key}': must be a number")
        number = float(value)
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError(f"field 'context.{key}': must be a finite number")
    if not 0 <= number <= top:
        raise ValueError(f"field 'context.{key}': out of range 0-{top}")
    if key == "age":
        return int(number)
    return number + 0.0 if isinstance(number, float) else number  # -0.0 -> 0.0


def parse_context_text(key: str, text: str) -> ContextValue:
    """A context value written as text (a CSV cell): ``true/yes/1`` or ``false/no/0`` for
    ``hepatic_impairment`` and ``opioid_tolerant``, a number for the others; empty text is
    unset.

    Raises:
        ValueError: naming the field.
    """
    t = text.strip()
    if not t:
        return None
    if key in BOOL_KEYS:
        low = t.lower()
        if low in ("true", "yes", "1", "false", "no", "0"):
            return low in ("true", "yes", "1")
        raise ValueError(f"field 'context.{key}': must be true or false")
    if key not in CONTEXT_RANGES:
        raise ValueError(f"field 'context.{key}': unknown (expected {', '.join(CONTEXT_KEYS)})")
    try:
        number = float(t)
    except ValueError:
        raise ValueError(f"field 'context.{key}': not a number") from None
    return context_value(key, number)


@dataclass(frozen=True, slots=True)
class Context:
    """Patient context for the checks. Unset values are reported where a rule needs them.

    Every value is validated on construction (``ValueError`` naming the field): age 0-130
    whole years, crcl and egfr 0-250, weeks_since_surgery 0-520, weight 0-300 kg (finite
    numbers, not bools), hepatic_impairment and opioid_tolerant bools.

    Attributes:
        age: age in whole years.
        crcl: creatinine clearance in mL/min.
        hepatic_impairment: True when the patient has hepatic impairment.
        weeks_since_surgery: weeks since the fusion surgery.
        weight: body weight in kg (per-kg limits).
        egfr: estimated GFR in mL/min/1.73 m2, used for a CrCl rule when no CrCl is given
            (the finding says so).
        opioid_tolerant: True when the patient is opioid-tolerant as the ER/LA opioid labels
            define it; False when not.
    """

    age: int | None = None
    crcl: float | None = None
    hepatic_impairment: bool | None = None
    weeks_since_surgery: float | None = None
    weight: float | None = None
    egfr: float | None = None
    opioid_tolerant: bool | None = None

    def __post_init__(self) -> None:
        """Validate every field (:func:`context_value`): a wrong value is never read as unset.

        Raises:
            ValueError: naming the field, e.g. ``field 'context.age': out of range 0-130``.
        """
        for key in CONTEXT_KEYS:
            value = getattr(self, key)
            if value is not None:
                checked = context_value(key, value)
                if checked is not value:
                    object.__setattr__(self, key, checked)

    def to_dict(self) -> dict[str, ContextValue]:
        """Plain-dict form (unset values are null)."""
        return {"age": self.age, "crcl": self.crcl,
                "hepatic_impairment": self.hepatic_impairment,
                "weeks_since_surgery": self.weeks_since_surgery, "weight": self.weight,
                "egfr": self.egfr, "opioid_tolerant": self.opioid_tolerant}

    def given(self) -> frozenset[str]:
        """The fields that are set."""
        return frozenset(k for k in CONTEXT_KEYS if getattr(self, k) is not None)


EMPTY: Final = Context()
"""The context with nothing given."""


def as_context(value: Context | Mapping[str, object] | None) -> Context | None:
    """A :class:`Context` from a Context, a mapping of its fields, or None.

    Raises:
        ValueError: an unknown key or an invalid value (naming the field).
        TypeError: neither a Context nor a mapping.
    """
    if value is None or isinstance(value, Context):
        return value
    if isinstance(value, Mapping):
        vals: dict[str, ContextValue] = {}
        for k, v in value.items():
            if k not in CONTEXT_KEYS:
                raise ValueError(f"field 'context.{k}': unknown "
                                 f"(expected {', '.join(CONTEXT_KEYS)})")
            vals[str(k)] = context_value(str(k), v)
        return from_values(vals)
    raise TypeError(f"context must be a Context or a mapping, not {type(value).__name__}")


def context_from_raw(raw: Mapping[str, object] | None) -> Context | None:
    """A :class:`Context` from a record's raw ``context`` object: typed JSON values or text
    (CSV cells, ``"80"``, ``"yes"``); null and empty values are unset. None when nothing is
    given.

    Raises:
        ValueError: an unknown key or an invalid value (naming the field).
    """
    if not raw:
        return None
    vals: dict[str, ContextValue] = {}
    for k, v in raw.items():
        key = str(k)
        if key not in CONTEXT_KEYS:
            raise ValueError(f"field 'context.{key}': unknown "
                             f"(expected {', '.join(CONTEXT_KEYS)})")
        if v is None or v == "":
            continue
        vals[key] = parse_context_text(key, v) if isinstance(v, str) else context_value(key, v)
    return from_values(vals) if vals else None


def merge(own: Context | None, options: Context | None) -> Context:
    """The context a regimen is checked with: the input's own values, and the caller's options
    for the fields the input leaves unset."""
    if options is None or options == EMPTY:
        return own if own is not None else EMPTY
    if own is None or own == EMPTY:
        return options
    vals = {k: getattr(own, k) if getattr(own, k) is not None else getattr(options, k)
            for k in CONTEXT_KEYS}
    return from_values(vals)


def from_values(vals: Mapping[str, ContextValue]) -> Context:
    """A :class:`Context` from validated values by field name (missing fields unset).

    Raises:
        ValueError: a value of the wrong type for its field.
    """
    out: dict[str, ContextValue] = {}
    for k in CONTEXT_KEYS:
        v = vals.get(k)
        if v is None:
            continue
        if k in BOOL_KEYS:
            if not isinstance(v, bool):
                raise ValueError(f"field 'context.{k}': must be true or false")
        elif k == "age":
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError("field 'context.age': must be a whole number")
        elif isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"field 'context.{k}': must be a number")
        out[k] = v
    return Context(**out)  # type: ignore[arg-type]


def sources(own: Context | None, options: Context | None) -> dict[str, str | None]:
    """Where each context value came from: :data:`FROM_INPUT`, :data:`FROM_OPTIONS`, or None
    when it was not given (see :func:`merge`)."""
    if own is None and options is None:
        return dict.fromkeys(CONTEXT_KEYS)
    out: dict[str, str | None] = {}
    for k in CONTEXT_KEYS:
        if own is not None and getattr(own, k) is not None:
            out[k] = FROM_INPUT
        elif options is not None and getattr(options, k) is not None:
            out[k] = FROM_OPTIONS
        else:
            out[k] = None
    return out
