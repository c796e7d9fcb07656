"""CDS Hooks 2.0 services: discovery, ``order-select`` and ``order-sign`` answered with cards.

This module is the service's logic without the web framework (:mod:`medref.serve.app` puts
it on HTTP). A request's draft orders and its prefetch (active medications, the Patient, the
latest weight and renal function) are read by the FHIR reader and checked by the same engine
as ``medref check``; then:

- cards speak only of problems that involve a draft order (active medications are context);
- one card per finding (the alert policy already gives one finding per clinical problem),
  info findings make no card, except one info card saying what could not be checked
  (a drug medref does not know, context that was missing, a prefetch that was absent or an
  OperationOutcome);
- ``order-select`` stays quiet about what is not yet decided (no dose, no frequency);
- a suggestion is offered only where a safe change exists and the whole regimen, re-checked
  with it, no longer has the problem.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, NamedTuple

from medref._version import __version__
from medref.api import engine_for
from medref.codes import ALERT_POLICY
from medref.context import EMPTY, Context
from medref.engine import Engine
from medref.readers.fhir import fhir_record, read_entry
from medref.reference import Reference
from medref.regimen import ROLE_DRAFT, FhirEntry, MedicationLine
from medref.render.fhir import act_code
from medref.result import Finding

SERVICES: Final = {
    "medref-order-select": "order-select",
    "medref-order-sign": "order-sign",
}
"""Service id -> hook."""

RENAL_LOINC: Final = "2164-2,http://loinc.org|33914-3,http://loinc.org|62238-1,http://loinc.org|98979-8"
PREFETCH: Final = {
    "patient": "Patient/{{context.patientId}}",
    "medications": "MedicationRequest?patient={{context.patientId}}&status=active",
    "weight": "Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7"
              "&_sort=-date&_count=1",
    "renal": "Observation?patient={{context.patientId}}&code=http://loinc.org|" + RENAL_LOINC
             + "&_sort=-date&_count=1",
}
"""Prefetch templates: the patient (age), active medications, the latest weight and renal
function (creatinine clearance or eGFR, by LOINC code)."""

INDICATOR: Final = {"error": "critical", "warning": "warning", "info": "info"}

UNDECIDED: Final = frozenset({"MR003", "MR006", "MR307"})
"""Findings about what an order being selected has not decided yet (no dose, no frequency):
not shown at ``order-select``."""

OVERRIDE_SYSTEM: Final = "urn:medref:override-reason"
OVERRIDE_REASONS: Final = (
    ("benefit-outweighs-risk", "Benefit outweighs risk; will monitor"),
    ("dose-verified", "Dose verified with the prescriber or specialist"),
    ("patient-tolerated", "Patient has tolerated this regimen before"),
    ("not-applicable", "Alert does not apply to this patient"),
)


_OVERRIDES: Final = [{"system": OVERRIDE_SYSTEM, "code": c, "display": d}
                     for c, d in OVERRIDE_REASONS]
"""The override reasons of every card (one list, serialized as is)."""


class HookError(ValueError):
    """A request that is not a valid call of the service (answered 400)."""


def discovery() -> dict[str, Any]:
    """The ``GET /cds-services`` document."""
    return {"services": [
        {"hook": "order-select", "id": "medref-order-select", "title": "medref medication check",
         "description": "Checks the selected medication orders against labeled maximums, "
                        "same-ingredient totals, interactions, opioid MME, bone-healing "
                        "concerns and the patient's age, weight and renal function.",
         "prefetch": dict(PREFETCH)},
        {"hook": "order-sign", "id": "medref-order-sign", "title": "medref medication check",
         "description": "Checks the medication orders being signed, with the patient's "
                        "active medications as context.",
         "prefetch": dict(PREFETCH)},
    ]}


class Answer(NamedTuple):
    """A service's answer and what the audit log records of it."""

    body: dict[str, Any]
    codes: tuple[str, ...]


def _request_shape(service: str, req: object) -> Mapping[str, Any]:
    if not isinstance(req, Mapping):
        raise HookError("the request body must be a JSON object")
    hook = req.get("hook")
    if hook != SERVICES[service]:
        raise HookError(f"hook {hook!r} does not match service {service!r} "
                        f"(expected {SERVICES[service]!r})")
    if not isinstance(req.get("hookInstance"), str):
        raise HookError("hookInstance (a string) is required")
    ctx = req.get("context")
    if not isinstance(ctx, Mapping):
        raise HookError("context (an object) is required")
    draft = ctx.get("draftOrders", ctx.get("medications"))
    if not (isinstance(draft, Mapping) and draft.get("resourceType") == "Bundle") and \
            not isinstance(draft, list):
        raise HookError("context.draftOrders (a Bundle) is required")
    if not isinstance(ctx.get("patientId"), str):
        raise HookError("context.patientId (a string) is required")
    if hook == "order-select":
        sel = ctx.get("selections")
        if not isinstance(sel, list) or not all(isinstance(s, str) for s in sel):
            raise HookError("context.selections (a list of references) is required")
    prefetch = req.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, Mapping):
        raise HookError("prefetch must be an object")
    return req


def _prefetch_gaps(req: Mapping[str, Any]) -> list[str]:
    """What the prefetch did not give that medref needs: the active medications (absent or
    null), and any item the EHR answered with an OperationOutcome or only a first page of.
    Missing patient data that a rule needed is reported by MR602 instead."""
    pre = req.get("prefetch")
    pre = pre if isinstance(pre, Mapping) else {}
    gaps = []
    if pre.get("medications") is None and pre.get("medication") is None:
        gaps.append("the active medications were not sent: interactions and totals with "
                    "them were not checked")
    for key, value in pre.items():
        if isinstance(value, Mapping) and isinstance(value.get("resource"), Mapping):
            value = value["resource"]
        if isinstance(value, Mapping) and value.get("resourceType") == "OperationOutcome":
            gaps.append(f"prefetch {key}: the EHR answered with an OperationOutcome")
        elif isinstance(value, Mapping) and value.get("resourceType") == "Bundle":
            links = value.get("link")
            links = links if isinstance(links, list) else []
            if any(isinstance(ln, Mapping) and ln.get("relation") == "next" for ln in links):
                gaps.append(f"prefetch {key}: only the first page was sent; the rest was "
                            "not checked")
    return gaps


def _dedupe(rec_items: list[object]) -> list[object]:
    """A draft order that also appears among the active medications counts once."""
    drafts = {e.ref for e in rec_items if isinstance(e, FhirEntry) and e.role == ROLE_DRAFT}
    return [e for e in rec_items if not (isinstance(e, FhirEntry) and e.role != ROLE_DRAFT
                                         and e.ref in drafts)]


def evaluate(service: str, req: object, reference: Reference) -> Answer:
    """Answer one hook call (``POST /cds-services/{service}``).

    Raises:
        HookError: the request is not a valid call (400).
        KeyError: no such service (404).
    """
    if service not in SERVICES:
        raise KeyError(service)
    request = _request_shape(service, req)
    hook = SERVICES[service]
    rec = fhir_record(request)
    if rec.error is not None:
        raise HookError(rec.error)
    items = _dedupe(rec.items)
    roles = [e.role if isinstance(e, FhirEntry) else "" for e in items]
    refs = [e.ref if isinstance(e, FhirEntry) else "" for e in items]
    selected: set[str] | None = None
    if hook == "order-select":
        ctx = request["context"]
        selected = {s.split("/")[-1] for s in ctx.get("selections", [])}
    draft_idx = {i for i, r in enumerate(roles) if r == ROLE_DRAFT
                 and (selected is None or refs[i].split("/")[-1] in selected)}
    gaps = _prefetch_gaps(request)
    cards: list[dict[str, Any]] = []
    codes: list[str] = []
    if not items or not draft_idx:
        return Answer({"cards": []}, ())
    engine = engine_for(reference)
    lines: list[object] = [_read(e, engine) if isinstance(e, FhirEntry) else e
                           for e in items]  # read once: suggestions re-check with them
    a = engine.assess(lines, rec.context or EMPTY)
    texts = [ln.line.text for ln in a.lines]
    budget = [MAX_SUGGESTIONS]
    unknown: list[str] = []
    for i, ln in enumerate(a.lines):
        if roles[i] != ROLE_DRAFT and ln.status in ("unparseable", "unknown"):
            gaps.append(f"an active medication could not be read ({refs[i]}: "
                        f"{(ln.line.error or ln.line.name or 'not understood')[:80]}): it is "
                        "not in the totals or interactions")
    for _, at, body in a.findings:
        if not draft_idx.intersection(at):
            continue
        f = Finding(body.code, body.category, body.severity, body.items, at, body.message,
                    body.source, body.rule)
        if hook == "order-select" and f.code in UNDECIDED:
            continue
        if f.code == "MR002":
            unknown.append(_name(texts, f))
            continue
        if f.code == "MR602":
            gaps.append(re.sub(r" \(--[a-z-]+(?: or --[a-z-]+)?\)", "",
                               f.message.split(": ", 1)[-1]))
            continue
        if f.severity == "info":
            continue
        cards.append(_card(f, reference, refs, (items, lines), draft_idx, rec.context,
                           budget))
        codes.append(f.code)
    if unknown or gaps:
        cards.append(_not_checked_card(unknown, gaps, reference))
        codes.append("not-checked")
    return Answer({"cards": cards}, tuple(codes))


_ORDER_FIELDS: Final = ("resourceType", "status", "intent", "doNotPerform", "taken",
                         "medicationCodeableConcept", "medicationReference", "contained",
                         "dosageInstruction", "dosage")
"""The fields of an order its reading depends on (not its id, patient, dates or notes)."""
_READ_CACHE: dict[tuple[int, str], MedicationLine] = {}
_READ_CACHE_SIZE: Final = 8192
_read_lock = threading.Lock()


def _read(entry: FhirEntry, engine: Engine) -> MedicationLine:
    """:func:`read_entry`, remembered by the order's content (the same drug, dose and timing
    recur across patients); a line that could not be read is not remembered (its message
    names the resource)."""
    res = entry.resource
    key = (id(engine), json.dumps([[res.get(k) for k in _ORDER_FIELDS], entry.medication,
                                   entry.notes], sort_keys=True, default=str))
    hit = _READ_CACHE.get(key)
    if hit is not None:
        return hit
    line = read_entry(entry, engine._lex)
    if line.readable:
        with _read_lock:
            if len(_READ_CACHE) >= _READ_CACHE_SIZE:
                _READ_CACHE.clear()
            _READ_CACHE[key] = line
    return line


def _name(texts: Sequence[str], f: Finding) -> str:
    m = re.match(r"^'([^']+)'", f.message)
    if m:
        return m.group(1)
    return texts[f.lines[0]] if f.lines else "an order"


def _source(reference: Reference) -> dict[str, Any]:
    return {"label": f"medref {__version__} (data {reference.info.version})",
            "topic": {"system": "urn:medref:data-sha256", "code": reference.info.sha256[:12],
                      "display": "medref data set"}}


def _summary(f: Finding) -> str:
    text = f.message.split("; ", 1)[0] if len(f.message) > 139 else f.message
    return text if len(text) <= 139 else text[:138].rstrip() + "…"


def _card(f: Finding, reference: Reference, refs: Sequence[str],
          items: tuple[list[object], list[object]], draft_idx: set[int], ctx: Context | None,
          budget: list[int]) -> dict[str, Any]:
    act = act_code(f)
    involved = [refs[i] for i in f.lines if i < len(refs)]
    detail = [f"**{f.code}** ({f.category}, {f.severity})" + (f" - {act[1]}" if act else ""),
              "", f.message, ""]
    if f.source:
        detail.append(f"Source: {f.source}")
    detail.append(f"Orders involved: {', '.join(involved)}")
    detail.append(f"Alert policy {ALERT_POLICY}; medref {__version__}, data "
                  f"{reference.info.version} ({reference.info.sha256[:12]}).")
    card: dict[str, Any] = {
        "uuid": str(uuid.uuid4()), "summary": _summary(f),
        "indicator": INDICATOR[f.severity], "detail": "\n".join(detail),
        "source": _source(reference),
        "overrideReasons": _OVERRIDES,
    }
    suggestion = None
    if budget[0] > 0 and f.severity == "error":
        budget[0] -= 1
        suggestion = _suggest(f, reference, items, draft_idx, ctx)
    if suggestion is not None:
        card["suggestions"] = [suggestion]
        card["selectionBehavior"] = "at-most-one"
    return card


def _not_checked_card(unknown: list[str], gaps: list[str], reference: Reference
                      ) -> dict[str, Any]:
    parts = []
    if unknown:
        parts.append("Not in medref's reference, not checked: " + ", ".join(
            dict.fromkeys(unknown)) + ".")
    if gaps:
        parts.append("Could not be checked for lack of data:\n" + "\n".join(
            f"- {g}" for g in dict.fromkeys(gaps)))
    summary = ("Some orders were not checked: " + ", ".join(dict.fromkeys(unknown))
               if unknown else "Some checks need data the EHR did not send")
    return {"uuid": str(uuid.uuid4()), "summary": _summary_text(summary), "indicator": "info",
            "detail": "\n\n".join(parts), "source": _source(reference)}


def _summary_text(text: str) -> str:
    return text if len(text) <= 139 else text[:138].rstrip() + "…"


# -- suggestions ----------------------------------------------------------------------------

_LIMIT_CODES: Final = frozenset({"MR101", "MR102", "MR103", "MR107"})
MAX_SUGGESTIONS: Final = 1
"""Findings per call that get a suggestion (each costs re-checks of the whole regimen)."""
MAX_CANDIDATES: Final = 6
"""Changed orders tried per suggestion."""


def _suggest(f: Finding, reference: Reference, items: tuple[list[object], list[object]],
             draft_idx: set[int], ctx: Context | None) -> dict[str, Any] | None:
    """A safer draft order for a single-order limit problem: a longer interval or a smaller
    dose, offered only when the whole regimen re-checked with it no longer has a finding of
    that code on that order (and gains no error)."""
    if f.code not in _LIMIT_CODES or len(f.lines) != 1 or f.lines[0] not in draft_idx:
        return None
    entries, lines = items
    i = f.lines[0]
    entry = entries[i]
    if not isinstance(entry, FhirEntry):
        return None
    engine = engine_for(reference)
    cands = _candidates(entry.resource, intervals=f.code != "MR101",
                        whole_units=_extended(lines[i]))
    for label, candidate in itertools.islice(cands, MAX_CANDIDATES):
        line = read_entry(entry._replace(resource=candidate), engine._lex)
        # a change that does not clear the order's own limit alone cannot clear it beside
        # the other orders: tried alone first (cheap), then with the whole regimen
        alone = engine.assess([line], ctx or EMPTY)
        if alone.lines[0].status != "checked" or any(
                b.code == f.code or b.severity == "error" for _, _, b in alone.findings):
            continue
        trial = list(lines)
        trial[i] = line
        a = engine.assess(trial, ctx or EMPTY)
        if a.lines[i].status != "checked":
            continue
        bad = [b for _, at, b in a.findings if i in at and (b.code == f.code
                                                           or b.severity == "error")]
        if not bad:
            return {"label": _summary_text(f"Change to {label}"), "uuid": str(uuid.uuid4()),
                    "isRecommended": False,
                    "actions": [{"type": "update", "description": f"Update the draft order "
                                 f"to {label} (re-checked with the whole regimen)",
                                 "resource": candidate}]}
    return None


def _extended(line: object) -> bool:
    """True for an extended-release order (its unit must not be split or crushed)."""
    return isinstance(line, MedicationLine) and line.formulation == "ER"


def _candidates(resource: Mapping[str, Any], intervals: bool = True,
                whole_units: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Longer intervals (unless ``intervals`` is False: a single dose too high), then smaller
    doses, of the first dosage instruction (each a copy of the order with only that changed,
    and its free text dropped)."""
    dosages = resource.get("dosageInstruction")
    if not isinstance(dosages, list) or not dosages or not isinstance(dosages[0], dict):
        return
    d = dosages[0]

    def changed(**parts: Any) -> dict[str, Any]:
        nd = {k: v for k, v in d.items() if k not in ("text", "patientInstruction")}
        nd.update(parts)
        return {**resource, "dosageInstruction": [nd, *dosages[1:]]}
    timing = d.get("timing")
    rep = timing.get("repeat") if isinstance(timing, dict) else None
    if intervals and isinstance(rep, dict) and rep.get("periodUnit") == "h" and \
            isinstance(rep.get("period"), int | float) and rep.get("frequency", 1) == 1:
        for h in (4, 6, 8, 12, 24):
            if h > rep["period"]:
                r2 = {k: v for k, v in rep.items() if k != "periodMax"}
                r2["period"] = h
                assert isinstance(timing, dict)
                yield f"the same dose every {h} hours", changed(timing={**timing,
                                                                        "repeat": r2})
    dr = d.get("doseAndRate")
    q = dr[0].get("doseQuantity") if isinstance(dr, list) and dr and isinstance(dr[0], dict) \
        else None
    if whole_units:
        return  # an extended-release dose is whole units: no smaller dose is offered
    if isinstance(q, dict) and isinstance(q.get("value"), int | float) and q["value"] > 0:
        v = float(q["value"])
        unit = str(q.get("unit") or q.get("code") or "").lower()
        mass = unit in ("mg", "mcg", "ug", "g", "ml", "[iu]", "iu")
        for k in (0.75, 0.5, 0.25):
            nv = v * k
            if nv != int(nv) and not mass:
                continue  # never a fraction of a tablet, capsule, patch or unit
            value = int(nv) if nv == int(nv) else nv
            assert isinstance(dr, list)
            yield (f"{nv:g} {q.get('unit') or q.get('code') or ''} a dose".strip(),
                   changed(doseAndRate=[{**dr[0], "doseQuantity": {**q, "value": value}},
                                        *dr[1:]]))


def feedback_outcomes(body: object) -> list[dict[str, str]]:
    """The outcomes of a feedback call (``{"feedback": [{card, outcome, ...}]}``), reduced to
    what the audit log keeps: the card uuid, the outcome and an override reason code.

    Raises:
        HookError: the body is not a feedback document.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("feedback"), list):
        raise HookError("feedback (a list) is required")
    out = []
    for fb in body["feedback"]:
        if not isinstance(fb, Mapping) or not isinstance(fb.get("card"), str) or \
                fb.get("outcome") not in ("accepted", "overridden"):
            raise HookError("each feedback needs a card uuid and an outcome "
                            "(accepted or overridden)")
        accepted = fb.get("acceptedSuggestions")
        if fb["outcome"] == "accepted" and (not isinstance(accepted, list) or not all(
                isinstance(a, Mapping) and isinstance(a.get("id"), str) for a in accepted)):
            raise HookError("an accepted card's feedback needs acceptedSuggestions (a list of "
                            "{\"id\": suggestion uuid})")
        reason = fb.get("overrideReason")
        code = ""
        if isinstance(reason, Mapping):
            rc = reason.get("reason")
            if isinstance(rc, Mapping) and isinstance(rc.get("code"), str):
                code = rc["code"][:64]
        out.append({"card": fb["card"][:64], "outcome": str(fb["outcome"]), "reason": code,
                    "suggestions": str(len(accepted) if isinstance(accepted, list) else 0)})
    return out
