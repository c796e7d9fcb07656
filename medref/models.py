"""Typed models of medref's reference data (pydantic v2).

These models are the schema of ``data/*.json``. They are strict: unknown keys are rejected,
JSON types are not coerced (a number must be a JSON number, not ``"4000"``, ``true`` or
``NaN``; a string a string; a boolean ``true``/``false``; text is never silently stripped),
units, routes, classes and periods come from closed vocabularies, and cross-field rules
(min <= max, single-dose maximum <= daily maximum, seed range unit comparable with the limits,
``memory`` facts never marked verified) are enforced when a file is loaded.

The check engine does not use these classes at run time (it compiles the validated JSON into
plain structures for speed); they are the public, documented view of the data. Because the
engine reads the raw JSON, validation must accept only values the engine can use as they are:
every scalar type below is strict (:data:`Number`, :data:`Integer`, :data:`Flag`, strict
strings). Enums, literals and lists are validated in pydantic's default mode, which for values
parsed from JSON accepts exactly the JSON strings and arrays (arrays become tuples in the model).
"""

from __future__ import annotations

import enum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from medref.units import comparable, convert
from medref.vocab import Severity


@enum.unique
class Unit(enum.StrEnum):
    """Closed set of dose units. Mass units convert; IU converts to mcg per entry;
    milliequivalents (``mEq``: potassium chloride) compare only with themselves."""

    MG = "mg"
    MCG = "mcg"
    G = "g"
    IU = "IU"
    ML = "mL"
    PERCENT = "%"
    PATCH = "patch"
    MCG_PER_HOUR = "mcg/h"
    MEQ = "mEq"


@enum.unique
class Period(enum.StrEnum):
    """The period a maximum or upper limit is counted over."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


@enum.unique
class Route(enum.StrEnum):
    """Routes of administration."""

    PO = "po"
    IV = "iv"
    IM = "im"
    SC = "sc"
    TOPICAL = "topical"
    TRANSDERMAL = "transdermal"
    PR = "pr"
    INTRANASAL = "intranasal"
    INTRA_ARTICULAR = "intra-articular"
    EPIDURAL = "epidural"
    LOCAL = "local"
    INHALED = "inhaled"
    OPHTHALMIC = "ophthalmic"
    SL = "sl"


@enum.unique
class Formulation(enum.StrEnum):
    """How a product releases its drug. Limits may hold for some formulations only."""

    IR = "IR"
    ER = "ER"
    DR = "DR"


@enum.unique
class DoseForm(enum.StrEnum):
    """The unit a product is taken in (what "1 tab", "2 caplets", "1 patch" count)."""

    TABLET = "tablet"
    CAPLET = "caplet"
    CAPSULE = "capsule"
    PATCH = "patch"
    SPRAY = "spray"


@enum.unique
class Kind(enum.StrEnum):
    """What an entry is. ``watch`` entries are recognised agents with no dosing on file."""

    DRUG = "drug"
    SUPPLEMENT = "supplement"
    THERAPY = "therapy"
    WATCH = "watch"


@enum.unique
class TherapeuticClass(enum.StrEnum):
    """Closed vocabulary of therapeutic classes used by the duplicate and interaction rules."""

    ANALGESIC = "analgesic"
    NSAID = "nsaid"
    COX2_INHIBITOR = "cox2-inhibitor"
    OPIOID = "opioid"
    GABAPENTINOID = "gabapentinoid"
    ANTICONVULSANT = "anticonvulsant"
    ANTIDEPRESSANT = "antidepressant"
    SSRI = "ssri"
    SNRI = "snri"
    TCA = "tca"
    SEROTONERGIC = "serotonergic"
    CYP2D6_INHIBITOR = "cyp2d6-inhibitor"
    MUSCLE_RELAXANT = "muscle-relaxant"
    ALPHA2_AGONIST = "alpha2-agonist"
    CNS_DEPRESSANT = "cns-depressant"
    TOPICAL_ANALGESIC = "topical-analgesic"
    LOCAL_ANESTHETIC = "local-anesthetic"
    ANTIHYPERTENSIVE = "antihypertensive"
    BISPHOSPHONATE = "bisphosphonate"
    ANTIRESORPTIVE = "antiresorptive"
    ANABOLIC = "anabolic"
    PTH_ANALOG = "pth-analog"
    SCLEROSTIN_INHIBITOR = "sclerostin-inhibitor"
    MONOCLONAL_ANTIBODY = "monoclonal-antibody"
    VISCOSUPPLEMENT = "viscosupplement"
    DEVICE = "device"
    CELL_THERAPY = "cell-therapy"
    BLOOD_PRODUCT = "blood-product"
    VITAMIN = "vitamin"
    MINERAL = "mineral"
    CALCIUM = "calcium"
    MAGNESIUM = "magnesium"
    STRONTIUM = "strontium"
    TRACE_ELEMENT = "trace-element"
    FATTY_ACID = "fatty-acid"
    PROTEIN = "protein"
    CORTICOSTEROID = "corticosteroid"
    NICOTINE = "nicotine"
    FLUOROQUINOLONE = "fluoroquinolone"
    ANTIBIOTIC = "antibiotic"
    PPI = "ppi"
    ANTICOAGULANT = "anticoagulant"
    SALICYLATE = "salicylate"
    ANTACID = "antacid"
    BENZODIAZEPINE = "benzodiazepine"
    Z_DRUG = "z-drug"
    SEDATIVE_HYPNOTIC = "sedative-hypnotic"
    ANTIPLATELET = "antiplatelet"
    H2_BLOCKER = "h2-blocker"
    ACID_SUPPRESSANT = "acid-suppressant"
    ANTIEMETIC = "antiemetic"
    LAXATIVE = "laxative"
    RANKL_INHIBITOR = "rankl-inhibitor"
    SERM = "serm"
    ANTIHISTAMINE = "antihistamine"
    LONG_ACTING_OPIOID = "long-acting-opioid"
    OPIOID_PARTIAL_AGONIST = "opioid-partial-agonist"
    QT_PROLONGING = "qt-prolonging"
    CYP1A2_INHIBITOR = "cyp1a2-inhibitor"
    CYP3A4_INHIBITOR = "cyp3a4-inhibitor"
    VITAMIN_K_ANTAGONIST = "vitamin-k-antagonist"
    DOAC = "doac"
    HEPARIN = "heparin"
    # everyday drugs of the older fusion patient (recognised for screening, with their rules)
    ACE_INHIBITOR = "ace-inhibitor"
    ARB = "arb"
    DIURETIC = "diuretic"
    THIAZIDE_DIURETIC = "thiazide-diuretic"
    LOOP_DIURETIC = "loop-diuretic"
    BETA_BLOCKER = "beta-blocker"
    CALCIUM_CHANNEL_BLOCKER = "calcium-channel-blocker"
    STATIN = "statin"
    ANTIDIABETIC = "antidiabetic"
    BIGUANIDE = "biguanide"
    SGLT2_INHIBITOR = "sglt2-inhibitor"
    THIAZOLIDINEDIONE = "thiazolidinedione"
    SULFONYLUREA = "sulfonylurea"
    THYROID_HORMONE = "thyroid-hormone"
    ANTIPSYCHOTIC = "antipsychotic"
    ALPHA1_BLOCKER = "alpha1-blocker"
    ANTIMUSCARINIC = "antimuscarinic"
    ANTICHOLINERGIC = "anticholinergic"
    XANTHINE_OXIDASE_INHIBITOR = "xanthine-oxidase-inhibitor"
    LEUKOTRIENE_ANTAGONIST = "leukotriene-antagonist"
    IRON = "iron"
    AROMATASE_INHIBITOR = "aromatase-inhibitor"
    ANTIARRHYTHMIC = "antiarrhythmic"
    DMARD = "dmard"
    DPP4_INHIBITOR = "dpp4-inhibitor"
    FIBRATE = "fibrate"
    VASODILATOR = "vasodilator"
    NITRATE = "nitrate"
    CARDIAC_GLYCOSIDE = "cardiac-glycoside"
    FIVE_ALPHA_REDUCTASE_INHIBITOR = "5-alpha-reductase-inhibitor"
    ESTROGEN = "estrogen"
    VITAMIN_D = "vitamin-d"
    BETA_LACTAMASE_INHIBITOR = "beta-lactamase-inhibitor"
    ANXIOLYTIC = "anxiolytic"
    CHOLINESTERASE_INHIBITOR = "cholinesterase-inhibitor"
    NMDA_ANTAGONIST = "nmda-antagonist"
    TRIPTAN = "triptan"
    MOOD_STABILIZER = "mood-stabilizer"
    INSULIN = "insulin"
    GLP1_RECEPTOR_AGONIST = "glp1-receptor-agonist"
    LOCAL_CORTICOSTEROID = "local-corticosteroid"
    """A corticosteroid sprayed into the nose or inhaled (fluticasone): not a systemic
    corticosteroid for the rules of that class."""


@enum.unique
class Concern(enum.StrEnum):
    """Bone-healing concern level."""

    NONE = "none"
    CAUTION = "caution"
    AVOID = "avoid"


@enum.unique
class Evidence(enum.StrEnum):
    """Strength of the evidence behind a bone-healing concern (clinical-facts §4 scale)."""

    STRONG = "strong"
    MODERATE = "moderate"
    WEAK = "weak"
    ANIMAL_ONLY = "animal-only"
    NONE = "none"
    UNVERIFIED = "unverified"


@enum.unique
class LimitKind(enum.StrEnum):
    """What a :class:`Limit` bounds.

    - ``single``: amount per administration.
    - ``period``: amount per day, week, month or year.
    - ``administrations``: number of administrations per day (or per ``period``: methotrexate
      for arthritis is once weekly).
    - ``duration``: days of continuous use.
    - ``course``: total administrations in a course or lifetime.
    - ``upper-intake``: a Tolerable Upper Intake Level (supplements).
    """

    SINGLE = "single"
    PERIOD = "period"
    ADMINISTRATIONS = "administrations"
    DURATION = "duration"
    COURSE = "course"
    UPPER_INTAKE = "upper-intake"


Number = Annotated[float, Strict()]
"""A JSON number: an integer or a finite float. Not a numeric string, not a boolean."""

Integer = Annotated[int, Strict()]
"""A JSON integer: not ``12.0``, not ``"12"``, not a boolean."""

Flag = Annotated[bool, Strict()]
"""A JSON ``true`` or ``false``: not ``1``, not ``"yes"``."""

Str = Annotated[str, Strict()]
"""A JSON string."""

Id = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                                      max_length=60)]
"""A canonical id: lowercase words joined by hyphens (``zoledronic-acid``). A public contract."""

SourceId = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9-]*$",
                                            max_length=40)]
"""Key into ``data/sources.json`` (``seed``, ``s15``, ``memory`` ...)."""


def _unpadded(v: str) -> str:
    if v != v.strip():
        raise ValueError("must not begin or end with whitespace")
    return v


Text = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=2000),
                 AfterValidator(_unpadded)]
"""Free text: a non-empty JSON string, kept exactly as written (never stripped)."""


def _nonneg_finite(v: float) -> float:
    if not (v >= 0 and v != float("inf")):
        raise ValueError("must be a finite number >= 0")
    return v


Amount = Annotated[float, Strict(), AfterValidator(_nonneg_finite)]
"""A finite JSON number >= 0."""


class _Strict(BaseModel):
    # Scalars are strict per field (Number, Integer, Flag, strict strings): strict=True here
    # would also refuse JSON strings for enums and JSON arrays for tuples in validate_python.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False,
                              defer_build=True)


class Provenance(_Strict):
    """Where a fact comes from, and whether that source was checked.

    ``sources`` are ids from ``data/sources.json``. A fact from memory uses the ``memory``
    source and must have ``verified`` false.
    """

    sources: tuple[SourceId, ...] = Field(min_length=1)
    verified: Flag
    note: Text | None = None

    @model_validator(mode="after")
    def _memory_is_unverified(self) -> Provenance:
        if "memory" in self.sources and self.verified:
            raise ValueError("a fact sourced from memory cannot be verified: true")
        return self


class Condition(_Strict):
    """When a limit or rule applies. Unset fields do not restrict.

    Age bounds are inclusive whole years; ``crcl_below`` is strict (mL/min).
    ``indication`` and ``formulation`` qualify a labeled alternative that the checker reports
    at info level because a sig line does not state them.
    """

    min_age: Integer | None = Field(default=None, ge=0, le=130)
    max_age: Integer | None = Field(default=None, ge=0, le=130)
    crcl_below: Number | None = Field(default=None, gt=0, le=200)
    hepatic_impairment: Flag | None = None
    indication: Text | None = None
    formulation: Text | None = None
    first_day: Flag | None = None
    opioid_tolerant: Flag | None = None
    """The rule applies when the patient's opioid tolerance is this (``false``: not
    opioid-tolerant)."""
    max_weeks_since_surgery: Number | None = Field(default=None, ge=0, le=520)
    """The rule applies up to this many weeks after surgery (acute, postoperative pain)."""
    weight_below: Number | None = Field(default=None, gt=0, le=300)
    """The rule applies below this body weight (kg), strictly."""
    renal_egfr: Flag | None = None
    """The label states the renal threshold (``crcl_below``) as an eGFR (mL/min/1.73 m2,
    metformin): a given eGFR is compared with it directly, a CrCl in its place (and said)."""

    @model_validator(mode="after")
    def _ages_ordered(self) -> Condition:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError("min_age is above max_age")
        if self.renal_egfr is not None and self.crcl_below is None:
            raise ValueError("renal_egfr: it qualifies crcl_below, which is not set")
        return self

    @property
    def needs_context(self) -> bool:
        """True when the condition depends on patient context (age, renal, hepatic)."""
        return (self.min_age is not None or self.max_age is not None
                or self.crcl_below is not None or self.hepatic_impairment is not None
                or self.opioid_tolerant is not None or self.max_weeks_since_surgery is not None
                or self.weight_below is not None)

    @property
    def qualified(self) -> bool:
        """True when the condition names an indication, formulation or first day."""
        return (self.indication is not None or self.formulation is not None
                or self.first_day is not None)


class Limit(Provenance):
    """A labeled (or guideline) maximum, with its source.

    Default limits (no ``when``) are enforced at their ``severity``. Context limits (age,
    CrCl, hepatic) are enforced when the context is given. Qualified limits (indication,
    formulation, first day) are reported at info level.
    """

    kind: LimitKind
    amount: Amount
    unit: Unit | None = None
    period: Period | None = None
    routes: tuple[Route, ...] | None = None
    formulations: tuple[Formulation, ...] | None = None
    """The formulations the limit holds for (IR limits do not apply to ER products and the
    other way round); unset: every formulation."""
    when: Condition | None = None
    severity: Severity = Severity.ERROR
    basis: Literal["total", "supplemental", "elemental", "compound"] | None = None
    label: Text | None = None
    per_kg: Flag = False
    """The amount is per kg of body weight (``75 mg/kg/day``): checked when a weight is
    given."""

    @model_validator(mode="after")
    def _shape(self) -> Limit:
        needs_unit = self.kind in (LimitKind.SINGLE, LimitKind.PERIOD, LimitKind.UPPER_INTAKE)
        if needs_unit and self.unit is None:
            raise ValueError(f"a {self.kind.value} limit needs a unit")
        if not needs_unit and self.unit is not None:
            raise ValueError(f"a {self.kind.value} limit takes no unit")
        needs_period = self.kind in (LimitKind.PERIOD, LimitKind.UPPER_INTAKE)
        if needs_period and self.period is None:
            raise ValueError(f"a {self.kind.value} limit needs a period")
        # administrations are per day unless a period says otherwise (methotrexate: a week)
        if (not needs_period and self.period is not None
                and self.kind is not LimitKind.ADMINISTRATIONS):
            raise ValueError(f"a {self.kind.value} limit takes no period")
        if self.amount <= 0:
            raise ValueError("a limit amount must be above 0")
        return self


class Salt(Provenance):
    """A salt or compound an ingredient is written as, and how much of the ingredient (base
    or elemental) one unit of it holds: naproxen sodium 550 mg holds naproxen 500 mg."""

    names: tuple[Text, ...] = Field(min_length=1)
    base_per_salt: Number = Field(gt=0, le=1)


class TypicalDose(_Strict):
    """The seed document's typical regimen, kept exactly as the seed states it.

    ``min``/``max`` are per administration (``basis: administration``) or per day.
    """

    text: Text
    min: Amount
    max: Amount
    unit: Unit
    basis: Literal["administration", "day"] = "administration"
    frequency: Text
    frequency_text: Text | None = None
    sources: tuple[SourceId, ...] = ("seed",)

    @model_validator(mode="after")
    def _ordered(self) -> TypicalDose:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if "seed" not in self.sources:
            raise ValueError("a typical dose must cite the seed")
        return self


class BoneHealing(Provenance):
    """A bone-healing (fusion, fracture, BMD) concern with its rationale and evidence.

    ``high_dose`` is a per-day amount above which the concern is raised one severity.
    """

    concern: Concern
    severity: Severity | None = None
    rationale: Text
    evidence: Evidence
    high_dose: Amount | None = None
    high_dose_unit: Unit | None = None

    @model_validator(mode="after")
    def _consistent(self) -> BoneHealing:
        if self.concern is Concern.NONE and self.severity is not None:
            raise ValueError("severity must be unset when concern is none")
        if self.concern is not Concern.NONE and self.severity is None:
            raise ValueError("severity is required when there is a concern")
        if self.concern is Concern.AVOID and self.severity is Severity.INFO:
            raise ValueError("an avoid concern cannot be info")
        if (self.high_dose is None) != (self.high_dose_unit is None):
            raise ValueError("high_dose and high_dose_unit go together")
        return self


class SourcedNumber(Provenance):
    """A number with its provenance (MME factor, IU per mcg, elemental fraction)."""

    value: Number = Field(gt=0)


class Rxcui(Provenance):
    """An RxNorm ingredient code (RxCUI) with its provenance."""

    value: Annotated[str, StringConstraints(strict=True, pattern=r"^\d{1,9}$")]


class ContextRule(Provenance):
    """A patient-context rule that is not a dose limit (contraindicated, avoid, adjust)."""

    when: Condition
    action: Literal["contraindicated", "avoid", "adjust", "caution"]
    message: Text
    severity: Severity
    flag: Literal["beers"] | None = None
    """``beers``: an AGS Beers Criteria (2023) listing for older adults, reported as MR604
    (``message`` is our own one-line reason; ``sources`` cite the criteria)."""

    @model_validator(mode="after")
    def _needs_context(self) -> ContextRule:
        if not self.when.needs_context:
            raise ValueError("a context rule needs a patient-context condition (age, crcl_below, "
                             "hepatic_impairment, opioid_tolerant, max_weeks_since_surgery or "
                             "weight_below)")
        return self


class Entry(_Strict):
    """One drug, supplement, advanced therapy or recognised agent.

    The canonical ``id`` is a public contract. ``checkable`` is false for therapies with no
    dose to check (cell therapies, PRP, device-class hyaluronic acid): a regimen naming them is
    recognised and reported as "no limit on file".
    """

    id: Id
    kind: Kind
    name: Text
    aliases: tuple[Text, ...] = ()
    classes: tuple[TherapeuticClass, ...] = ()
    routes: tuple[Route, ...] = ()
    default_route: Route | None = None
    checkable: Flag = True
    typical: TypicalDose | None = None
    limits: tuple[Limit, ...] = ()
    iu_per_mcg: SourcedNumber | None = None
    amount_basis: Literal["elemental", "compound", "ambiguous", "not-applicable"] | None = None
    elemental_fraction: SourcedNumber | None = None
    mme_factor: SourcedNumber | None = None
    rxcui: Rxcui | None = None
    bone_healing: BoneHealing
    context_rules: tuple[ContextRule, ...] = ()
    salts: tuple[Salt, ...] = ()
    default_formulation: Formulation | None = None
    """The formulation a line is taken to be when it does not say (and says so); unset: IR
    for an entry with formulation-specific limits."""
    function: Text | None = None
    mechanism: Text | None = None
    side_effects: tuple[Text, ...] = ()
    regulatory: Text | None = None
    notes: tuple[Provenance | Text, ...] = ()
    sources: tuple[SourceId, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_field(self) -> Entry:
        if self.default_route is not None and self.default_route not in self.routes:
            raise ValueError(f"default_route: {self.default_route.value!r} is not in routes")
        if (self.checkable and self.kind is not Kind.WATCH and self.typical is None
                and "seed" in self.sources):
            raise ValueError("typical: a checkable entry from the seed needs its typical dose "
                             "(or checkable: false)")
        if self.kind is Kind.SUPPLEMENT and self.amount_basis is None:
            raise ValueError("amount_basis: a supplement must say whether its amount is elemental")
        iu = self.iu_per_mcg.value if self.iu_per_mcg else None
        _check_limits(self.limits, self.typical, iu)
        return self


def _check_limits(limits: tuple[Limit, ...], typical: TypicalDose | None,
                  iu_per_mcg: float | None) -> None:
    """Cross-limit rules: unit comparability and single <= per-day for the same route/context."""
    for i, lim in enumerate(limits):
        if typical is not None and lim.unit is not None and not comparable(
                typical.unit.value, lim.unit.value, iu_per_mcg):
            raise ValueError(
                f"limits[{i}].unit: {lim.unit.value!r} cannot be compared with the typical "
                f"dose unit {typical.unit.value!r}")
    singles = [x for x in limits if x.kind is LimitKind.SINGLE]
    days = [x for x in limits if x.kind is LimitKind.PERIOD and x.period is Period.DAY]
    for s in singles:
        si = limits.index(s)
        for d in days:
            if s.when != d.when or s.routes != d.routes:
                continue
            if s.unit is None or d.unit is None:
                continue  # Limit._shape already rejects this
            if not comparable(s.unit.value, d.unit.value, iu_per_mcg):
                raise ValueError(f"limits[{si}].unit: single and per-day limits use units that "
                                 "cannot be compared")
            if convert(s.amount, s.unit.value, d.unit.value, iu_per_mcg) > d.amount + 1e-9:
                raise ValueError(
                    f"limits[{si}].amount: single-dose maximum {s.amount:g} {s.unit.value} "
                    f"is above the per-day "
                    f"maximum {d.amount:g} {d.unit.value}")


class Source(_Strict):
    """A cited source: the seed, an FDA label, FNB/NIH tables, CDC 2022, a study."""

    id: SourceId
    kind: Literal["seed", "label", "secondary", "guideline", "table", "study", "database",
                  "calc", "memory"]
    short: Text
    citation: Text
    url: Text | None = None


class Component(_Strict):
    """One ingredient of a product strength: the amount per unit the label states, and the
    amount of the ingredient the limits use when the label states a salt (``base_amount``:
    naproxen sodium 550 mg is naproxen 500 mg)."""

    ingredient: Id
    amount: Amount
    unit: Unit
    base_amount: Amount | None = None
    salt: Text | None = None


class Strength(Provenance):
    """One marketed strength of a product: its components in the product's ingredient order,
    how prescriptions write it (``label``: ``10/325``), and its RxNorm code when one was found
    in a source. ``legacy`` strengths are no longer marketed: read so old orders parse, never
    assumed."""

    label: Text
    components: tuple[Component, ...] = Field(min_length=1)
    legacy: Flag = False
    rxcui: Annotated[str, StringConstraints(strict=True, pattern=r"^\d{1,9}$")] | None = None


class NamedStrength(_Strict):
    """A product name that implies a strength: ``Tylenol #3`` is the 300/30 strength.

    A name ending in `` #N`` numbers the strength: it is also read as ``<name> no. N``, and
    the number after any other name of the product (``APAP/codeine #3`` makes ``acetaminophen
    with codeine #3`` and ``... no. 3`` that strength too), as a strength label starting with
    ``#N`` does (``#3 (300/30)``)."""

    name: Text
    strength: Text


class Product(Provenance):
    """A marketed product (a brand or a generic product line): its names, ingredients,
    strengths, dose form, formulation and route. Its ingredients' limits apply to what it
    delivers; a line naming it is read in its units (``1 tab`` of Percocet 10/325 is 10 mg
    oxycodone and 325 mg acetaminophen)."""

    id: Id
    name: Text
    aliases: tuple[Text, ...] = ()
    named_strengths: tuple[NamedStrength, ...] = ()
    ingredients: tuple[Id, ...] = Field(min_length=1)
    dose_form: DoseForm
    formulation: Formulation
    route: Route
    strengths: tuple[Strength, ...] = Field(min_length=1)
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Product:
        labels = [s.label for s in self.strengths]
        if len(set(labels)) != len(labels):
            raise ValueError("strengths: two strengths share a label")
        for i, s in enumerate(self.strengths):
            got = tuple(c.ingredient for c in s.components)
            if got != self.ingredients:
                raise ValueError(f"strengths[{i}].components: ingredients {list(got)} are not "
                                 f"the product's {list(self.ingredients)}, in that order")
        for i, n in enumerate(self.named_strengths):
            if n.strength not in labels:
                raise ValueError(f"named_strengths[{i}].strength: {n.strength!r} is not one "
                                 "of the product's strength labels")
        if all(s.legacy for s in self.strengths):
            raise ValueError("strengths: at least one strength must be marketed (not legacy)")
        return self


_CLASS_NAMES = frozenset(c.value for c in TherapeuticClass)


class RuleModifier(Provenance):
    """Something that changes an interaction rule's finding when present: a drug that
    mitigates the risk (a PPI with an NSAID and an anticoagulant), or a risk factor that
    raises it (age over 65, a systemic corticosteroid). ``present`` selectors are canonical
    ids or ``class:NAME`` among the regimen's other items; ``min_age`` is inclusive.
    A ``raises`` modifier may set a higher ``severity``; an unverified one is at most a
    warning (the alert policy)."""

    effect: Literal["mitigates", "raises"]
    present: tuple[Str, ...] = ()
    min_age: Integer | None = Field(default=None, ge=0, le=130)
    severity: Severity | None = None
    text: Text

    @model_validator(mode="after")
    def _one_trigger(self) -> RuleModifier:
        if bool(self.present) == (self.min_age is not None):
            raise ValueError("present: give either present (selectors) or min_age, not both "
                             "or neither")
        if self.effect == "mitigates" and self.severity is not None:
            raise ValueError("severity: a mitigating modifier does not set a severity")
        return self


class DoseCap(_Strict):
    """The most of a pair rule's ``a`` drug a day when the ``b`` drug is taken too (a
    label's "do not exceed 20 mg simvastatin daily with amlodipine"). The rule then reads the
    dose: above the cap it is a labeled limit exceeded (an error from a verified source), at or
    below it info, and a dose it cannot read keeps the rule's own severity."""

    amount: Number = Field(gt=0)
    unit: Unit


class InteractionRule(Provenance):
    """A regimen-wide rule kept as data: an interaction, a duplicate or a timing rule.

    ``pair`` rules fire when one item matches ``a`` and a different item matches ``b``.
    ``group`` rules fire when at least ``min_count`` distinct products match ``members``
    (and, if ``requires`` is set, at least one product matches it too).
    Selectors are canonical ids or ``class:NAME``.
    """

    id: Id
    kind: Literal["pair", "group"]
    category: Literal["interaction", "duplicate-therapy", "administration"]
    a: tuple[Str, ...] = ()
    b: tuple[Str, ...] = ()
    members: tuple[Str, ...] = ()
    requires: tuple[Str, ...] = ()
    min_count: Integer = Field(default=2, ge=2, le=10)
    level: Literal["contraindicated", "major", "moderate", "minor", "unverified"]
    severity: Severity
    title: Text
    mechanism: Text
    action: Text
    problem: Id | None = None
    """The clinical problem the rule describes (``serotonin-toxicity``, ``cns-depression``,
    ``bleeding``): rules with the same problem among the same drugs give one finding."""
    modifiers: tuple[RuleModifier, ...] = ()
    """Drugs that mitigate, and risk factors that raise, the finding (named in it)."""
    dose_cap: DoseCap | None = None
    """For a pair rule: the daily cap of the ``a`` drug (canonical ids) with the ``b`` drug."""

    @model_validator(mode="after")
    def _shape(self) -> InteractionRule:
        if self.dose_cap is not None:
            if self.kind != "pair":
                raise ValueError("dose_cap: only a pair rule caps the dose of its a drug")
            if any(sel.startswith("class:") for sel in self.a):
                raise ValueError("dose_cap: a capped rule names its a drugs by canonical id, "
                                 "not by class")
        if self.kind == "pair":
            for name in ("a", "b"):
                if not getattr(self, name):
                    raise ValueError(f"{name}: a pair rule needs a and b")
            if self.members:
                raise ValueError("members: a pair rule takes a and b, not members")
        if self.kind == "group":
            if not self.members:
                raise ValueError("members: a group rule needs members")
            for name in ("a", "b"):
                if getattr(self, name):
                    raise ValueError(f"{name}: a group rule takes members, not a or b")
        for name in ("a", "b", "members", "requires"):
            for i, sel in enumerate(getattr(self, name)):
                if sel.startswith("class:") and sel[6:] not in _CLASS_NAMES:
                    raise ValueError(f"{name}[{i}]: unknown class {sel[6:]!r}")
        return self




class PolicyValue(Provenance):
    """A number medref's rules use that is not a per-product limit (MME thresholds ...)."""

    value: Number = Field(gt=0)


class FactorTable(Provenance):
    """Names the MME conversion-factor table in use (its version is part of the output)."""

    name: Text
    version: Text


class Policy(_Strict):
    """``data/policy.json``: regimen-wide thresholds, each with its provenance."""

    mme_factor_table: FactorTable
    mme_warning: PolicyValue
    mme_high: PolicyValue
    nsaid_early_window_weeks: PolicyValue

    @model_validator(mode="after")
    def _ordered(self) -> Policy:
        if self.mme_warning.value >= self.mme_high.value:
            raise ValueError("mme_warning must be below mme_high")
        return self


Drug = Entry
"""Alias of :class:`Entry` (drugs and advanced therapies use the same model)."""
Supplement = Entry
"""Alias of :class:`Entry` (supplements use the same model, with ``kind: supplement``)."""


__all__ = [
    "BoneHealing",
    "Component",
    "Concern",
    "Condition",
    "ContextRule",
    "DoseCap",
    "DoseForm",
    "Drug",
    "Entry",
    "Evidence",
    "FactorTable",
    "Formulation",
    "InteractionRule",
    "Kind",
    "Limit",
    "LimitKind",
    "NamedStrength",
    "Period",
    "Policy",
    "PolicyValue",
    "Product",
    "Provenance",
    "Route",
    "Rxcui",
    "Salt",
    "Severity",
    "Source",
    "SourcedNumber",
    "Strength",
    "Supplement",
    "TherapeuticClass",
    "TypicalDose",
    "Unit",
]
