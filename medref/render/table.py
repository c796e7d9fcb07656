"""Rendering for people: reference tables, entry cards and check reports as tables or CSV.

The only module that imports tabulate. Functions return strings and never print. JSON is
:mod:`medref.render.json`'s.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable, Mapping
from typing import Any

from medref.knowledge import Condition, fmt
from medref.reference import Reference
from medref.render import OutputFormat
from medref.result import CheckResult

WIDTH = 100


def _simple(rows: list[list[Any]], headers: list[str]) -> str | None:
    """tabulate's ``simple`` format, byte for byte, for the common case (cells of plain
    printable ASCII text or whole numbers, on one line or several), without importing
    tabulate: importing it (and the importlib.metadata it loads for its version) is a sixth
    of ``medref check``'s cold start. None for anything else (tabulate renders it). A
    property test compares the two."""
    if not rows or not all(h.isascii() and h.isprintable() for h in headers):
        return None
    cols = len(headers)
    multiline = any("\n" in c for r in rows for c in r if isinstance(c, str))
    text: list[list[list[str]]] = []
    for r in rows:
        if len(r) != cols:
            return None
        cells = []
        for c in r:
            if isinstance(c, int) and not isinstance(c, bool):
                c = str(c)
            if not isinstance(c, str) or not c.isascii():
                return None
            parts = c.strip().splitlines() if multiline else [c.strip()]
            if not all(p.isprintable() for p in parts):
                return None
            cells.append(parts)
        text.append(cells)
    widths = [max(len(headers[i]) + 2, 0, *(len(p) for r in text for p in r[i]))
              for i in range(cols)]
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
           "  ".join("-" * w for w in widths)]
    for r in text:
        height = max(len(c) for c in r)  # 0: tabulate drops an empty multiline row
        for k in range(height):
            out.append("  ".join((c[k] if k < len(c) else "").ljust(w)
                                 for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(out)


def _tabulate(rows: list[list[Any]], headers: list[str], tablefmt: str,
              widths: list[int | None] | None = None) -> str:
    if tablefmt == "simple" and not (widths is not None and any(
            w is not None and _width(c) > w for r in rows
            for c, w in zip(r, widths, strict=False))):
        fast = _simple(rows, headers)
        if fast is not None:
            return fast
    from tabulate import tabulate
    if widths is not None and tablefmt not in ("html", "unsafehtml", "latex", "latex_raw",
                                               "latex_booktabs", "latex_longtable", "tsv"):
        # only the rows with a cell wider than its column go through tabulate's wrapping
        # (which costs ~0.5 ms a row): a 10,000-line regimen renders in a fraction of a second
        wide = [r for r in rows if any(w is not None and _width(c) > w
                                       for c, w in zip(r, widths, strict=False))]
        if wide:
            rows = [_wrap_row(r, widths) for r in rows]
            if tablefmt == "simple":  # every cell fits now: the multiline simple table
                fast = _simple(rows, headers)
                if fast is not None:
                    return fast
    return str(tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True))


def _width(cell: Any) -> int:
    text = str(cell)
    return max(map(len, text.split("\n"))) if "\n" in text else len(text)


def wrap(text: str, width: int) -> list[str]:
    """``textwrap.wrap(text, width)``, line for line: words separated by single spaces (plain
    printable ASCII, no hyphen, no word longer than the width) are wrapped greedily here;
    anything else by textwrap itself. A property test compares the two."""
    words = text.split(" ")
    if (width < 1 or not text or "  " in text or not text.isascii() or not text.isprintable()
            or "-" in text or not words[0] or not words[-1]
            or max(map(len, words)) > width):
        return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True)
    out: list[str] = []
    line = words[0]
    for w in words[1:]:
        if len(line) + 1 + len(w) <= width:
            line += " " + w
        else:
            out.append(line)
            line = w
    out.append(line)
    return out


def _wrap_row(row: list[Any], widths: list[int | None]) -> list[Any]:
    """Cells wider than their column wrapped onto several lines (as tabulate's maxcolwidths
    does); the others as they are."""
    out = []
    for cell, w in zip(row, widths, strict=False):
        text = str(cell)
        if w is not None and _width(text) > w:
            out.append("\n".join(part for ln in text.split("\n")
                                 for part in wrap(ln, w)))
        else:
            out.append(cell)
    return out


def typical_text(e: Mapping[str, Any]) -> str:
    """``500-1,000 mg q6h prn`` from an entry's typical dose."""
    t = e.get("typical")
    if not t:
        return "no dose on file" if not e.get("checkable", True) or e["kind"] == "watch" else "-"
    amt = fmt(t["min"]) if t["min"] == t["max"] else f"{fmt(t['min'])}-{fmt(t['max'])}"
    per = "/day" if t.get("basis") == "day" else ""
    return f"{amt} {t['unit']}{per} {t['frequency']}"


def max_text(e: Mapping[str, Any]) -> str:
    """The enforced (default) maxima per period and per dose, or a note when none is on file."""
    parts = []
    for lim in e.get("limits", ()):
        if lim.get("when"):
            continue
        routes = f" {'/'.join(lim['routes'])}" if lim.get("routes") else ""
        if lim["kind"] == "period":
            parts.append(f"{fmt(lim['amount'])} {lim['unit']}/{lim['period']}{routes}")
        elif lim["kind"] == "upper-intake":
            parts.append(f"UL {fmt(lim['amount'])} {lim['unit']}/{lim['period']}")
        elif lim["kind"] == "administrations":
            parts.append(f"{fmt(lim['amount'])}x/day")
    ul = [lim for lim in e.get("limits", ()) if lim["kind"] == "upper-intake"]
    if ul and not any(p.startswith("UL") for p in parts):
        adult = sorted({fmt(u["amount"]) for u in ul
                        if (u.get("when") or {}).get("min_age", 0) >= 19
                        or (u.get("when") or {}).get("max_age") is None})
        parts.append(f"UL {'/'.join(adult)} {ul[0]['unit']}/day (adult)")
    return "; ".join(parts) if parts else "none on file"


def classes_text(e: Mapping[str, Any], n: int = 2) -> str:
    """The first ``n`` classes."""
    cls = list(e.get("classes", ()))
    return ", ".join(cls[:n]) + ("..." if len(cls) > n else "")


def entries_table(entries: list[dict[str, Any]], ref: Reference, fmt_: OutputFormat,
                  tablefmt: str = "simple") -> str:
    """Render entries as the reference table (``medref drugs``/``supplements``)."""
    if fmt_ is OutputFormat.JSON:
        data = [{**ref.model(e["id"]).model_dump(mode="json"),
                 "products": [_product_brief(p) for p in ref.products_of(e["id"])]}
                for e in entries]
        return json.dumps(data, indent=2, ensure_ascii=False)
    if fmt_ is OutputFormat.CSV:
        return entries_csv(entries)
    rows = [[e["id"], classes_text(e), typical_text(e), max_text(e),
             (e.get("bone_healing") or {}).get("concern", "none")] for e in entries]
    return _tabulate(rows, ["id", "class", "typical dose", "max (labeled)", "bone"], tablefmt,
                     [24, 16, 20, 20, 7])


def _product_brief(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": p["id"], "name": p["name"], "ingredients": list(p["ingredients"]),
            "dose_form": p["dose_form"], "formulation": p["formulation"], "route": p["route"],
            "strengths": [st["label"] for st in p["strengths"] if not st.get("legacy")]}


def entries_csv(entries: Iterable[Mapping[str, Any]]) -> str:
    """Entries flattened to CSV with stable column names."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["id", "kind", "name", "aliases", "classes", "routes", "typical_text",
                "typical_min", "typical_max", "typical_unit", "typical_basis",
                "typical_frequency", "max_labeled", "bone_concern", "bone_evidence",
                "rxcui", "checkable"])
    for e in entries:
        t = e.get("typical") or {}
        bh = e.get("bone_healing") or {}
        w.writerow([e["id"], e["kind"], e["name"], "; ".join(e.get("aliases", ())),
                    "; ".join(e.get("classes", ())), "; ".join(e.get("routes", ())),
                    t.get("text", ""), t.get("min", ""), t.get("max", ""), t.get("unit", ""),
                    t.get("basis", ""), t.get("frequency", ""), max_text(e),
                    bh.get("concern", ""), bh.get("evidence", ""),
                    (e.get("rxcui") or {}).get("value", ""), e.get("checkable", True)])
    return out.getvalue().rstrip("\n")


def _prov(ref: Reference, obj: Mapping[str, Any]) -> str:
    s = ref.source_label(obj.get("sources", ()), bool(obj.get("verified", True)))
    return s + (f"; note: {obj['note']}" if obj.get("note") else "")


def _wrap(label: str, text: str) -> list[str]:
    lines = textwrap.wrap(text, WIDTH - 18) or [""]
    return [f"{label:<16}  {lines[0]}"] + [f"{'':<16}  {ln}" for ln in lines[1:]]


def _limit_row(lim: Mapping[str, Any]) -> list[str]:
    amt = fmt(lim["amount"])
    kind = lim["kind"]
    if kind in ("period", "upper-intake"):
        what = f"{amt} {lim['unit']}/{lim['period']}"
    elif kind == "single":
        what = f"{amt} {lim['unit']} per dose"
    elif kind == "administrations":
        what = f"{amt} per day"
    elif kind == "duration":
        what = f"{amt} days"
    else:
        what = f"{amt} administrations"
    when = Condition(**lim["when"]).text() if lim.get("when") else ""
    if lim.get("routes"):
        when = (when + "; " if when else "") + "route " + "/".join(lim["routes"])
    return [kind, what, when or "default", lim.get("severity", "error")]


def entry_card(e: Mapping[str, Any], ref: Reference, tablefmt: str = "simple") -> str:
    """A full card for one entry: every field and every source."""
    out: list[str] = []
    out.append(f"{e['name']}  [{e['id']}]  ({e['kind']})")
    out.append("=" * min(WIDTH, len(out[0])))
    if e.get("aliases"):
        out += _wrap("aliases", ", ".join(e["aliases"]))
    out += _wrap("classes", ", ".join(e.get("classes", ())) or "-")
    out += _wrap("routes", ", ".join(e.get("routes", ())) + (
        f" (default {e['default_route']})" if e.get("default_route") else ""))
    if not e.get("checkable", True):
        out += _wrap("dosing", "no dose to check on file: a regimen naming it is reported as "
                     "'no limit on file'")
    t = e.get("typical")
    if t:
        out += _wrap("typical (seed)", f"{typical_text(e)}: \"{t['text']}\"")
    for key, label in (("function", "function"), ("mechanism", "mechanism"),
                       ("regulatory", "regulatory")):
        if e.get(key):
            out += _wrap(label, e[key])
    if e.get("side_effects"):
        out += _wrap("side effects", "; ".join(e["side_effects"]))
    bh = e.get("bone_healing") or {}
    sev = f", flagged {bh['severity']}" if bh.get("severity") else ""
    hd = (f"; high dose above {fmt(bh['high_dose'])} {bh['high_dose_unit']}/day"
          if bh.get("high_dose") else "")
    out += _wrap("bone healing", f"{bh.get('concern', 'none')} (evidence "
                 f"{bh.get('evidence', '?')}{sev}{hd}): {bh.get('rationale', '')} "
                 f"[{_prov(ref, bh)}]")
    for key, label in (("mme_factor", "MME factor"), ("iu_per_mcg", "IU per mcg"),
                       ("elemental_fraction", "elemental frac."), ("rxcui", "RxCUI")):
        v = e.get(key)
        if v:
            out += _wrap(label, f"{v['value']} [{_prov(ref, v)}]")
    if e.get("amount_basis"):
        out += _wrap("amount basis", e["amount_basis"])
    limits = list(e.get("limits", ()))
    if limits:
        out.append("")
        out.append("Limits")
        rows = [[*_limit_row(lim), _prov(ref, lim) + (f" ({lim['label']})"
                                                       if lim.get("label") else "")]
                for lim in limits]
        out.append(_tabulate(rows, ["kind", "maximum", "applies", "severity", "source"],
                             tablefmt, [14, 18, 20, 8, 34]))
    elif e.get("checkable", True) and e["kind"] != "watch":
        out += ["", "Limits: none on file (a regimen line is reported as 'no limit on file')"]
    rules = list(e.get("context_rules", ()))
    if rules:
        out.append("")
        out.append("Patient-context rules")
        typed = ref.ingredients[e["id"]].context_rules
        for r, t in zip(rules, typed, strict=True):
            out += _wrap(f"- {r['action']}", f"{t.when.text()}: {r['message']} "
                         f"[{r['severity']}; {_prov(ref, r)}]")
    notes = list(e.get("notes", ()))
    if notes:
        out.append("")
        out.append("Notes")
        for n in notes:
            text = n if isinstance(n, str) else (
                f"{n.get('note', '')} [{_prov(ref, {**n, 'note': None})}]")
            out += _wrap("-", text)
    out.append("")
    out.append("Sources")
    cited: list[str] = []
    for sid in _all_sources(e):
        if sid not in cited:
            cited.append(sid)
    for sid in cited:
        s = ref.sources.get(sid, {"short": sid, "citation": ""})
        out += _wrap(f"[{sid}]", f"{s['short']}: {s['citation']}")
    return "\n".join(out)


_FORM_WORDS = {"IR": "immediate-release", "ER": "extended-release", "DR": "delayed-release"}


def _limit_applies(lim: Mapping[str, Any], product: Mapping[str, Any]) -> bool:
    forms = lim.get("formulations")
    routes = lim.get("routes")
    return (not forms or product["formulation"] in forms) and (
        not routes or product["route"] in routes)


def product_card(pr: Mapping[str, Any], ref: Reference, tablefmt: str = "simple") -> str:
    """A full card for one marketed product: names, ingredients and strengths, and the limits
    of each ingredient that apply to its formulation and route, with every source."""
    out: list[str] = []
    form = _FORM_WORDS.get(pr["formulation"], pr["formulation"])
    out.append(f"{pr['name']}  [{pr['id']}]  (product: {form} {pr['dose_form']}, "
               f"route {pr['route']})")
    out.append("=" * min(WIDTH, len(out[0])))
    if pr.get("aliases"):
        out += _wrap("aliases", ", ".join(pr["aliases"]))
    if pr.get("named_strengths"):
        out += _wrap("names", ", ".join(f"{n['name']} = {n['strength']}"
                                        for n in pr["named_strengths"]))
    names = [ref.entries[i]["name"] for i in pr["ingredients"]]
    out += _wrap("ingredients", ", ".join(f"{n} [{i}]" for n, i in
                                          zip(names, pr["ingredients"], strict=True)))
    out += _wrap("formulation", f"{pr['formulation']} ({form}): limits for other formulations "
                 "do not apply")
    if pr.get("note"):
        out += _wrap("note", pr["note"])
    out += _wrap("product source", _prov(ref, pr))
    out.append("")
    out.append(f"Strengths (per {pr['dose_form']})")
    rows = []
    for st in pr["strengths"]:
        parts = []
        for c in st["components"]:
            txt = f"{fmt(c['amount'])} {c['unit']}"
            if c.get("base_amount") is not None:
                txt += f" {c.get('salt') or 'salt'} (= {fmt(c['base_amount'])} {c['unit']})"
            parts.append(txt)
        rows.append([st["label"] + (" (no longer marketed)" if st.get("legacy") else ""),
                     *parts, st.get("rxcui") or "-", _prov(ref, st)])
    out.append(_tabulate(rows, ["strength", *names, "RxCUI", "source"], tablefmt,
                         [22, *([16] * len(names)), 9, 30]))
    for iid in pr["ingredients"]:
        e = ref.entries[iid]
        out.append("")
        out.append(f"{e['name']} [{iid}]: limits that apply to this product")
        lims = [lim for lim in e.get("limits", ()) if _limit_applies(lim, pr)]
        if lims:
            rows = [[*_limit_row(lim), _prov(ref, lim) + (f" ({lim['label']})"
                                                           if lim.get("label") else "")]
                    for lim in lims]
            out.append(_tabulate(rows, ["kind", "maximum", "applies", "severity", "source"],
                                 tablefmt, [14, 18, 20, 8, 34]))
        else:
            out.append("  none on file")
        mme = e.get("mme_factor")
        if mme:
            out += _wrap("  MME factor", f"{mme['value']} [{_prov(ref, mme)}]")
        bh = e.get("bone_healing") or {}
        if bh.get("concern", "none") != "none":
            out += _wrap("  bone healing", f"{bh['concern']} (evidence {bh.get('evidence')}): "
                         f"{bh.get('rationale', '')} [{_prov(ref, bh)}]")
    out.append("")
    out.append("Sources")
    cited: list[str] = []
    for sid in _all_sources([pr, *(ref.entries[i] for i in pr["ingredients"])]):
        if sid not in cited:
            cited.append(sid)
    for sid in cited:
        src = ref.sources.get(sid, {"short": sid, "citation": ""})
        out += _wrap(f"[{sid}]", f"{src['short']}: {src['citation']}")
    return "\n".join(out)


def products_table(products: list[Mapping[str, Any]], ref: Reference, fmt_: OutputFormat,
                   tablefmt: str = "simple") -> str:
    """Render products as a reference table (``medref products``)."""
    if fmt_ is OutputFormat.JSON:
        return json.dumps([ref.model(p["id"]).model_dump(mode="json", exclude_none=True)
                           for p in products], indent=2, ensure_ascii=False)
    if fmt_ is OutputFormat.CSV:
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["id", "name", "aliases", "ingredients", "dose_form", "formulation", "route",
                    "strength", "legacy", "amounts", "rxcui"])
        for p in products:
            for st in p["strengths"]:
                w.writerow([p["id"], p["name"], "; ".join(p.get("aliases", ())),
                            "; ".join(p["ingredients"]), p["dose_form"], p["formulation"],
                            p["route"], st["label"], bool(st.get("legacy")),
                            "; ".join(f"{c['ingredient']} {fmt(c['amount'])} {c['unit']}"
                                      for c in st["components"]), st.get("rxcui") or ""])
        return out.getvalue().rstrip("\n")
    rows = [[p["id"], " + ".join(p["ingredients"]), f"{p['formulation']} {p['dose_form']}",
             ", ".join(st["label"] for st in p["strengths"] if not st.get("legacy"))]
            for p in products]
    return _tabulate(rows, ["id", "ingredients", "form", "strengths"], tablefmt,
                     [24, 28, 16, 28])


def _all_sources(obj: Any) -> Iterable[str]:
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if k == "sources" and isinstance(v, list | tuple):
                yield from (str(x) for x in v)
            else:
                yield from _all_sources(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from _all_sources(v)


# -- check reports ----------------------------------------------------------------------------

def safe(text: str) -> str:
    """Text for a terminal: control and bidi characters shown as \\uXXXX, never emitted."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)


_COUNTED = {"tablet": "tablets", "capsule": "capsules", "caplet": "caplets",
            "patch": "patches", "puff": "puffs", "softgel": "softgels", "spray": "sprays",
            "drop": "drops", "gummy": "gummies", "lozenge": "lozenges"}


def _plural(unit: str | None, n: float) -> str:
    """``2 tablets``, ``1 tablet``, ``5 mg``: a count unit in the plural above one."""
    if unit is None:
        return ""
    return _COUNTED.get(unit, unit) if n != 1 else unit


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:g}%"


def check_table(result: CheckResult, tablefmt: str = "simple") -> str:
    """The human report: one row per item, then findings sorted by severity, then a summary."""
    rows = []
    for it in result.items:
        dose = "-"
        if it.dose is not None:
            dose = fmt(it.dose) + (f"-{fmt(it.dose_max)}" if it.dose_max is not None else "")
            dose += f" {_plural(it.unit, it.dose_max or it.dose)}"
        if it.strength is not None and len(it.ingredients) > 1:
            dose += f" {it.strength}" + (" (assumed)" if it.strength_assumed else "")
        avg = " avg" if it.daily_average else ""
        if len(it.ingredients) > 1:
            daily = "\n".join(f"{fmt(g.daily_total)} {g.unit} {g.id}" if g.daily_total
                              is not None else f"- {g.id}" for g in it.ingredients)
            pct = "\n".join(_pct(g.percent_of_max) for g in it.ingredients)
        else:
            daily = (f"{fmt(it.daily_total)} {it.daily_unit}{avg}" if it.daily_total is not None
                     else "-")
            pct = _pct(it.percent_of_max)
        product = it.product or f"? ({it.status})"
        if it.marketed_product and it.marketed_product != it.product:
            product += f" ({it.marketed_name})"
        if it.product and it.status != "checked":
            product += f" ({it.status})"
        shown = it.input if len(it.input) <= 80 else it.input[:77] + "..."
        rows.append([it.line + 1, safe(shown), product, dose, it.frequency or "-", daily, pct])
    out = [_tabulate(rows, ["#", "input", "product", "dose", "frequency", "worst/day", "% max"],
                     tablefmt, [None, 30, 18, 16, 14, 26, 7])]
    out.append("")
    if result.findings:
        out.append("Findings")
        for f in result.findings:
            where = ",".join(str(i + 1) for i in f.lines)
            head = f"{f.severity.upper():<7} {f.code} {f.category}" + (
                f" (line {where})" if where else "")
            out.append(head)
            msg = f.message if len(f.message) <= 2000 else f.message[:1997] + "..."
            out += ["        " + ln for ln in wrap(safe(msg), WIDTH - 8)]
    else:
        out.append("No findings.")
    s = result.summary
    counts = ", ".join(f"{n} {sev}" for sev, n in reversed(list(s.by_severity.items())) if n)
    tail = f"{s.findings} finding{'s' if s.findings != 1 else ''}" + (
        f" ({counts})" if counts else "")
    tail += f"; {s.checked} of {s.items} item{'s' if s.items != 1 else ''} fully checked"
    if s.mme_per_day is not None:
        partial = any(f.code == "MR307" for f in result.findings)
        tail += (f"; opioids {'at least ' if partial else ''}{fmt(s.mme_per_day)} MME/day "
                 f"({s.mme_factor_table})")
        if partial:
            tail += " (MR307: some opioid lines were not counted)"
    out.append("")
    out.append(tail)
    if s.data.get("origin") == "custom":
        out.append(f"data: custom copy at {s.data.get('path')} (version {s.data.get('version')}, "
                   f"sha256 {str(s.data.get('sha256'))[:16]})")
    return "\n".join(out)


def check_csv(result: CheckResult) -> str:
    """Findings as CSV rows (one per finding)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["severity", "code", "category", "items", "lines", "message", "source", "rule"])
    for f in result.findings:
        w.writerow([f.severity, f.code, f.category, ";".join(f.items),
                    ";".join(str(i) for i in f.lines), f.message, f.source or "", f.rule or ""])
    return out.getvalue().rstrip("\n")
