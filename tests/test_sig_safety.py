"""Sig-parser safety: nothing on a line is swallowed, and the worst case is never understated.

A PRN reason is a short indication; dosing words after ``prn`` (numbers, intervals, ``may
repeat``, ``with``, drug names) are read by the grammar or left in ``unparsed`` (MR007).
Daily caps (``up to 6 doses daily``), frequency ranges (``bid-qid``) and tablet counts
(``500 mg 1-2 tabs ... not to exceed 8 tabs``) give the right worst case or are reported.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medref.api import check
from medref.reference import load_reference
from medref.sig import _REASON_WORDS, ParsedLine, _is_known_token, normalize, parse_line

REF = load_reference()


def parse(text: str) -> ParsedLine:
    return parse_line(text, REF.resolve)


def clean(text: str) -> ParsedLine:
    p = parse(text)
    assert (p.unparsed, p.problems) == ([], []), text
    return p


def per_day(p: ParsedLine) -> int:
    assert p.frequency is not None, p.text
    return p.frequency.per_day_max


def line_codes(text: str) -> set[str]:
    return {f.code for f in check([text]).findings}


# -- words after prn ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("Tylenol 325 mg q6h prn pain with codeine", ["with", "codeine"]),
    # "may repeat" after a frequency is shown whole (a second frequency is never guessed)
    ("acetaminophen 1 g q6h prn pain, may repeat every two hours", ["may repeat"]),
    ("acetaminophen 1 g q6h prn pain, may repeat in 2 hours", ["may repeat in 2 hours"]),
    ("tramadol 100 mg q6h prn pain or hourly if severe", ["or", "hourly", "if", "severe"]),
    ("ibuprofen 400 mg q6h prn pain and ketorolac", ["and", "ketorolac"]),
    ("acetaminophen 1 g q6h prn pain q2h", []),
    ("acetaminophen 1 g q6h prn pain every 2 hours", []),
    ("acetaminophen 1 g q6h prn pain 2 more", ["2", "more"]),
])
def test_dosing_words_after_prn_are_not_a_reason(text: str, shown: list[str]) -> None:
    """The reason stops at the first word that is not an indication; the rest is reported."""
    p = parse(text)
    assert p.prn and p.prn_reason == "pain"
    assert p.unparsed[:len(shown)] == shown
    assert p.unparsed or p.problems
    assert per_day(p) == 4


@pytest.mark.parametrize("text", [
    "Tylenol 325 mg q6h prn pain with codeine",
    "acetaminophen 1 g q6h prn pain, may repeat every two hours",
    "tramadol 100 mg q6h prn pain or hourly if severe",
    "ibuprofen 400 mg q6h prn pain and ketorolac",
])
def test_dosing_words_after_prn_reach_the_report(text: str) -> None:
    """The checker reports the line: MR007 (not understood) or MR001 (not checked)."""
    assert line_codes(text) & {"MR007", "MR001"}


@pytest.mark.parametrize(("tail", "reason"), [
    ("prn pain", "pain"), ("prn for pain", "pain"), ("prn severe pain", "severe pain"),
    ("prn muscle spasm", "muscle spasm"), ("prn muscle spasms", "muscle spasms"),
    ("prn sleep", "sleep"), ("prn nausea", "nausea"),
    ("prn breakthrough pain", "breakthrough pain"),
    ("prn pain or fever", "pain or fever"), ("prn nausea and vomiting", "nausea and vomiting"),
    ("as needed for shortness of breath", "shortness of breath"),
    ("prn pain with food", "pain"), ("prn pain for 5 days", "pain"),
])
def test_ordinary_prn_reasons_stay_clean(tail: str, reason: str) -> None:
    """Short indications are read as the reason, with nothing left over."""
    p = clean(f"oxycodone 5 mg q4h {tail}")
    assert (p.prn, p.prn_reason, per_day(p)) == (True, reason, 6)


def test_a_reason_word_before_prn_is_not_swallowed_later() -> None:
    """An unknown word before ``prn`` does not stop the reason after it from being read."""
    p = parse("acetaminophen 1 g zzz q6h prn pain")
    assert (p.unparsed, p.prn_reason) == (["zzz"], "pain")


def test_reason_words_are_not_grammar_tokens_or_names() -> None:
    """No reason word is a frequency, route, unit or other token, nor a drug or product name."""
    assert not [w for w in _REASON_WORDS if _is_known_token(w) or REF.resolve(w)]


NAMES = sorted({normalize(n) for e in REF.entries.values()
                for n in (e["id"], e["name"], *e.get("aliases", ()))})


@pytest.mark.parametrize("joint", ["", "and ", "with ", "or "])
def test_no_drug_name_after_prn_reason_is_absorbed(joint: str) -> None:
    """Every known drug or product name after ``prn pain`` is reported, never the reason."""
    for name in NAMES:
        p = parse(f"ibuprofen 400 mg q6h prn pain {joint}{name}")
        assert p.prn_reason == "pain", name
        assert p.unparsed or p.problems, name


# -- daily caps ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "n"), [
    ("acetaminophen 1 g prn up to 6 doses daily", 6),
    ("tramadol 100 mg prn pain up to 6 doses per day", 6),
    ("tramadol 100 mg prn pain up to 4 times a day", 4),
    ("tramadol 100 mg prn up to 3 times daily", 3),
    ("tramadol 100 mg prn up to four times a day", 4),
    ("tramadol 100 mg prn max 4 doses/day", 4),
    ("tramadol 100 mg prn (max 4 doses in 24 hours)", 4),
    ("tramadol 100 mg prn not to exceed 4 doses per day", 4),
    ("tramadol 100 mg prn no more than 3 times a day", 3),
    ("tramadol 100 mg prn up to tds", 3),
    ("tramadol 100 mg prn up to 3-4 times daily", 4),
])
def test_up_to_n_a_day_is_a_count_range(text: str, n: int) -> None:
    """``up to N doses a day`` is 1 to N administrations a day, not a course plus once daily
    (and never words of a PRN reason)."""
    p = clean(text)
    assert p.prn_reason in (None, "pain")
    assert p.frequency is not None
    assert (p.frequency.count_max, per_day(p), p.duration_doses) == (n, n, None)


def test_up_to_6_doses_daily_worst_case_is_6_g() -> None:
    """The reproduced line: 1 g up to 6 times a day is 6 g a day at worst."""
    item = check(["acetaminophen 1 g prn up to 6 doses daily"]).items[0]
    assert item.daily_total == 6000


def test_a_cap_matching_the_frequency_is_understood() -> None:
    """``q6h ... max 4 doses a day`` says the same twice: read, worst case 4 a day."""
    assert per_day(clean("tramadol 100 mg q6h prn max 4 doses/day")) == 4


def test_a_cap_below_the_frequency_is_reported_not_dropped() -> None:
    """A cap the frequency cannot carry stays unparsed; the worst case stays the frequency's."""
    p = parse("acetaminophen 1 g q4h prn max 4 doses/day")
    assert p.unparsed == ["max", "4", "doses/day"]
    assert per_day(p) == 6


def test_a_cap_above_the_frequency_is_a_second_frequency() -> None:
    """``qhs ... up to 4 times a day``: keeping 1 a day would understate it."""
    assert parse("tramadol 100 mg qhs up to 4 times a day").problems


def test_up_to_n_tablets_is_still_a_dose() -> None:
    """``up to 2 tablets`` is the dose (the words ``up to`` are reported), not a cap."""
    p = parse("acetaminophen 500 mg up to 2 tablets daily")
    assert (p.dose, p.unparsed, per_day(p)) == (1000, ["up", "to"], 1)


# -- frequency ranges ---------------------------------------------------------------------------

@pytest.mark.parametrize(("word", "lo", "hi"), [
    ("bid-qid", 2, 4), ("tid-qid", 3, 4), ("bid-tid", 2, 3), ("daily-bid", 1, 2),
    ("1-2 times daily", 1, 2), ("bd-tds", 2, 3), ("bid to qid", 2, 4), ("qid-bid", 2, 4),
    ("twice daily to four times daily", 2, 4), ("tds or qds", 3, 4),
])
def test_frequency_ranges_count_the_top(word: str, lo: int, hi: int) -> None:
    """A range of named frequencies is a count range; the worst case is the larger."""
    f = clean(f"ibuprofen 400 mg {word}").frequency
    assert f is not None
    assert (f.count_min, f.count_max, f.per_day_max) == (lo, hi, hi)


@pytest.mark.parametrize(("word", "per_day_max"), [
    ("every two hours", 12), ("every four to six hours", 6), ("four hourly", 6),
    ("6-hourly", 4), ("every 4 or 6 hours", 6), ("every twelve hours", 2),
])
def test_interval_words(word: str, per_day_max: int) -> None:
    """Intervals written with number words are intervals (not left to a PRN reason)."""
    assert per_day(clean(f"tramadol 50 mg {word}")) == per_day_max


# -- tablet counts ------------------------------------------------------------------------------

@pytest.mark.parametrize("cap", ["not to exceed 8 tabs", "not to exceed 8 tabs per day",
                                 "not to exceed 8 tabs in 24 hours", "max 8 tablets daily"])
def test_a_tablet_cap_never_multiplies_the_dose(cap: str) -> None:
    """500 mg x 1-2 tabs is 500-1,000 mg a dose; q4h is 6 a day; the cap is kept as a written
    maximum of 8 tablets (applied per day only when the line says per day)."""
    p = parse(f"acetaminophen 500 mg 1-2 tabs q4h prn pain {cap}")
    assert (p.dose, p.dose_max, p.unit, per_day(p)) == (500, 1000, "mg", 6)
    assert (p.cap_units, p.cap_unit) == (8, "tablet")
    assert p.cap_per_day == (cap != "not to exceed 8 tabs")
    assert p.unparsed == []
    assert p.problems == []


def test_tablet_cap_line_worst_case_is_6_g() -> None:
    """The reproduced line gives 6 g a day, not 48 g."""
    item = check(["acetaminophen 500 mg 1-2 tabs q4h prn pain not to exceed 8 tabs"]).items[0]
    assert item.daily_total == 6000


def test_a_second_tablet_count_is_a_problem() -> None:
    """A count after a count times a strength is a second dose, not a multiplier."""
    p = parse("acetaminophen 500 mg 1-2 tabs q4h 8 tabs")
    assert (p.dose, p.dose_max) == (500, 1000)
    assert p.problems == ["a second dose '8 tabs'"]


# -- properties ---------------------------------------------------------------------------------

REASONS = ["pain", "for pain", "severe pain", "muscle spasm", "sleep", "pain or fever", "nausea"]
FREQ_TAILS = ["q2h", "q1h", "every 2 hours", "every two hours", "hourly", "2 hourly",
              "may repeat every 2 hours", "may repeat", "6 times daily", "bid-qid", "qid",
              "up to 8 doses daily", "max 12 doses per day", "or every 3 hours if severe",
              "and q3h", "with q2h", "repeat x1", "x 3 doses"]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REASONS), st.sampled_from(FREQ_TAILS),
       st.sampled_from(["q6h", "q4-6h", "tid", "bid-qid", "up to 4 times a day"]))
def test_a_frequency_after_a_reason_never_lowers_the_worst_case(reason: str, tail: str,
                                                                freq: str) -> None:
    """Appending a frequency phrase after ``prn <reason>`` never lowers the worst-case day and
    never disappears: it is parsed (raising the count or a problem) or left unparsed."""
    base = clean(f"acetaminophen 500 mg {freq} prn {reason}")
    p = parse(f"acetaminophen 500 mg {freq} prn {reason} {tail}")
    assert p.prn_reason == base.prn_reason
    assert p.problems or p.unparsed or per_day(p) >= per_day(base)
    if not p.problems:  # a line with problems is not checked at all
        assert per_day(p) >= per_day(base)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REASONS), st.sampled_from(NAMES))
def test_a_drug_name_after_a_reason_is_always_reported(reason: str, name: str) -> None:
    """A drug or product name after ``prn <reason>`` is never part of the reason."""
    p = parse(f"tramadol 50 mg q6h prn {reason} {name}")
    assert p.prn_reason == clean(f"tramadol 50 mg q6h prn {reason}").prn_reason
    assert p.unparsed or p.problems


# -- "may repeat" ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "doses"), [
    ("sumatriptan 50 mg at onset, may repeat in 2 h", 12),
    ("sumatriptan 50 mg at the onset of migraine, may repeat once after 2 hours", 2),
    ("sumatriptan 100 mg prn migraine may repeat x1 after 2 hours", 2),
    ("acetaminophen 1 g prn pain, may be repeated after 6 hours if necessary", 4),
    ("rizatriptan 10 mg, may repeat in two hours", 12),
])
def test_may_repeat_is_a_prn_interval_at_its_worst(text: str, doses: int) -> None:
    """"May repeat in 2 h" is every 2 h as needed (nothing on the line limits the repeats);
    "may repeat once" is two doses a day."""
    p = clean(text) if text.startswith(("sumatriptan", "acetaminophen")) else parse(text)
    assert p.prn and per_day(p) == doses


@pytest.mark.parametrize("text", [
    "ibuprofen 400 mg may repeat",             # repeat when? not guessed
    "sumatriptan 50 mg daily prn, may repeat once in 2 h",  # a second frequency
])
def test_may_repeat_without_its_terms_is_shown(text: str) -> None:
    p = parse(text)
    assert any(u.startswith("may repeat") for u in p.unparsed), p.unparsed


@settings(max_examples=60, deadline=None)
@given(dose=st.sampled_from([25, 50, 100]), hours=st.integers(1, 24),
       cap=st.sampled_from([None, 100, 200]), once=st.booleans())
def test_a_written_maximum_caps_the_repeats(dose: int, hours: int, cap: int | None,
                                            once: bool) -> None:
    """Property: the worst case per day is the dose times the repeats the sig allows (two
    with "once", else one every N hours), never more than a written daily maximum."""
    text = (f"sumatriptan {dose} mg at onset, may repeat {'once ' if once else ''}in {hours} h"
            + (f", max {cap} mg/day" if cap else ""))
    (item,) = check([text]).items
    doses = 2 if once else -(-24 // hours)
    want = dose * doses if cap is None else min(dose * doses, cap)
    assert item.daily_total == want, (text, item.daily_total)


@pytest.mark.parametrize(("text", "doses", "days"), [
    ("azithromycin 500 mg day 1", 1, None),
    ("azithromycin 500 mg on the first day", 1, None),
    ("azithromycin 250 mg daily on days 2-5", 1, 4.0),
    ("azithromycin 250 mg daily days 2 through 5", 1, 4.0),
])
def test_day_one_and_a_span_of_days(text: str, doses: int, days: float | None) -> None:
    p = clean(text)
    assert per_day(p) == doses and p.duration_days == days


def test_an_impossible_span_of_days_is_a_problem() -> None:
    assert parse("azithromycin 250 mg daily days 5-2").problems


# -- sigs as EHRs print them ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "dose", "per_day_total"), [
    ("oxycodone 5 mg tablet: take 1 tablet (5 mg total) by mouth every 4 (four) hours as "
     "needed for pain", 5.0, 30.0),
    ("acetaminophen 500 mg tablet: take 2 tablets (1,000 mg total) by mouth every 6 (six) "
     "hours as needed", 1000.0, 4000.0),
    ("acetaminophen 2 tabs (1000 mg) q6h prn", 1000.0, 4000.0),
    ("gabapentin 1 cap (300 mg) tid", 300.0, 900.0),
])
def test_a_stated_total_and_an_echoed_number_are_read(text: str, dose: float,
                                                      per_day_total: float) -> None:
    (item,) = check([text]).items
    assert (item.status, item.unparsed) == ("checked", ()), item
    assert (item.dose, item.daily_total) == (dose, per_day_total)


@pytest.mark.parametrize(("text", "shown"), [
    ("acetaminophen 500 mg tablet: take 2 tablets (500 mg total) q6h", "(500 mg total)"),
    ("ibuprofen 400 mg every 4 (six) hours", "(six)"),
])
def test_a_stated_total_or_echo_that_disagrees_is_shown(text: str, shown: str) -> None:
    """Never used over what the line says: a total that is not the dose read, or a number
    spelt out as another, is not understood (MR007)."""
    (item,) = check([text]).items
    assert any(shown in u for u in item.unparsed), item.unparsed
    assert "MR007" in line_codes(text)


@settings(max_examples=50, deadline=None)
@given(strength=st.sampled_from([250, 325, 500]), count=st.integers(1, 3),
       hours=st.sampled_from([4, 6, 8]))
def test_an_ehr_printed_sig_reads_as_the_plain_one(strength: int, count: int,
                                                   hours: int) -> None:
    """Property: "take N tablets (T mg total) ... every H (word) hours" gives the same dose
    and daily total as "N tablets every H hours"."""
    words = {4: "four", 6: "six", 8: "eight"}
    ehr = (f"acetaminophen {strength} mg tablet: take {count} tablets "
           f"({strength * count:,} mg total) by mouth every {hours} ({words[hours]}) hours")
    plain = f"acetaminophen {strength} mg tablet: take {count} tablets every {hours} hours"
    (a,) = check([ehr]).items
    (b,) = check([plain]).items
    assert (a.dose, a.daily_total, a.unparsed) == (b.dose, b.daily_total, ())
