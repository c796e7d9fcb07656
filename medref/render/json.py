"""The one JSON serializer: findings, summaries, ``check`` documents and ``batch`` lines.

Every JSON medref writes goes through :class:`JsonWriter`: ``check --format json`` (the whole
document, pretty-printed from the same compact text), ``batch`` (one compact line per record),
and :meth:`medref.api.RecordResult.to_json`. A finding's JSON is built once per distinct
finding and kept on it; a record then costs a join of cached bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from medref._version import __version__
from medref.codes import ALERT_POLICY
from medref.context import Context
from medref.engine import Assessment, FindingBody, Placed
from medref.reference import Reference
from medref.regimen import FhirInfo
from medref.result import CheckResult
from medref.vocab import STATUSES

_SEV = ('"info"', '"warning"', '"error"')
_dumps_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
json_string: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string literal, as the encoder above writes it (UTF-8 characters kept)."""


def dumps(obj: Any) -> str:
    """Compact JSON text, UTF-8 characters kept (as every medref JSON output)."""
    return _dumps_compact(obj)


_ESCAPED: dict[str, str] = {}
"""The JSON literals of the short strings findings repeat (codes, categories, severities,
ingredient ids, sources, rule ids): a memo of :data:`json_string`, bounded by
:data:`_ESCAPED_SIZE`. Escaping one short string through the encoder cost more than the
rest of a new finding's JSON."""
_ESCAPED_SIZE = 8_192


def _escaped(text: str) -> str:
    lit = _ESCAPED.get(text)
    if lit is None:
        lit = json_string(text)
        if len(_ESCAPED) >= _ESCAPED_SIZE:
            _ESCAPED.clear()
        _ESCAPED[text] = lit
    return lit


def _body_parts(body: FindingBody) -> tuple[bytes, bytes]:
    """A finding's compact JSON before and after the numbers of its ``lines`` list."""
    parts = body.json
    if parts is None:
        # the bytes of dumps({"code": ..., "category": ..., ..., "rule": ...}) around the
        # lines, each string escaped by the encoder's own function (no dict, no encoder run;
        # the short ones remembered, the message, nearly always new, escaped once)
        # (_escaped called by name: compiled, a direct call)
        items = ",".join([_escaped(i) for i in body.items])
        pre = (f'{{"code":{_escaped(body.code)},"category":{_escaped(body.category)},'
               f'"severity":{_escaped(body.severity)},"items":[{items}],"lines":[')
        post = (f',"source":{"null" if body.source is None else _escaped(body.source)},'
                f'"rule":{"null" if body.rule is None else _escaped(body.rule)}}}')
        parts = body.json = (pre.encode(), b'],"message":' + message_literal(body.message)
                             + post.encode())
    return parts


_JSON_SPECIAL = bytes(range(0x20)) + b'"\\'
"""The bytes a JSON string escapes (ensure_ascii off): control characters, quote, backslash."""


def message_literal(text: str) -> bytes:
    """``json_string(text)`` as UTF-8 bytes. A message with nothing to escape (the usual
    case) is wrapped as it is: its bytes are checked in one C pass (``bytes.translate``),
    where the encoder's escaper walks it character by character."""
    raw = text.encode()
    if len(raw.translate(None, _JSON_SPECIAL)) == len(raw):
        return b'"' + raw + b'"'
    return json_string(text).encode()


def _count(placed: list[Placed]) -> tuple[list[int], dict[str, int]]:
    """The findings counted by severity rank and by category (as :meth:`JsonWriter._add_findings`
    counts them while writing)."""
    sev = [0, 0, 0]
    cats: dict[str, int] = {}
    for _, _, body in placed:
        sev[body.rank] += 1
        cats[body.category] = cats.get(body.category, 0) + 1
    return sev, cats


class JsonWriter:
    """Serializes assessments for one reference, with its own bounded memo of summary tails.

    The bytes equal ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` of the
    documented dicts (``CheckResult.to_dict()``, ``RecordResult.to_dict()``); a test compares
    them record by record.
    """

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self._table = dumps(reference.knowledge.policy.mme_factor_table_version)
        self._data = dumps(reference.info.to_dict())
        self._tails: dict[int, tuple[Context, tuple[str | None, ...], bytes]] = {}
        self._lines: dict[tuple[int, ...], bytes] = {}
        self._statuses: dict[tuple[str, ...], str] = {}
        self._last: tuple[object, tuple[str | None, ...], bytes] = (None, (), b"")

    def findings(self, placed: list[Placed]) -> bytes:
        """The JSON array of sorted findings."""
        out = [b"["]
        self._add_findings(placed, out)
        out.append(b"]")
        return b"".join(out)

    def _add_findings(self, placed: list[Placed], out: list[bytes]
                      ) -> tuple[list[int], dict[str, int]]:
        """Append the findings' bytes, comma-separated, to ``out``; count them by severity
        rank and by category on the way."""
        lines_memo = self._lines
        sev = [0, 0, 0]
        cats: dict[str, int] = {}
        for _, lines, body in placed:
            pre, post = body.json or _body_parts(body)
            lj = lines_memo.get(lines)
            if lj is None:
                lj = ",".join(map(str, lines)).encode()
                if len(lines_memo) < 4096:
                    lines_memo[lines] = lj
            out += (pre, lj, post, b",")
            sev[body.rank] += 1
            cat = body.category
            cats[cat] = cats.get(cat, 0) + 1
        if placed:
            out.pop()
        return sev, cats

    def summary(self, a: Assessment, sources: Mapping[str, str | None]) -> bytes:
        """The JSON object of the summary."""
        return self.summary_counts(a, sources)[0]

    def summary_counts(self, a: Assessment, sources: Mapping[str, str | None],
                       fhir: FhirInfo | None = None,
                       counted: tuple[list[int], dict[str, int]] | None = None
                       ) -> tuple[bytes, list[int], dict[str, int]]:
        """The summary's JSON, with the findings counted by severity rank and by category
        (``counted``: those counts, when the caller has them)."""
        sev, cats = counted if counted is not None else _count(a.findings)
        statuses = tuple([ln.status for ln in a.lines])
        st = self._statuses.get(statuses)
        if st is None:
            counts = dict.fromkeys(STATUSES, 0)
            for x in statuses:
                counts[x] += 1
            st = (f'{{"items":{len(statuses)},"checked":{counts["checked"]},'
                  f'"statuses":{dumps(counts)},')
            if len(self._statuses) >= 4096:
                self._statuses.clear()
            self._statuses[statuses] = st
        findings = a.findings
        by_cat = ",".join([f'"{c}":{cats[c]}' for c in sorted(cats)])
        head = (f'{st}"findings":{len(findings)},"by_severity":{{"info":{sev[0]},'
                f'"warning":{sev[1]},"error":{sev[2]}}},"by_category":{{{by_cat}}},'
                f'"highest_severity":{_SEV[findings[0][2].rank] if findings else "null"},'
                f'"mme_per_day":{"null" if a.mme is None else repr(a.mme)},')
        tail = self._tail(a.context, sources)
        if fhir is not None:
            tail = tail[:-1] + b',"fhir":' + dumps(fhir.to_dict()).encode() + b"}"
        return head.encode() + tail, sev, cats

    def _tail(self, ctx: Context, sources: Mapping[str, str | None]) -> bytes:
        srcs = tuple(sources.values())
        if ctx is self._last[0] and srcs == self._last[1]:
            return self._last[2]
        # by the context object (held in the entry, so its id is not reused): a batch passes
        # the same few objects again and again, and hashing a context hashes every field, in
        # Python (a caller's new context is written afresh: a few microseconds)
        got = self._tails.get(id(ctx))
        hit = got[2] if got is not None and got[0] is ctx and got[1] == srcs else None
        if hit is None:
            hit = (f'"mme_factor_table":{self._table},"context":{dumps(ctx.to_dict())},'
                   f'"data":{self._data},"context_sources":{dumps(dict(sources))},'
                   f'"alert_policy":"{ALERT_POLICY}"}}').encode()
            if len(self._tails) >= 256:
                self._tails.clear()
            self._tails[id(ctx)] = (ctx, srcs, hit)
        self._last = (ctx, srcs, hit)
        return hit

    def record(self, rid: object, a: Assessment, sources: Mapping[str, str | None]) -> bytes:
        """One ``batch`` output line (no newline): ``{"id", "findings", "summary"}``."""
        return self.record_counts(rid, a, sources)[0]

    def record_counts(self, rid: object, a: Assessment, sources: Mapping[str, str | None],
                      fhir: FhirInfo | None = None) -> tuple[bytes, list[int], dict[str, int]]:
        """:meth:`record`, with the findings counted by severity rank and by category (one
        pass over the findings for both)."""
        tail, sev, cats = self.record_tail(a, sources, fhir)
        return self.with_id(rid, tail), sev, cats

    @staticmethod
    def with_id(rid: object, tail: bytes) -> bytes:
        """A ``batch`` line from its id and :meth:`record_tail`."""
        return JsonWriter.id_head(rid) + tail

    @staticmethod
    def id_head(rid: object) -> bytes:
        """The start of a ``batch`` line, up to its id: ``{"id":...``."""
        return b'{"id":' + (json_string(rid) if rid.__class__ is str else dumps(rid)).encode()

    def record_tail(self, a: Assessment, sources: Mapping[str, str | None],
                    fhir: FhirInfo | None = None) -> tuple[bytes, list[int], dict[str, int]]:
        """A ``batch`` line after its id (``,"findings":[...],"summary":{...}}``), with the
        findings counted by severity rank and by category."""
        out = [b',"findings":[']
        counted = self._add_findings(a.findings, out)
        summary, sev, cats = self.summary_counts(a, sources, fhir, counted)
        out += (b'],"summary":', summary, b"}")
        return b"".join(out), sev, cats

    def error(self, rid: object, line: int, error: str) -> bytes:
        """One ``batch`` line for a record that could not be read."""
        return dumps({"id": rid, "line": line, "error": error}).encode()

    def document(self, result: CheckResult) -> bytes:
        """The compact ``check --format json`` document."""
        items = dumps([i.to_dict() for i in result.items])
        findings = dumps([f.to_dict() for f in result.findings])
        summary = dumps(result.summary.to_dict())
        return (f'{{"items":{items},"findings":{findings},"summary":{summary},'
                f'"medref_version":{dumps(__version__)}}}').encode()


def check_json(result: CheckResult, reference: Reference) -> str:
    """The JSON document of ``medref check --format json``: laid out for people (one item and
    one finding per line), each part written by the one compact serializer."""
    items = ",\n    ".join(dumps(i.to_dict()) for i in result.items)
    findings = ",\n    ".join(dumps(f.to_dict()) for f in result.findings)
    return (f'{{\n  "items": [\n    {items}\n  ],\n  "findings": [\n    {findings}\n  ],\n'
            f'  "summary": {dumps(result.summary.to_dict())},\n'
            f'  "medref_version": {dumps(__version__)}\n}}').replace("[\n    \n  ]", "[]")
