"""Properties of the check engine, tested with hypothesis.

- unit invariance: the same amount written in another unit gives the same findings;
- order invariance: shuffling a regimen's lines changes no finding (lines mapped back);
- monotonicity: a larger dose or a more frequent schedule is never judged less severely;
- robustness: ``check()`` raises nothing but :class:`medref.errors.MedrefError` on any text.

Settings are per test (modest ``max_examples``, no deadline); no profile is registered.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from medref.api import check
from medref.errors import MedrefError
from medref.reference import load_reference
from medref.result import CheckResult, Context
from medref.vocab import SEVERITY_RANK

REF = load_reference()

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

CONTEXTS = st.builds(
    Context,
    age=st.none() | st.sampled_from([17, 30, 60, 80]),
    crcl=st.none() | st.sampled_from([20.0, 25.0, 40.0, 90.0]),
    hepatic_impairment=st.none() | st.booleans(),
    weeks_since_surgery=st.none() | st.sampled_from([2.0, 4.0, 30.0, 52.0]),
)

Key = tuple[str, str, tuple[str, ...], tuple[int, ...]]


def keys(result: CheckResult, line_map: Sequence[int] | None = None) -> Counter[Key]:
    """Findings as (code, severity, items, lines), lines mapped through ``line_map``."""
    out: Counter[Key] = Counter()
    for f in result.findings:
        lines = f.lines if line_map is None else tuple(sorted(line_map[i] for i in f.lines))
        out[(f.code, f.severity, f.items, lines)] += 1
    return out


# -- unit invariance ----------------------------------------------------------------------------

MG_PRODUCTS = ["acetaminophen", "Tylenol", "ibuprofen", "tramadol", "ketorolac", "naproxen",
               "gabapentin", "celecoxib", "methocarbamol", "oxycodone", "morphine",
               "alendronate", "zoledronic acid", "calcium", "magnesium", "boron", "manganese",
               "collagen", "omega-3", "strontium"]
FREQS = ["daily", "bid", "tid", "qid", "q4h", "q6h", "q8h", "q4-6h prn", "weekly", "monthly",
         "yearly"]


@SETTINGS
@given(product=st.sampled_from(MG_PRODUCTS), mg=st.integers(1, 120).map(lambda k: k * 50),
       freq=st.sampled_from(FREQS), ctx=CONTEXTS)
@example(product="acetaminophen", mg=1000, freq="q6h", ctx=Context())
@example(product="acetaminophen", mg=500, freq="q6h", ctx=Context())
@example(product="acetaminophen", mg=1000, freq="q4h", ctx=Context())
def test_grams_and_milligrams_agree(product: str, mg: int, freq: str, ctx: Context) -> None:
    """``1 g`` and ``1000 mg`` (``0.5 g`` and ``500 mg``, ...) give the same findings."""
    in_mg = check([f"{product} {mg} mg {freq}"], ctx)
    in_g = check([f"{product} {mg / 1000:g} g {freq}"], ctx)
    assert keys(in_g) == keys(in_mg)


@SETTINGS
@given(product=st.sampled_from(MG_PRODUCTS), mg=st.integers(1, 5000), freq=st.sampled_from(FREQS),
       ctx=CONTEXTS)
@example(product="boron", mg=1, freq="daily", ctx=Context())
def test_micrograms_and_milligrams_agree(product: str, mg: int, freq: str, ctx: Context) -> None:
    """``1000 mcg`` and ``1 mg`` give the same findings for a product dosed in mg."""
    in_mg = check([f"{product} {mg} mg {freq}"], ctx)
    in_mcg = check([f"{product} {mg * 1000} mcg {freq}"], ctx)
    assert keys(in_mcg) == keys(in_mg)


@SETTINGS
@given(mcg=st.integers(1, 500), freq=st.sampled_from(FREQS), ctx=CONTEXTS,
       name=st.sampled_from(["vitamin D", "vitamin D3", "cholecalciferol"]))
@example(mcg=125, freq="daily", ctx=Context(), name="vitamin D")
@example(mcg=100, freq="daily", ctx=Context(), name="vitamin D")
def test_vitamin_d_iu_and_micrograms_agree(mcg: int, freq: str, ctx: Context, name: str) -> None:
    """Vitamin D at 40 IU = 1 mcg: ``5000 IU`` and ``125 mcg`` give the same findings."""
    assert REF.entries["vitamin-d3"]["iu_per_mcg"]["value"] == 40
    in_mcg = check([f"{name} {mcg} mcg {freq}"], ctx)
    in_iu = check([f"{name} {mcg * 40} IU {freq}"], ctx)
    assert keys(in_iu) == keys(in_mcg)


# -- order invariance ---------------------------------------------------------------------------

POOL = [
    "tramadol 50-100 mg q4-6h prn", "acetaminophen 650 mg q6h", "Tylenol 500 mg q6h",
    "acetaminophen 1000 mg q6h", "ibuprofen 800 mg tid", "Advil 400 mg q8h",
    "ketorolac 10 mg q6h x 7 days", "oxycodone 5 mg q6h", "hydromorphone 2 mg q6h",
    "morphine 15 mg q4h prn", "fluoxetine 20 mg daily", "duloxetine 60 mg daily",
    "gabapentin 300 mg tid", "pregabalin 150 mg bid", "cyclobenzaprine 10 mg tid x 4 weeks",
    "tizanidine 4 mg q6h", "clonidine 0.1 mg bid", "amitriptyline 25 mg qhs",
    "methocarbamol 1500 mg qid", "naproxen 500 mg bid", "celecoxib 200 mg bid",
    "alendronate 70 mg weekly", "zoledronic acid 5 mg iv yearly", "teriparatide 20 mcg sc daily",
    "calcium citrate 500 mg bid", "calcium 1200 mg bid", "vitamin D 5000 IU daily",
    "magnesium 400 mg daily", "strontium 680 mg daily", "boron 25 mg daily",
    "vitamin K2 100 mcg daily", "omega-3 1 g daily", "prednisone 10 mg daily", "smoking",
    "PRP", "foobar 10 mg daily", "Tylenol 2 tablets q6h", "ibuprofen 800 mg",
    "lidocaine 5% patch 1 patch daily", "capsaicin 0.075% cream tid", "800 mg daily",
    "ibuprofen 800 mg q0h",
]


@SETTINGS
@given(data=st.data(), lines=st.lists(st.sampled_from(POOL), min_size=2, max_size=8),
       ctx=CONTEXTS)
def test_line_order_does_not_matter(data: st.DataObject, lines: list[str], ctx: Context) -> None:
    """Shuffling the lines gives the same findings, once line indexes are mapped back."""
    perm = data.draw(st.permutations(range(len(lines))))
    shuffled = [lines[i] for i in perm]
    original = check(lines, ctx)
    reordered = check(shuffled, ctx)
    # line i of the shuffled regimen is line perm[i] of the original one
    assert keys(reordered, perm) == keys(original)
    assert [reordered.items[i].product for i in range(len(lines))] == [
        original.items[perm[i]].product for i in range(len(lines))]


# -- monotonicity -------------------------------------------------------------------------------

MONO_PRODUCTS = ["tramadol", "acetaminophen", "ibuprofen", "ketorolac", "oxycodone",
                 "hydromorphone", "morphine", "fluoxetine", "gabapentin", "pregabalin",
                 "cyclobenzaprine", "tizanidine", "naproxen", "celecoxib", "methocarbamol",
                 "clonidine", "duloxetine", "amitriptyline", "alendronate", "zoledronic acid",
                 "romosozumab", "teriparatide", "calcium", "magnesium", "vitamin D", "boron",
                 "manganese", "strontium"]
UNITS = {"vitamin D": "IU", "teriparatide": "mcg"}
DOSES = [0.5, 1, 2, 5, 10, 20, 50, 70, 100, 200, 400, 650, 800, 1000, 2000, 5000]
# Each frequency allows at least as many administrations as the one before it in every window
# (1, 7, 30 and 365 days), so moving right never lowers a worst-case count.
ORDERED_FREQS = ["yearly", "monthly", "weekly", "daily", "bid", "tid", "qid", "q4h", "q2h"]
OTHERS = st.lists(st.sampled_from(["acetaminophen 500 mg q6h", "ibuprofen 400 mg tid",
                                   "oxycodone 5 mg q6h", "calcium 500 mg bid"]), max_size=2)


def _line(product: str, dose: float, freq: str) -> str:
    return f"{product} {dose:g} {UNITS.get(product, 'mg')} {freq}"


def _worst_by_product(result: CheckResult) -> dict[str, int]:
    """Highest severity rank per product. MR104 (dose below the typical range) is left out:
    it is the one finding that a larger dose is meant to clear."""
    worst: dict[str, int] = {}
    for f in result.findings:
        if f.code == "MR104":
            continue
        for eid in f.items:
            worst[eid] = max(worst.get(eid, -1), SEVERITY_RANK[f.severity])
    return worst


def _max_findings(result: CheckResult) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.code, f.items) for f in result.findings if f.code in ("MR102", "MR301")}


def _assert_not_lower(low: CheckResult, high: CheckResult) -> None:
    w_low, w_high = _worst_by_product(low), _worst_by_product(high)
    for eid, rank in w_low.items():
        assert w_high.get(eid, -1) >= rank, (eid, low.findings, high.findings)
    assert _max_findings(low) <= _max_findings(high)


@SETTINGS
@given(product=st.sampled_from(MONO_PRODUCTS),
       doses=st.lists(st.integers(0, len(DOSES) - 1), min_size=2, max_size=2).map(sorted),
       freq=st.sampled_from(ORDERED_FREQS), ctx=CONTEXTS, others=OTHERS)
def test_raising_the_dose_never_lowers_severity(product: str, doses: list[int], freq: str,
                                                 ctx: Context, others: list[str]) -> None:
    """A larger dose keeps every product's highest severity and every daily-max finding."""
    low = check([*others, _line(product, DOSES[doses[0]], freq)], ctx)
    high = check([*others, _line(product, DOSES[doses[1]], freq)], ctx)
    _assert_not_lower(low, high)


@SETTINGS
@given(product=st.sampled_from(MONO_PRODUCTS), dose=st.sampled_from(DOSES),
       freqs=st.lists(st.integers(0, len(ORDERED_FREQS) - 1), min_size=2, max_size=2)
       .map(sorted), ctx=CONTEXTS, others=OTHERS)
def test_raising_the_frequency_never_lowers_severity(product: str, dose: float,
                                                      freqs: list[int], ctx: Context,
                                                      others: list[str]) -> None:
    """A more frequent schedule keeps every product's highest severity and daily-max finding."""
    low = check([*others, _line(product, dose, ORDERED_FREQS[freqs[0]])], ctx)
    high = check([*others, _line(product, dose, ORDERED_FREQS[freqs[1]])], ctx)
    _assert_not_lower(low, high)


@pytest.mark.parametrize(("low", "high"), [
    ("acetaminophen 1000 mg q6h", "acetaminophen 1000 mg q4h"),
    ("acetaminophen 650 mg q6h", "acetaminophen 1000 mg q6h"),
    ("tramadol 50 mg q6h", "tramadol 50-100 mg q4-6h prn"),
    ("alendronate 70 mg weekly", "alendronate 70 mg daily"),
    ("ibuprofen 400 mg tid", "ibuprofen 800 mg qid"),
])
def test_monotonicity_examples(low: str, high: str) -> None:
    """Hand-picked pairs across a limit."""
    _assert_not_lower(check([low]), check([high]))


def test_ordered_freqs_are_ordered() -> None:
    """The frequency ladder used above really is non-decreasing in every window."""
    from medref.sig import parse_line
    counts = []
    for word in ORDERED_FREQS:
        f = parse_line(f"ibuprofen 1 mg {word}", REF.resolve).frequency
        assert f is not None
        counts.append(tuple(f.max_in(d) for d in (1, 7, 30, 365)))
    for a, b in itertools.pairwise(counts):
        assert all(x <= y for x, y in zip(a, b, strict=True)), (a, b)


# -- robustness ---------------------------------------------------------------------------------

NAMES = sorted({n for e in REF.entries.values()
                for n in (e["id"], e["name"], *e.get("aliases", ()))})
TOKENS = ["800", "mg", "mcg", "g", "IU", "%", "patch", "x", "for", "-", "q4-6h", "qd", "bid",
          "tid", "qid", "prn", "weekly", "monthly", "yearly", "every", "6", "hours", "days",
          "weeks", "1,000", "0", "-5", ".5", "1e400", "2", "tablets", "po", "iv", "topical",
          "once", "daily", "q0h", "q25h", "qhs", "x 14 months", "x 7 days", "9999999",
          "10000001", "\x00", "\u2014", "\u200f"]
LINES = st.one_of(
    st.text(max_size=60),
    st.builds(lambda n, t: f"{n} {' '.join(t)}", st.sampled_from(NAMES),
              st.lists(st.sampled_from(TOKENS), max_size=8)),
)


@SETTINGS
@given(lines=st.lists(LINES, max_size=6), ctx=CONTEXTS)
def test_check_raises_only_medref_errors(lines: list[str], ctx: Context) -> None:
    """On arbitrary text lines, check() returns a result or raises a MedrefError."""
    try:
        result = check(lines, ctx)
    except MedrefError:
        return
    assert len(result.items) == len(lines)


# -- the item's enforced maximum ----------------------------------------------------------------

DAY_MAX_LINES = ["tramadol 50 mg po q6h", "acetaminophen 650 mg po q6h", "gabapentin 300 mg tid",
                 "cyclobenzaprine 10 mg tid", "fluoxetine 20 mg daily", "tizanidine 4 mg q8h"]


@SETTINGS
@given(st.sampled_from(DAY_MAX_LINES), CONTEXTS)
def test_item_daily_max_is_the_validators_daily_max(line: str, ctx: Context) -> None:
    """The maximum a checked line is measured against (``daily_max``, ``percent_of_max``) is
    the one :func:`medref.validators.daily_max` gives for that context: context limits that
    apply (age, CrCl, hepatic) lower it, as they do in the findings."""
    from medref.validators import daily_max
    item = check([line], ctx).items[0]
    assert item.product is not None
    expected = daily_max(item.product, "mg", context=ctx)
    assert expected is not None
    assert item.daily_max == pytest.approx(expected[0])
    assert item.daily_total is not None
    assert item.percent_of_max == round(100 * item.daily_total / expected[0], 1)


# -- interaction rules over bit masks -------------------------------------------------------

_KB = REF.knowledge
_NAMED = sorted({i for r in _KB.rules
                 for i in r.sel_a | r.sel_b | r.sel_members | r.sel_requires})
_OTHERS = sorted(set(_KB.bits) - set(_NAMED))[:20]


@SETTINGS
@given(st.sets(st.sampled_from(_NAMED + _OTHERS), max_size=10))
def test_rules_over_masks_fire_as_over_sets_and_every_firing_rule_is_a_candidate(
        ingredients: set[str]) -> None:
    """``mask_hits`` equals ``rule_hits`` (the set form), and ``candidates`` (the prefilter
    the interaction check evaluates) never leaves out a rule that fires."""
    from medref.checks.interactions import candidates, mask_hits, rule_hits
    present, cand = candidates(_KB, ingredients)
    assert present == sum(_KB.bits[i] for i in ingredients)
    for n, rule in enumerate(_KB.rules):
        hits = rule_hits(rule, frozenset(ingredients))
        assert mask_hits(rule, present) == sum(_KB.bits[i] for i in hits), rule.id
        if hits:
            assert cand >> n & 1, f"{rule.id} fires on {sorted(ingredients)}: no candidate"
