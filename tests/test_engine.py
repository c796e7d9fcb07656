"""The engine: typed lines, cached results equal fresh ones, checks held to their contract."""

from __future__ import annotations

from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medref import check
from medref.checks import CHECKS
from medref.checks.base import IngredientCheck, IngredientGroup, KeyFn, LineCheck, Out
from medref.codes import Code
from medref.context import Context
from medref.dosing import ResolvedLine
from medref.engine import Engine
from medref.knowledge import Ingredient, Knowledge
from medref.reference import load_reference
from medref.regimen import Frequency, IngredientDose, MedicationLine

REF = load_reference()


def _two_ingredient_line(apap_mg: float, oxy_mg: float, every_h: int) -> MedicationLine:
    """A combination line built directly (no sig text read), as a product reader will."""
    return MedicationLine(
        text=f"oxycodone/acetaminophen {oxy_mg:g}/{apap_mg:g} 1 tab q{every_h}h",
        name="oxycodone/acetaminophen", product="acetaminophen",
        ingredients=(IngredientDose("acetaminophen", apap_mg, None, "mg"),
                     IngredientDose("oxycodone", oxy_mg, None, "mg")),
        dose=1.0, unit="tablet",
        frequency=Frequency(f"q{every_h}h", interval_min_h=every_h, interval_max_h=every_h,
                            count_min=24 / every_h, count_max=24 / every_h))


def test_a_two_ingredient_line_checks_each_ingredient() -> None:
    """Each ingredient of one line gets its own daily total, limits and MME."""
    engine = Engine(REF)
    a = engine.assess([_two_ingredient_line(650, 10, 3)], Context())
    [line] = a.lines
    daily = {d.ingredient.id: d.daily for d in line.doses}
    assert daily == {"acetaminophen": 650 * 8, "oxycodone": 10 * 8}
    assert line.mme == 10 * 8 * 1.5
    found = {(body.code, body.items) for _, _, body in a.findings}
    assert ("MR102", ("acetaminophen",)) in found  # 5,200 mg/day above 4,000
    assert ("MR306", ("oxycodone",)) in found  # 120 MME/day
    mr102 = next(b for _, _, b in a.findings if b.code == "MR102")
    assert "5,200 mg/day" in mr102.message and "4,000 mg/day" in mr102.message


def test_a_two_ingredient_line_within_limits_gets_no_limit_finding() -> None:
    a = Engine(REF).assess([_two_ingredient_line(325, 5, 6)], Context())
    codes = {b.code for _, _, b in a.findings}
    assert not codes & {"MR101", "MR102", "MR301", "MR305", "MR306"}
    assert a.lines[0].mme == 5 * 4 * 1.5


def test_an_ingredient_on_a_combination_and_a_plain_line_is_summed() -> None:
    """The acetaminophen of a combination line and of a plain line add up (MR301)."""
    a = Engine(REF).assess([_two_ingredient_line(325, 10, 6), "acetaminophen 1 g q6h"],
                           Context())
    mr301 = [b for _, lines, b in a.findings if b.code == "MR301"]
    assert len(mr301) == 1 and mr301[0].items == ("acetaminophen",)
    assert "5,300 mg/day across 2 lines" in mr301[0].message


LINES = [
    "ibuprofen 800 mg tid", "Advil 800mg q6h", "naproxen 500 mg bid", "celecoxib 200 mg bid",
    "tramadol 50-100 mg q4-6h prn", "acetaminophen 1 g q6h", "Tylenol 650 mg q4h prn",
    "oxycodone 5 mg q6h", "hydromorphone 2 mg q6h", "fluoxetine 20 mg daily",
    "alendronate 70 mg weekly", "calcium citrate 500 mg bid", "vitamin d3 5000 IU daily",
    "ketorolac 10 mg q6h x 7 days", "xyzzy 10 mg", "prednisone 10 mg daily", "asdf",
    "lidocaine 5% patch 1 patch daily", "gabapentin 300 mg tid", "magnesium 400 mg daily",
    "calcium citrate 1200 mg bid", "boron 18 mg daily", "tizanidine 4 mg q8h",
    "zoledronic acid 5 mg iv yearly", "duloxetine 60 mg daily", "tramadol 100 mg q6h",
    "manganese 10 mg daily", "ketorolac 30 mg iv q6h", "methocarbamol 1500 mg qid",
    {"name": "ibuprofen", "dose": 600, "unit": "mg", "frequency": "q6h", "prn": True},
]
CONTEXTS = st.builds(
    Context, age=st.one_of(st.none(), st.integers(0, 130)),
    crcl=st.one_of(st.none(), st.sampled_from([10, 24.9, 25, 30, 34.9, 60, 90.0])),
    hepatic_impairment=st.one_of(st.none(), st.booleans()),
    weeks_since_surgery=st.one_of(st.none(), st.integers(0, 60), st.just(25.5)))


def _findings(engine: Engine, items: list[object], ctx: Context) -> list[tuple[object, ...]]:
    a = engine.assess(items, ctx)
    return [(b.code, b.severity, b.items, lines, b.message, b.source, b.rule)
            for _, lines, b in a.findings]


@settings(max_examples=150)
@given(st.lists(st.tuples(st.lists(st.sampled_from(LINES), min_size=1, max_size=8), CONTEXTS),
                min_size=1, max_size=6))
def test_cached_results_equal_fresh_results(recs: list[tuple[list[object], Context]]) -> None:
    """An engine whose caches were filled by other regimens and contexts gives what an engine
    without caches gives: the keys the checks declare hold everything a result depends on."""
    warm = Engine(REF)
    cold = Engine(REF, cache_size=0)
    for items, ctx in recs:
        assert _findings(warm, items, ctx) == _findings(cold, items, ctx)


def _kept(engine: Engine) -> int:
    """Line outcomes an engine holds, over every item and both generations."""
    return len(engine._outcomes.cur) + len(engine._outcomes.prev)


@settings(max_examples=100)
@given(st.lists(st.tuples(st.lists(st.sampled_from(LINES), min_size=1, max_size=8), CONTEXTS),
                min_size=1, max_size=12))
def test_small_memos_turn_over_and_still_give_fresh_results(
        recs: list[tuple[list[object], Context]]) -> None:
    """With memos far smaller than the work (three items), every memo turns over again and
    again: the results still equal an engine without caches, and the line outcomes kept never
    exceed two budgets (what bounds a long batch's memory)."""
    small = Engine(REF, cache_size=3)
    cold = Engine(REF, cache_size=0)
    for items, ctx in recs:
        assert _findings(small, items, ctx) == _findings(cold, items, ctx)
        assert _kept(small) <= 2 * 3


def test_line_outcomes_stay_within_two_budgets_over_many_contexts() -> None:
    """One engine, 16 items under 19 x 6 contexts (far more outcomes than its budget of 16):
    what it keeps stays within two budgets, and what it answers equals a fresh engine."""
    items: list[object] = [line for line in LINES if isinstance(line, str)][:16]
    engine, cold = Engine(REF, cache_size=16), Engine(REF, cache_size=0)
    most = 0
    for age in [None, 0, 3, 4, 5, 8, 9, 13, 14, 18, 19, 50, 51, 64, 65, 75, 76, 95, 120]:
        for weeks in (None, 3, 12, 25.9, 26, 60):
            ctx = Context(age=age, weeks_since_surgery=weeks)
            assert _findings(engine, items, ctx) == _findings(cold, items, ctx), ctx
            most = max(most, _kept(engine))
    assert 16 < most <= 2 * 16  # it did turn over, and never held more


def test_cached_results_across_every_age_band_and_window_boundary() -> None:
    """Ages and weeks on both sides of every upper-intake band, age limit and the NSAID
    window, one after another on one engine, give what a cache-less engine gives."""
    items: list[object] = [
        "boron 18 mg daily", "calcium citrate 1200 mg bid", "vitamin d3 3500 IU daily",
        "manganese 10 mg daily", "tramadol 100 mg q6h", "ketorolac 15 mg q6h x 3 days",
        "ibuprofen 800 mg tid", "ibuprofen 400 mg prn"]
    warm, cold = Engine(REF), Engine(REF, cache_size=0)
    for age in [None, 0, 3, 4, 5, 8, 9, 13, 14, 18, 19, 50, 51, 64, 65, 75, 76, 95]:
        for weeks in (None, 3, 12, 25.9, 26, 60):
            ctx = Context(age=age, weeks_since_surgery=weeks)
            assert _findings(warm, items, ctx) == _findings(cold, items, ctx), ctx


_TOY = Code("MR990", "administration", ("info",), "A test code.")


class _Emits(LineCheck):
    name = "emits"
    codes = (_TOY,)

    def __init__(self, code: str, severity: str) -> None:
        self.code, self.severity = code, severity

    def run(self, line: ResolvedLine, ctx: Context, kb: Knowledge, out: Out) -> None:
        out.emit(self.code, self.severity, (), (0,), "toy")


@pytest.mark.parametrize(("code", "severity", "match"), [
    ("MR991", "info", "does not declare"), ("MR990", "error", "allows info")])
def test_a_check_is_held_to_its_declared_codes(code: str, severity: str, match: str) -> None:
    engine = Engine(REF, (*CHECKS, _Emits(code, severity)))
    with pytest.raises(ValueError, match=match):
        engine.assess(["ibuprofen 400 mg tid"], Context())


def test_one_code_declared_twice_with_two_meanings_is_refused() -> None:
    class Other(_Emits):
        codes = (Code("MR990", "interaction", ("info",), "Another meaning."),)
    with pytest.raises(ValueError, match="declared twice"):
        Engine(REF, (_Emits("MR990", "info"), Other("MR990", "info")))


class _SeesAge(IngredientCheck):
    """Reads nothing it declares; records what context it was given."""

    name = "sees"
    codes = ()
    seen: list[Context]

    def __init__(self) -> None:
        self.seen = []

    def key(self, ingredient: Ingredient, kb: Knowledge) -> KeyFn | None:
        def key(ctx: Context) -> Hashable:
            return ctx.age
        return key

    def run(self, group: IngredientGroup, ctx: Context, kb: Knowledge, out: Out) -> None:
        self.seen.append(ctx)


def test_a_check_sees_only_the_context_it_declares() -> None:
    """The engine hands a check a context with only its declared fields."""
    sees = _SeesAge()
    sees.reads = frozenset({"age"})  # type: ignore[misc]
    Engine(REF, (sees,)).assess(["ibuprofen 400 mg tid"],
                                Context(age=70, crcl=20, weeks_since_surgery=2))
    assert sees.seen == [Context(age=70)]


def test_library_check_accepts_typed_lines_and_dict_contexts() -> None:
    r = check([_two_ingredient_line(650, 10, 3)], {"age": 70})
    assert r.summary.context.age == 70
    assert r.items[0].input.startswith("oxycodone/acetaminophen")
    assert {f.code for f in r.findings} >= {"MR102", "MR306"}


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(["info", "warning", "error"]),
                          st.from_regex(r"MR\d{3}", fullmatch=True),
                          st.lists(st.text(alphabet=st.characters(min_codepoint=32,
                                                                  max_codepoint=0x2FF),
                                           min_size=1, max_size=6), max_size=4)),
                max_size=12))
def test_finding_sort_key_orders_as_severity_code_items(
        specs: list[tuple[str, str, list[str]]]) -> None:
    """A finding body's one-string sort key orders findings exactly as the tuple (most
    severe first, code, items) does."""
    from medref.engine import FindingBody
    from medref.vocab import SEVERITY_RANK
    bodies = [FindingBody(code, "unknown-item", sev, tuple(items), "m", None, None)
              for sev, code, items in specs]
    by_key = sorted(bodies, key=lambda b: b.key)
    by_tuple = sorted(bodies, key=lambda b: (-SEVERITY_RANK[b.severity], b.code, b.items))
    assert [(b.severity, b.code, b.items) for b in by_key] == [
        (b.severity, b.code, b.items) for b in by_tuple]


def test_interaction_memo_keeps_age_modifiers_apart() -> None:
    """The interaction rules remember their findings per set of ingredients they look at and,
    when a candidate rule has an age modifier, per age: one regimen at 40, 70, 40 and with no
    age gives the risk factor only at 70 (the MR602 ask for age only without one)."""
    ref = load_reference()
    engine = Engine(ref)
    items = ["warfarin 5 mg daily", "ibuprofen 400 mg tid", "acetaminophen 500 mg q6h"]
    got = []
    for age in (40, 70, 40, None, 70):
        a = engine.assess(items, Context(age=age))
        msgs = [b.message for _, _, b in a.findings if b.code == "MR303"]
        assert len(msgs) == 1
        got.append(("Risk factor present" in msgs[0],
                    next(b.severity for _, _, b in a.findings if b.code == "MR303")))
    assert got[0] == got[2] == (False, got[0][1])
    assert got[1] == got[4] == (True, "error")
    assert got[3][0] is False


def test_one_engine_shared_by_threads_gives_each_thread_its_own_answers() -> None:
    """A library user may share the engine (``medref.check`` does) between threads: with
    switches forced as often as the interpreter allows, every regimen checked concurrently
    (its line outcomes, groups and finding bodies both fresh and turning over in a small
    engine) gets exactly what a new engine gives it alone. The contexts are new objects each
    time (found by value) or shared ones (found by identity); an age-raised interaction is
    among the regimens, with and without an age."""
    import random
    import sys
    import threading

    strs = [line for line in LINES if isinstance(line, str)]
    strs += ["warfarin 5 mg daily", "naproxen 500 mg bid", "prednisone 10 mg daily"]
    shared_ctx = [Context(), Context(age=80, crcl=20.0), Context(weeks_since_surgery=3)]
    rng = random.Random(7)
    work: list[tuple[list[object], int]] = []
    for n in range(60):
        items: list[object] = list(rng.sample(strs, rng.randint(1, 6)))
        if n % 5 == 0:
            items += ["warfarin 5 mg daily", "ibuprofen 400 mg tid"]
        work.append((items, rng.randrange(5)))

    def ctx_of(k: int) -> Context:
        if k < len(shared_ctx):
            return shared_ctx[k]
        return Context(age=70) if k == 3 else Context(age=40, hepatic_impairment=True)

    expected = [_findings(Engine(REF, cache_size=0), list(items), ctx_of(k))
                for items, k in work]
    for size in (3, 2_000):
        shared = Engine(REF, cache_size=size)
        wrong: list[int] = []

        def run(seed: int, engine: Engine = shared, bad: list[int] = wrong) -> None:
            order = list(range(len(work)))
            random.Random(seed).shuffle(order)
            for _ in range(3):
                for i in order:
                    items, k = work[i]
                    if _findings(engine, list(items), ctx_of(k)) != expected[i]:
                        bad.append(i)

        before = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            threads = [threading.Thread(target=run, args=(s,)) for s in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            sys.setswitchinterval(before)
        assert wrong == [], (size, sorted(set(wrong)))
    assert any("interaction severity" in b[4] for e in expected for b in e)
