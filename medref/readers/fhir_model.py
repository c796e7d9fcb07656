"""Small, lenient pydantic models of the FHIR R4 parts medref reads.

They ignore every field medref does not read, and accept what real senders get wrong where
the meaning is still clear: a single object where FHIR wants a list (``doseAndRate`` as an
object), a number as text, an STU3 ``doseQuantity`` on the Dosage itself. Each such repair is
recorded in the model's ``lenient`` notes, and the reader reports it (MR010), so nothing is
assumed silently. Strict third-party FHIR models reject real CDS Hooks traffic, and cost about
half a second to import.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    _lists: ClassVar[tuple[str, ...]] = ()
    lenient: tuple[str, ...] = Field(default=(), alias="_medref_lenient")
    """What was repaired while reading (one sentence each)."""

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        notes: list[str] = []
        fixed = dict(data)
        fixed.pop("_medref_lenient", None)
        fixed.pop("lenient", None)
        for name in cls._lists:
            value = fixed.get(name)
            if isinstance(value, dict | str | int | float) and not isinstance(value, bool):
                fixed[name] = [value]
                notes.append(f"{name} given as a single value where FHIR expects a list; "
                             "read as a list of one")
        if notes:
            fixed["_medref_lenient"] = tuple(notes)
        return fixed


class Coding(_Lenient):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(_Lenient):
    _lists = ("coding",)
    coding: list[Coding] = []
    text: str | None = None

    def codes(self, system_suffix: str) -> list[str]:
        """The codes of codings whose system ends with ``system_suffix``."""
        return [c.code for c in self.coding
                if c.code and c.system and c.system.rstrip("/").endswith(system_suffix)]

    def label(self) -> str | None:
        """The text, else the first display."""
        if self.text and self.text.strip():
            return self.text.strip()
        for c in self.coding:
            if c.display and c.display.strip():
                return c.display.strip()
        return None


class Quantity(_Lenient):
    value: float | None = None
    unit: str | None = None
    code: str | None = None
    system: str | None = None
    comparator: str | None = None


class Range(_Lenient):
    low: Quantity | None = None
    high: Quantity | None = None


class Ratio(_Lenient):
    numerator: Quantity | None = None
    denominator: Quantity | None = None


class Period(_Lenient):
    start: str | None = None
    end: str | None = None


class Reference(_Lenient):
    reference: str | None = None
    display: str | None = None


class Repeat(_Lenient):
    _lists = ("timeOfDay", "when", "dayOfWeek")
    boundsDuration: Quantity | None = None
    boundsPeriod: Period | None = None
    boundsRange: Range | None = None
    count: int | None = None
    countMax: int | None = None
    duration: float | None = None
    durationUnit: str | None = None
    frequency: int | None = None
    frequencyMax: int | None = None
    period: float | None = None
    periodMax: float | None = None
    periodUnit: str | None = None
    dayOfWeek: list[str] = []
    timeOfDay: list[str] = []
    when: list[str] = []
    offset: int | None = None


class Timing(_Lenient):
    _lists = ("event",)
    event: list[str] = []
    repeat: Repeat | None = None
    code: CodeableConcept | None = None


class DoseAndRate(_Lenient):
    type: CodeableConcept | None = None
    doseQuantity: Quantity | None = None
    doseRange: Range | None = None


class Dosage(_Lenient):
    _lists = ("doseAndRate", "additionalInstruction")
    text: str | None = None
    patientInstruction: str | None = None
    timing: Timing | None = None
    asNeededBoolean: bool | None = None
    asNeededCodeableConcept: CodeableConcept | None = None
    route: CodeableConcept | None = None
    doseAndRate: list[DoseAndRate] = []
    maxDosePerPeriod: Ratio | None = None
    maxDosePerAdministration: Quantity | None = None
    maxDosePerLifetime: Quantity | None = None
    # STU3 put these on the Dosage itself; some R4 senders still do
    doseQuantity: Quantity | None = None
    doseRange: Range | None = None


class Ingredient(_Lenient):
    itemCodeableConcept: CodeableConcept | None = None
    itemReference: Reference | None = None
    isActive: bool | None = None
    strength: Ratio | None = None


class Medication(_Lenient):
    _lists = ("ingredient",)
    resourceType: str = "Medication"
    id: str | None = None
    code: CodeableConcept | None = None
    form: CodeableConcept | None = None
    ingredient: list[Ingredient] = []


class MedicationUse(_Lenient):
    """A MedicationRequest or a MedicationStatement (the fields medref reads of either)."""

    _lists = ("dosageInstruction", "dosage", "contained", "reasonCode")
    resourceType: str
    id: str | None = None
    status: str | None = None
    intent: str | None = None
    doNotPerform: bool | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    contained: list[dict[str, Any]] = []
    dosageInstruction: list[Dosage] = []
    dosage: list[Dosage] = []
    reasonCode: list[CodeableConcept] = []

    @property
    def dosages(self) -> list[Dosage]:
        """The dosage instructions (a MedicationStatement's ``dosage``)."""
        return self.dosageInstruction or self.dosage


class Patient(_Lenient):
    id: str | None = None
    birthDate: str | None = None


class Observation(_Lenient):
    id: str | None = None
    status: str | None = None
    code: CodeableConcept | None = None
    valueQuantity: Quantity | None = None
    effectiveDateTime: str | None = None
    issued: str | None = None
