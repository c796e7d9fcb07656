"""The regimen as typed data: what every reader produces and every check reads.

A :class:`MedicationLine` is one item of a regimen, whatever format it came in (a sig line, a
structured item, later a FHIR MedicationRequest): the product and its ingredients with their
amounts, dose, route, frequency, PRN, duration, and where each field came from. A
:class:`Record` is one regimen to check: an id, its items and the context it carries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from medref.context import Context

ORIGIN_SIG: Final = "sig"
"""A field read from sig text."""
ORIGIN_FIELD: Final = "field"
"""A field given as a structured item's own field (a number, a boolean, verbatim text)."""


class Frequency(NamedTuple):
    """How often a dose is taken.

    Either an interval (``interval_min_h``..``interval_max_h`` hours between doses, ``q4-6h``)
    or a count per window (``count_min``..``count_max`` administrations per ``window_days``).
    ``once`` marks a single administration.
    """

    text: str
    count_min: float = 1
    count_max: float = 1
    window_days: float = 1
    interval_min_h: float | None = None
    interval_max_h: float | None = None
    once: bool = False
    bedtime: bool = False
    repeats_assumed: bool = False
    """``may repeat in 2 h`` with nothing saying how many times: the interval is read all
    day (the worst case), and a daily limit exceeded on it is at most a warning."""

    def max_in(self, days: float) -> int:
        """Worst-case (largest) number of administrations within a window of ``days``."""
        if self.once:
            return 1
        if self.interval_min_h is not None:
            return max(1, math.ceil(days * 24 / self.interval_min_h - 1e-9))
        count = math.ceil(self.count_max)
        if days < self.window_days:
            # "twice weekly": doses fall on separate days, so at most one a day
            return max(1, min(count, math.ceil(days - 1e-9)))
        return math.ceil(days / self.window_days - 1e-9) * count

    def min_in(self, days: float) -> float:
        """Fewest administrations expected within ``days`` (for the below-typical check)."""
        if self.once:
            return 1
        if self.interval_max_h is not None:
            return days * 24 / self.interval_max_h
        return days / self.window_days * self.count_min

    @property
    def per_day_max(self) -> int:
        """Worst-case administrations in one day."""
        return self.max_in(1)

    @property
    def average_per_day(self) -> float:
        """Administrations a day on average (``weekly``: 1/7)."""
        if self.once:
            return 1.0
        if self.interval_min_h is not None:
            return 24 / self.interval_min_h
        return self.count_max / self.window_days

    def in_period(self, days: float) -> int:
        """Worst-case administrations within a labeled period of ``days`` (a week, a month):
        a dosing interval close to the period counts once (``every 4 weeks`` is one dose a
        month, not two), otherwise :meth:`max_in`."""
        span = (self.interval_min_h / 24 if self.interval_min_h is not None
                else None if self.once else self.window_days)
        if span is not None and 0.9 * days <= span < days:
            return math.ceil(self.count_max) if self.interval_min_h is None else 1
        return self.max_in(days)

    @property
    def scale_days(self) -> float:
        """The natural time scale of the frequency in days (1 for daily or more often)."""
        if self.once:
            return 1
        if self.interval_min_h is not None:
            return max(1.0, self.interval_min_h / 24)
        return self.window_days


class IngredientDose(NamedTuple):
    """One ingredient of a line with its amount per administration, as written.

    ``amount``..``amount_max`` is the range per administration (``amount_max`` None when it is
    a single amount) in ``unit``; both None when the line gives no amount.
    """

    ingredient: str
    amount: float | None = None
    amount_max: float | None = None
    unit: str | None = None

    @property
    def worst(self) -> float | None:
        """The largest amount per administration."""
        return self.amount_max if self.amount_max is not None else self.amount


class MedicationLine(NamedTuple):
    """One regimen item, read.

    Attributes:
        text: the item as given (a sig line), or the sig text a structured item stands for.
        name: the name as written ('' when the line could not be read at all).
        product: canonical id of the product or ingredient named, None when unknown.
        ingredients: each ingredient with its amount per administration as written.
        dose, dose_max, unit: the dose per administration as written (for display).
        route: the route as written (None when the line states none).
        frequency, prn, prn_reason, duration_days, duration_doses: as read.
        formulation, form, strength, strength_unit: as read (``ER``, ``tablet``, ``5 %``).
        unparsed: words that were not understood (the rest was read).
        problems: parts understood but impossible (``q0h``, a negative dose).
        error: why the line could not be read at all (None when it was read).
        error_part: the text the error is about.
        provenance: ``(field, origin)`` pairs: where each field that was set came from
            (:data:`ORIGIN_SIG`, :data:`ORIGIN_FIELD`).
        suggestions: close known names when the name is unknown ("did you mean").
        norm: the text normalized (to spot identical lines), when the reader computed it.
        marketed: the marketed product named (``percocet``, ``amrix``), if any.
        formulation_assumed: the formulation was not stated (the default was used).
        strength_label, strength_assumed: the product strength read (``10/325``), or assumed
            (the strongest marketed) when the line names none.
        units, units_max, unit_of_use, units_assumed: units of use per administration
            (``1-2 tablets``), or one assumed when the line gives no count.
        salt: the salt the amount was written as (``naproxen sodium``), converted.
        cap_units, cap_amount, cap_amount_unit, cap_text, cap_per_day: a written maximum.
        steps: the steps of a multi-step sig (the line holds its highest day).
        assumptions: what was assumed, in words (reported as MR010).
        slot_units: units of use a day when each time of day has its own count
            (``1 mane 2 nocte``: 3), else None.
        indication: what the medicine is for, as written (``for blood pressure``).
        notes: instructions read and set aside (``dispense weekly``).
        conflicts: where the written instructions and the coded dosage of an order disagree
            (FHIR ``dosage.text`` against ``doseAndRate`` and ``timing``; reported as MR013).
        per_day: the amounts are per day, not per administration (a dispensing claim:
            quantity x strength / days' supply): per-dose checks do not apply.
    """

    text: str
    name: str = ""
    product: str | None = None
    ingredients: tuple[IngredientDose, ...] = ()
    dose: float | None = None
    dose_max: float | None = None
    unit: str | None = None
    route: str | None = None
    frequency: Frequency | None = None
    prn: bool = False
    prn_reason: str | None = None
    duration_days: float | None = None
    duration_doses: int | None = None
    formulation: str | None = None
    form: str | None = None
    strength: float | None = None
    strength_unit: str | None = None
    unparsed: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    error: str | None = None
    error_part: str | None = None
    provenance: tuple[tuple[str, str], ...] = ()
    suggestions: tuple[str, ...] = ()
    norm: str = ""
    marketed: str | None = None
    formulation_assumed: bool = False
    strength_label: str | None = None
    strength_assumed: bool = False
    units: float | None = None
    units_max: float | None = None
    unit_of_use: str | None = None
    units_assumed: bool = False
    salt: str | None = None
    cap_units: float | None = None
    cap_amount: float | None = None
    cap_amount_unit: str | None = None
    cap_text: str | None = None
    cap_per_day: bool = True
    steps: int = 1
    assumptions: tuple[str, ...] = ()
    slot_units: float | None = None
    indication: str | None = None
    notes: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    per_day: bool = False

    @property
    def readable(self) -> bool:
        """False when the line could not be read at all."""
        return self.error is None

    @property
    def dose_worst(self) -> float | None:
        """The largest dose per administration as written."""
        return self.dose_max if self.dose_max is not None else self.dose


Item = object
"""An input item before it is read: a sig line (str) or a structured item (a mapping)."""


class Record(NamedTuple):
    """One regimen to check: an id, its items, the context it carries, where it came from.

    Attributes:
        id: the record's id (None when it could not be read).
        items: sig lines (str) or structured items (mappings), in order.
        context: the context given with the record itself (not the caller's options).
        line: 1-based line (or row) of the record in its input.
        error: one-line reason the record could not be read, else None.
        item_lines: the input line of each item, when known (names lines in errors).
        fhir: what a FHIR input held beyond its medication lines (its resources, those not
            checked and why), else None.
    """

    id: object
    items: list[object]
    context: Context | None = None
    line: int = 0
    error: str | None = None
    item_lines: tuple[int, ...] | None = None
    fhir: FhirInfo | None = None


ROLE_DRAFT: Final = "draft"
"""A draft order of a CDS Hooks request (the orders being decided)."""
ROLE_ACTIVE: Final = "active"
"""A medication the patient already takes (CDS Hooks prefetch): context for the drafts."""
ROLE_INPUT: Final = "input"
"""A resource given directly (``check -f`` of a resource or a Bundle)."""


class FhirEntry(NamedTuple):
    """One medication resource to check, as found in the input.

    Attributes:
        resource: the MedicationRequest or MedicationStatement (decoded JSON).
        medication: the Medication it references (contained or in the Bundle), if any.
        ref: how to point back at it (``MedicationRequest/abc``, or the entry's fullUrl).
        role: :data:`ROLE_DRAFT`, :data:`ROLE_ACTIVE` or :data:`ROLE_INPUT`.
        notes: what was repaired or assumed while finding it.
    """

    resource: Mapping[str, Any]
    medication: Mapping[str, Any] | None
    ref: str
    role: str
    notes: tuple[str, ...] = ()

    def key(self) -> str:
        """A cache key: the resource and its medication as canonical JSON."""
        return json.dumps([self.resource, self.medication, self.notes], sort_keys=True,
                          separators=(",", ":"), default=str)


class Skipped(NamedTuple):
    """A resource that was not checked, and why."""

    ref: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """``{"resource", "reason"}``."""
        return {"resource": self.ref, "reason": self.reason}


class FhirInfo(NamedTuple):
    """What a FHIR input said beyond its medication lines (reported in ``summary.fhir``).

    Attributes:
        refs: the resource each item came from, in item order.
        roles: each item's role (draft order, active medication, or input).
        skipped: resources not checked, with the reason.
        notes: what was assumed about the document (a Bundle without ``type``, an
            Observation in an unexpected unit, an unreadable prefetch ...).
        patient: the patient reference, when one is named.
    """

    refs: tuple[str, ...]
    roles: tuple[str, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    patient: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.fhir`` block."""
        return {"resources": list(self.refs), "roles": list(self.roles),
                "not_checked": [s.to_dict() for s in self.skipped], "notes": list(self.notes),
                "patient": self.patient}
