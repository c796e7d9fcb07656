"""Claims screening: each member's dispensing history, day by day.

Two drugs are concurrent on the days their supplies overlap (a fill covers its fill date and
the ``days_supply - 1`` days after it). For each run of days with the same active claims,
medref checks that day's regimen exactly as ``medref check`` would (the claims' lines are per
day, so per-dose checks do not apply), and reports each finding with the days it holds on.
Two measure-style findings look across the whole history:

- **MR701** (warning): opioids and benzodiazepines overlap on 30 or more cumulative days, with
  at least two benzodiazepine and two opioid claims on different dates and at least 15
  cumulative days' supply of opioids: the Pharmacy Quality Alliance *Concurrent Use of
  Opioids and Benzodiazepines* (COB, CBE #3389) numerator and denominator, used by CMS Part D.
- **MR702** (warning): the average daily MME over the opioid episode (first opioid fill to the
  last day of opioid supply) is 90 or more, over an episode of 90 days or more, with at least
  two opioid claims on different dates and 15 cumulative days' supply: the CMS Part D
  *Use of Opioids at High Dosage in Persons Without Cancer* (OHD, PQA, NQF #2940) definition.

Neither measure's exclusions (cancer, sickle cell disease, hospice, palliative care) can be
applied from claims alone; the findings say so.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from medref.api import engine_for
from medref.codes import Code
from medref.context import EMPTY, Context
from medref.engine import Engine
from medref.readers.claims import Claim, ClaimError
from medref.reference import Reference, load_reference
from medref.vocab import SEVERITY_RANK

MR701 = Code("MR701", "interaction", ("warning",),
             "Claims: opioid and benzodiazepine supplies overlap on 30 or more cumulative days "
             "(PQA COB, CMS Part D).")
MR702 = Code("MR702", "opioid-mme", ("warning",),
             "Claims: average daily MME of 90 or more over an opioid episode of 90 days or more "
             "(CMS Part D OHD).")
CLAIMS_CODES = (MR701, MR702)

COB_SOURCE = ("Pharmacy Quality Alliance, Concurrent Use of Opioids and Benzodiazepines (COB), "
              "CBE #3389: >=2 benzodiazepine claims on different dates of service and "
              "concurrent use for >=30 cumulative days, among individuals with >=2 opioid claims "
              "on different dates and >=15 cumulative days' supply (https://p4qm.org/measures/"
              "3389)")
OHD_SOURCE = ("CMS Part D Star Ratings, Use of Opioids at High Dosage in Persons Without Cancer "
              "(OHD; PQA, NQF #2940): average daily dosage >=90 MME over an opioid episode of "
              ">=90 days, among beneficiaries with >=2 opioid claims on unique dates and >=15 "
              "cumulative days' supply (as summarized at https://agedcareconsortium.com.au/"
              "quality-indicators/indpc0643)")
EXCLUSIONS = ("the measure's exclusions (cancer, sickle cell disease, hospice, palliative care) "
              "cannot be applied from claims alone")


class DayFinding(NamedTuple):
    """A finding of one member and the days it holds on."""

    code: str
    category: str
    severity: str
    items: tuple[str, ...]
    claims: tuple[int, ...]
    days: tuple[tuple[_dt.date, _dt.date], ...]
    message: str
    source: str | None
    rule: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``claims`` are claim rows; ``days`` inclusive ISO date ranges."""
        return {"code": self.code, "category": self.category, "severity": self.severity,
                "items": list(self.items), "claims": list(self.claims),
                "days": [[a.isoformat(), b.isoformat()] for a, b in self.days],
                "message": self.message, "source": self.source, "rule": self.rule}


class MemberResult(NamedTuple):
    """One member's screening: findings (most severe first) and counts."""

    member: str
    findings: tuple[DayFinding, ...]
    claims: int
    first_day: _dt.date
    last_day: _dt.date
    regimens: int

    def to_dict(self) -> dict[str, Any]:
        """One output line of ``medref claims``."""
        sev = {"info": 0, "warning": 0, "error": 0}
        for f in self.findings:
            sev[f.severity] += 1
        return {"member": self.member, "findings": [f.to_dict() for f in self.findings],
                "summary": {"claims": self.claims, "first_day": self.first_day.isoformat(),
                            "last_day": self.last_day.isoformat(),
                            "regimens_checked": self.regimens, "findings": len(self.findings),
                            "by_severity": sev,
                            "highest_severity": self.findings[0].severity if self.findings
                            else None}}


def _ranges(days: Iterable[_dt.date]) -> tuple[tuple[_dt.date, _dt.date], ...]:
    out: list[list[_dt.date]] = []
    for d in sorted(set(days)):
        if out and (d - out[-1][1]).days == 1:
            out[-1][1] = d
        else:
            out.append([d, d])
    return tuple((a, b) for a, b in out)


def segments(claims: Sequence[Claim], start: _dt.date | None = None,
             end: _dt.date | None = None) -> list[tuple[tuple[int, ...], list[_dt.date]]]:
    """Runs of days with the same active claims (indexes into ``claims``), in date order,
    within ``start``..``end`` (default: the first fill to the last day of supply); days with
    no supply are left out."""
    if not claims:
        return []
    one = _dt.timedelta(days=1)
    first = min(c.fill for c in claims) if start is None else start
    last = max(c.end for c in claims) if end is None else end
    cuts = sorted({first, last + one}
                  | {c.fill for c in claims if first < c.fill <= last}
                  | {c.end + one for c in claims if first < c.end + one <= last})
    out: list[tuple[tuple[int, ...], list[_dt.date]]] = []
    for a, b in itertools.pairwise(cuts):
        active = tuple(i for i, c in enumerate(claims) if c.covers(a))
        if active:
            out.append((active, [a + k * one for k in range((b - a).days)]))
    return out


def adjust_refills(claims: Sequence[Claim]) -> list[Claim]:
    """Early refills carried over: a fill of the same drug (same description) that starts
    before the previous fill's supply ends starts the day after it instead, keeping its days'
    supply (medref's rule: a refill picked up early is not a double dose). The moved claim's
    line says so. Claims keep their order (the order of a day's regimen lines), and a second
    pass changes nothing."""
    moved: dict[int, Claim] = {}
    last_end: dict[str, _dt.date] = {}
    for k in sorted(range(len(claims)), key=lambda k: (claims[k].fill, claims[k].row)):
        c = claims[k]
        key = " ".join(c.drug.upper().split())
        prev = last_end.get(key)
        if prev is not None and c.fill <= prev:
            start = prev + _dt.timedelta(days=1)
            note = (f"early refill: filled {c.fill.isoformat()} while the previous supply "
                    f"lasted to {prev.isoformat()}; its supply is counted from "
                    f"{start.isoformat()}")
            c = c._replace(fill=start, line=c.line._replace(
                assumptions=(*c.line.assumptions, note)))
            moved[k] = c
        last_end[key] = c.end
    return [moved.get(k, c) for k, c in enumerate(claims)]


def screen_member(member: str, claims: Sequence[Claim], *, engine: Engine,
                  context: Context | None = None, start: _dt.date | None = None,
                  end: _dt.date | None = None) -> MemberResult:
    """Check a member's regimen on every day of supply (see the module docstring), early
    refills carried over (:func:`adjust_refills`)."""
    claims = adjust_refills(claims)
    ctx = context or EMPTY
    found: dict[tuple[str, str, tuple[str, ...], tuple[int, ...], str], set[_dt.date]] = {}
    meta: dict[tuple[str, str, tuple[str, ...], tuple[int, ...], str],
               tuple[str, str | None, str | None]] = {}
    segs = segments(claims, start, end)
    cache: dict[tuple[int, ...], Any] = {}
    for active, days in segs:
        a = cache.get(active)
        if a is None:
            a = cache[active] = engine.assess([claims[i].line for i in active], ctx)
        for _, lines, body in a.findings:
            rows = tuple(sorted(claims[active[i]].row for i in lines))
            key = (body.code, body.severity, body.items, rows, body.message)
            found.setdefault(key, set()).update(days)
            meta[key] = (body.category, body.source, body.rule)
    out = [DayFinding(code, meta[k][0], sev, items, rows, _ranges(days), msg, meta[k][1],
                      meta[k][2])
           for k, days in found.items() for code, sev, items, rows, msg in [k]]
    out += _measures(claims, segs, engine)
    out.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.code, f.items, f.days, f.message))
    first = min((d for _, days in segs for d in days), default=min(c.fill for c in claims))
    last = max((d for _, days in segs for d in days), default=max(c.end for c in claims))
    return MemberResult(member, tuple(out), len(claims), first, last, len(cache))


def _classes(engine: Engine, claim: Claim) -> set[str]:
    kb = engine.kb
    out: set[str] = set()
    for ing in claim.line.ingredients:
        e = kb.ingredients.get(ing.ingredient)
        if e is not None:
            out.update(e.classes)
            if e.mme_factor is not None:
                out.add("opioid")
    return out


def _measures(claims: Sequence[Claim], segs: list[tuple[tuple[int, ...], list[_dt.date]]],
              engine: Engine) -> list[DayFinding]:
    """MR701 (COB) and MR702 (OHD) over the member's whole history."""
    kinds = [_classes(engine, c) for c in claims]
    opioid = [i for i, k in enumerate(kinds) if "opioid" in k]
    benzo = [i for i, k in enumerate(kinds) if "benzodiazepine" in k]
    out: list[DayFinding] = []
    opioid_dates = {claims[i].fill for i in opioid}
    supply = sum(claims[i].days for i in opioid)
    qualifies = len(opioid_dates) >= 2 and supply >= 15
    if qualifies and len({claims[i].fill for i in benzo}) >= 2:
        both = [d for active, days in segs
                if set(active) & set(opioid) and set(active) & set(benzo) for d in days]
        if len(both) >= 30:
            rows = tuple(sorted(claims[i].row for i in {*opioid, *benzo}))
            out.append(DayFinding(
                "MR701", "interaction", "warning",
                tuple(sorted({ing.ingredient for i in {*opioid, *benzo}
                              for ing in claims[i].line.ingredients})),
                rows, _ranges(both),
                f"opioid and benzodiazepine supplies overlap on {len(both)} days (30 or more "
                f"cumulative days: the PQA COB measure, CMS Part D); {EXCLUSIONS}",
                COB_SOURCE, None))
    if qualifies:
        start = min(claims[i].fill for i in opioid)
        stop = max(claims[i].end for i in opioid)
        episode = (stop - start).days + 1
        total = 0.0
        for i in opioid:
            a = engine.assess([claims[i].line], EMPTY)
            if a.mme is not None:
                total += a.mme * claims[i].days
        average = total / episode
        if episode >= 90 and average >= 90:
            rows = tuple(sorted(claims[i].row for i in opioid))
            out.append(DayFinding(
                "MR702", "opioid-mme", "warning",
                tuple(sorted({ing.ingredient for i in opioid
                              for ing in claims[i].line.ingredients
                              if engine.kb.ingredients.get(ing.ingredient) is not None
                              and engine.kb.ingredients[ing.ingredient].mme_factor})),
                rows, ((start, stop),),
                f"average {average:.1f} MME/day over an opioid episode of {episode} days "
                f"({start.isoformat()} to {stop.isoformat()}; 90 or more MME/day over 90 or "
                f"more days: the CMS Part D OHD measure); {EXCLUSIONS}",
                OHD_SOURCE, None))
    return out


def screen(rows: Iterable[Claim | ClaimError], *, reference: Reference | None = None,
           context: Context | None = None) -> Iterator[MemberResult | ClaimError]:
    """Screen claims grouped by member, in the order members first appear; unreadable rows
    are yielded as :class:`ClaimError` (never dropped) before their member's result."""
    ref = reference if reference is not None else load_reference()
    engine = engine_for(ref)
    by_member: dict[str, list[Claim]] = {}
    order: list[str] = []
    for row in rows:
        if isinstance(row, ClaimError):
            yield row
            continue
        if row.member not in by_member:
            by_member[row.member] = []
            order.append(row.member)
        by_member[row.member].append(row)
    for member in order:
        yield screen_member(member, by_member[member], engine=engine, context=context)

