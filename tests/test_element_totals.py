"""One mineral from several sources (MR402): calcium carbonate with calcium citrate, magnesium
oxide with magnesium glycinate. The upper level counts elemental intake from every source;
each source alone is MR401's."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import medref
from medref.result import CheckResult, Context, Finding

AGE60 = Context(age=60)
"""Calcium: 2,000 mg/day at 51 and over; magnesium: 350 mg/day from supplements."""


def codes(result: CheckResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def test_two_calcium_sources_each_within_the_level_sum_above_it() -> None:
    r = medref.check(["calcium carbonate 1250 mg po bid", "calcium citrate 600 mg po bid"],
                     AGE60)
    (f,) = codes(r, "MR402")
    assert f.severity == "warning" and f.category == "upper-limit"
    assert f.items == ("calcium-carbonate", "calcium-citrate") and f.lines == (0, 1)
    assert "2,200 mg/day elemental from 2 sources" in f.message
    assert "1,000 mg from 'calcium carbonate 1250 mg po bid'" in f.message
    assert "Calcium citrate taken as elemental" in f.message and "2,000 mg/day" in f.message
    assert not codes(r, "MR401")
    (dup,) = codes(r, "MR302")
    assert dup.severity == "info"  # the total is computed: the reminder is a heads-up


def test_within_the_level_together_there_is_no_finding() -> None:
    r = medref.check(["calcium carbonate 1250 mg po daily", "calcium citrate 500 mg po daily"],
                     AGE60)
    assert not codes(r, "MR402") and not codes(r, "MR401")
    assert r.exit_code("warning") == 0


def test_one_source_above_the_level_alone_is_mr401_not_mr402() -> None:
    r = medref.check(["calcium carbonate 1250 mg po bid", "calcium citrate 2100 mg po daily"],
                     AGE60)
    assert [f.items for f in codes(r, "MR401")] == [("calcium-citrate",)]
    assert not codes(r, "MR402")


def test_magnesium_oxide_and_glycinate() -> None:
    r = medref.check(["magnesium oxide 400 mg po daily", "magnesium glycinate 200 mg po daily"],
                     AGE60)
    (f,) = codes(r, "MR402")
    assert f.items == ("magnesium-glycinate", "magnesium-oxide")
    assert "441.3 mg/day" in f.message and "350 mg/day" in f.message
    assert "supplements and medicines only" in f.message


def test_the_age_band_decides_and_without_an_age_it_is_asked_for() -> None:
    lines = ["calcium carbonate 1250 mg po bid", "calcium citrate 600 mg po bid"]
    assert not codes(medref.check(lines, Context(age=30)), "MR402")  # 2,500 mg at 19-50
    r = medref.check(lines, Context())
    (f,) = codes(r, "MR402")
    assert "most conservative adult band" in f.message
    (need,) = codes(r, "MR602")
    assert "calcium upper-limit age band" in need.message


def test_a_line_without_a_dose_is_not_summed() -> None:
    r = medref.check(["calcium carbonate 1250 mg po bid", "calcium citrate"], AGE60)
    assert not codes(r, "MR402") and codes(r, "MR003")


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.sampled_from([25, 40, 60, 80]))
def test_mr402_fires_exactly_when_the_sum_alone_crosses_the_level(
        carbonate_tabs: int, citrate_x100: int, age: int) -> None:
    """Carbonate 500 mg tablets (200 mg elemental each) and citrate taken as elemental: MR402
    iff each is within the band's level and their sum is above it."""
    carbonate = 200.0 * carbonate_tabs
    citrate = 100.0 * citrate_x100 * 2
    level = 2500.0 if age <= 50 else 2000.0
    lines = [f"calcium carbonate 500 mg {carbonate_tabs} tabs po daily",
             f"calcium citrate {citrate_x100 * 100} mg po bid"]
    r = medref.check(lines, Context(age=age))
    expected = carbonate <= level and citrate <= level and carbonate + citrate > level
    assert bool(codes(r, "MR402")) == expected, (lines, age, r.findings)


_LINES = ["calcium carbonate 1250 mg bid", "calcium citrate 600 mg bid", "Tums 500 mg tid",
          "magnesium oxide 400 mg daily", "magnesium glycinate 200 mg bid", "calcium 500 mg daily",
          "oxycodone 10 mg q4h", "Percocet 10/325 1 tab q6h", "tramadol 50 mg q6h",
          "ibuprofen 400 mg tid", "vitamin D3 2000 IU daily", "levothyroxine 100 mcg daily",
          "calcium citrate", "magnesium oxide 400 mg"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(_LINES), min_size=1, max_size=6),
       st.sampled_from([Context(), Context(age=30), Context(age=70)]))
def test_skipping_regimens_without_the_relevant_ingredients_changes_nothing(
        lines: list[str], ctx: Context) -> None:
    """The engine skips a regimen check when none of its relevant ingredients is present
    (the MME total, the mineral sums): the findings equal those of an engine that runs every
    regimen check on every regimen."""
    from medref.engine import Engine
    from medref.reference import load_reference
    ref = load_reference()
    skipping = Engine(ref)
    always = Engine(ref)
    always._reg_checks = [(c, None) for c, _ in always._reg_checks]
    got = skipping.assess(lines, ctx).findings
    want = always.assess(lines, ctx).findings
    assert [(b.code, at, b.message) for _, at, b in got] == [
        (b.code, at, b.message) for _, at, b in want]


def test_magnesium_citrate_is_its_own_source() -> None:
    """Magnesium citrate was read as magnesium glycinate with 'citrate' not understood
    (MR007); it is a magnesium source of its own, summed with the others and seen by the
    magnesium class rules."""
    (item,) = medref.check(["magnesium citrate 200 mg daily"], AGE60).items
    assert (item.product, item.status, item.unparsed) == ("magnesium-citrate", "checked", ())
    r = medref.check(["magnesium citrate 200 mg daily", "magnesium glycinate 200 mg daily"],
                     AGE60)
    (f,) = codes(r, "MR402")
    assert f.items == ("magnesium-citrate", "magnesium-glycinate")
    assert "400 mg/day elemental from 2 sources" in f.message
    gaba = medref.check(["gabapentin 300 mg tid", "magnesium citrate 200 mg daily"], AGE60)
    assert [f.items for f in gaba.findings if f.code == "MR304"] == [
        ("gabapentin", "magnesium-citrate")]
