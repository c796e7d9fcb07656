"""Regimen files: one reader per format, every one producing :class:`~medref.regimen.Record`.

- ``.txt``: one item per line (blank lines and ``#`` comments skipped): one record.
- ``.json``: a list of items, or one record object ``{"id", "items", "context"}``.
- ``.jsonl``: one record object per line.
- ``.csv``: a header, then one row per item; rows are grouped into records by consecutive
  ``id`` (no ``id`` column: one record). Item columns ``sig`` or ``name`` (and optionally
  ``dose``, ``dose_max``, ``unit``, ``frequency``, ``route``, ``prn``, ``prn_reason``,
  ``duration``, ``strength``, ``form``: what a row leaves out is reported as a finding, such
  as MR006 for no frequency); context columns ``age``, ``crcl``, ``hepatic_impairment``,
  ``weeks_since_surgery``, on any row of a record (two rows of one record that disagree are
  an error naming both rows). A column named twice is an error.

``medref check -f`` reads one record with :func:`read_regimen_file` (a problem raises
:class:`~medref.errors.InputError` naming file, line and field); ``medref batch`` and
:func:`medref.check_many` read many with :func:`iter_jsonl` and :func:`iter_csv`, where a record
that cannot be read becomes a record with ``error`` set and reading goes on.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO, TextIO

from medref.context import CONTEXT_KEYS, context_from_raw
from medref.errors import InputError
from medref.readers.lines import STRUCTURED_FIELDS
from medref.readers.records import record_from_obj
from medref.regimen import Record

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""``check -f`` inputs above this size are refused (memory stays bounded)."""
MAX_RECORD_CHARS = 1_000_000
"""A JSONL record longer than this is reported as an error without being parsed."""
MAX_JSON_DEPTH = 50

CSV_ITEM = ("sig", *(f for f in STRUCTURED_FIELDS if f != "sig"))
"""Item columns of a CSV."""
CSV_COLUMNS = ("id", *CSV_ITEM, *CONTEXT_KEYS)
"""Every column a CSV may have."""

FORMATS = ("txt", "json", "jsonl", "csv")


def open_binary(path: str) -> BinaryIO:
    """Open an input file for reading bytes (``-`` is stdin).

    Raises:
        InputError: missing file, a directory, or unreadable (one line naming the file).
    """
    if path == "-":
        return sys.stdin.buffer
    if os.path.isdir(path):
        raise InputError("is a directory, not a file", source=path)
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError("file not found", source=path) from None
    except PermissionError:
        raise InputError("permission denied", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=path) from None


def read_bytes(path: str) -> tuple[bytes, str]:
    """Read a file (``-`` for stdin). Returns the bytes and a display name.

    Raises:
        InputError: missing file, a directory, unreadable, or too large.
    """
    name = "<stdin>" if path == "-" else path
    fh = open_binary(path)
    try:
        data = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})", source=name) from None
    finally:
        if path != "-":
            fh.close()
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB", source=name)
    return data, name


def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (a BOM is dropped); bad bytes are reported with their line number."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not valid UTF-8 text", source=name, line=line) from None


def guess_format(name: str, text: str) -> str:
    """``json``, ``jsonl``, ``csv`` or ``txt`` from the file name, else from the content."""
    low = name.lower()
    for ext in ("jsonl", "json", "csv", "txt"):
        if low.endswith("." + ext):
            return ext
    return "json" if text.lstrip().startswith(("[", "{")) else "txt"


def read_regimen_file(path: str, fmt: str | None = None) -> Record:
    """Read one regimen from a file (``-`` for stdin): its items, their lines, its context.

    Raises:
        InputError: naming the file, line and field.
    """
    data, name = read_bytes(path)
    text = decode(data, name)
    kind = fmt or guess_format(name, text)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("binary content (NUL byte); expected text", source=name, line=line)
    if kind == "json":
        rec = _read_json(text, name)
    elif kind == "jsonl":
        rec = _one(iter_jsonl(text.splitlines(keepends=True)), name, "record")
    elif kind == "csv":
        rec = _one(iter_csv(io.StringIO(text), strict=True, name=name), name, "id")
    else:
        rec = _read_txt(text)
    if not rec.items:
        raise InputError("no regimen lines found (the input is empty)", source=name)
    return rec


def _one(records: Iterator[Record], name: str, what: str) -> Record:
    """The only record of a file for ``check``; a second one is an error."""
    first: Record | None = None
    for rec in records:
        if rec.error is not None:
            raise InputError(rec.error, source=name, line=rec.line or None)
        if first is not None:
            raise InputError(f"a second {what} {rec.id!r} (check reads one regimen; use "
                             "medref batch for several)", source=name, line=rec.line,
                             field="id" if what == "id" else "")
        first = rec
    if first is None:
        raise InputError("no regimen lines found (the input is empty)", source=name)
    return first


def _read_txt(text: str) -> Record:
    items: list[object] = []
    lines: list[int] = []
    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.strip()
        if s and not s.startswith("#"):
            items.append(s)
            lines.append(n)
    return Record(None, items, None, 1, item_lines=tuple(lines))


def _depth_ok(text: str) -> bool:
    depth = best = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            best = max(best, depth)
            if best > MAX_JSON_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _read_json(text: str, name: str) -> Record:
    if not _depth_ok(text):
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", source=name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=name,
                         line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {str(exc)[:80]}", source=name) from None
    from medref.readers.fhir_detect import is_fhir
    if is_fhir(doc):
        from medref.readers.fhir import fhir_record
        rec = fhir_record(doc)
        if rec.error is not None:
            raise InputError(rec.error, source=name)
        if not rec.items:
            skipped = "; ".join(f"{s.ref}: {s.reason}" for s in rec.fhir.skipped) \
                if rec.fhir is not None else ""
            raise InputError("no medication to check in the FHIR input"
                             + (f" ({skipped})" if skipped else ""), source=name)
        return rec
    lines: tuple[int, ...] | None = None
    rid: object = None
    ctx = None
    if isinstance(doc, list):
        lines = tuple(_element_lines(text))
    if isinstance(doc, dict) and "items" in doc:
        for key in doc:
            if key not in ("id", "items", "context"):
                raise InputError("unknown top-level key (expected id, items, context)",
                                 source=name, field=str(key))
        raw_ctx = doc.get("context")
        if raw_ctx is not None and not isinstance(raw_ctx, dict):
            raise InputError("must be an object", source=name, field="context")
        try:
            ctx = context_from_raw(raw_ctx)
        except ValueError as exc:
            msg = str(exc)
            raise InputError(msg.partition(": ")[2] or msg, source=name,
                             field=_context_field(msg)) from None
        rid = doc.get("id")
        doc = doc["items"]
    if not isinstance(doc, list):
        unknown = [str(k) for k in doc if k not in ("id", "items", "context")] \
            if isinstance(doc, dict) else []
        raise InputError("expected a JSON list of lines or items (or {\"items\": [...]})",
                         source=name, field=unknown[0] if unknown else "")
    for i, it in enumerate(doc):
        if not isinstance(it, str | dict):
            raise InputError(f"item {i} must be a string or an object, not "
                             f"{type(it).__name__}", source=name, field=f"items[{i}]")
    if lines is not None and len(lines) != len(doc):
        lines = None
    return Record(rid, list(doc), ctx, 1, item_lines=lines)


def _context_field(message: str) -> str:
    """``context.age`` from ``field 'context.age': ...``."""
    if message.startswith("field '"):
        return message[len("field '"):].partition("'")[0]
    return "context"


def _element_lines(text: str) -> list[int]:
    """File line on which each element of a top-level JSON list starts."""
    dec = json.JSONDecoder()
    pos = text.index("[") + 1
    out: list[int] = []
    n = len(text)
    line, counted = 1, 0
    while pos < n:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n or text[pos] == "]":
            break
        line += text.count("\n", counted, pos)
        counted = pos
        out.append(line)
        _, pos = dec.raw_decode(text, pos)
    return out


# -- JSONL -----------------------------------------------------------------------------------

# lone surrogates, written with chr(): mypyc takes no surrogate code points in string literals
_BAD_BYTES = re.compile("[" + chr(0xDC80) + "-" + chr(0xDCFF) + "]")


def record_from_text(text: str, n: int) -> Record | None:
    """A record from one JSONL line of text (None for a blank line)."""
    if len(text) > MAX_RECORD_CHARS:
        return Record(None, [], line=n, error=f"record longer than {MAX_RECORD_CHARS:,} "
                      "characters")
    if _BAD_BYTES.search(text):
        return Record(None, [], line=n, error="not valid UTF-8 text")
    return _record_from_json(text, n)


_scan_once: Callable[[str, int], tuple[object, int]] = vars(json.JSONDecoder())["scan_once"]
"""The scanner ``json.loads`` runs (the C one), called without the decoder's wrappers."""


def _loads(text: str) -> object:
    """``json.loads(text)``: a line that is one JSON object (and whitespace) is read by the
    decoder's scanner directly; anything else, and every error, by ``json.loads`` itself."""
    if text[:1] == "{":
        try:
            obj, end = _scan_once(text, 0)
        except (StopIteration, ValueError):
            return json.loads(text)
        if end == len(text) or not text[end:].strip(" \t\n\r"):
            return obj
    return json.loads(text)


def _record_from_json(text: str, n: int) -> Record | None:
    """A record from one line of valid text (no stray surrogates), its length checked."""
    try:
        obj = _loads(text)
    except ValueError as exc:
        if not text.strip():
            return None
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Record(None, [], line=n, error=f"invalid JSON: {msg}")
    except RecursionError:
        return Record(None, [], line=n, error="invalid JSON: nested too deeply")
    return record_from_obj(obj, n)


def record_from_bytes(raw: bytes, n: int) -> Record | None:
    """A record from one raw JSONL line (None for a blank line)."""
    if len(raw) > MAX_RECORD_CHARS:
        long = len(raw.decode("utf-8", "surrogateescape")) > MAX_RECORD_CHARS
        if long:
            return Record(None, [], line=n, error=f"record longer than {MAX_RECORD_CHARS:,} "
                          "characters")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Record(None, [], line=n, error="not valid UTF-8 text")
    if len(text) > MAX_RECORD_CHARS:
        return record_from_text(text, n)
    return _record_from_json(text, n)  # strict UTF-8: no surrogates to look for


def iter_jsonl(stream: Iterable[str]) -> Iterator[Record]:
    """Records from JSONL text lines; blank lines are skipped, bad lines become errors."""
    for n, text in enumerate(stream, 1):
        rec = record_from_text(text, n)
        if rec is not None:
            yield rec


def iter_jsonl_chunks(stream: BinaryIO, size: int) -> Iterator[tuple[list[bytes], int]]:
    """Raw JSONL lines (bytes) in chunks of ``size`` with the 1-based line number of the first.

    A line longer than a record can be is cut short (the rest is skipped, never held in
    memory) and reported as too long; a UTF-8 byte order mark at the start is dropped.
    """
    limit = 4 * MAX_RECORD_CHARS + 2
    buf: list[bytes] = []
    start = 1
    n = 0
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            break
        if n == 0 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        n += 1
        if len(line) >= limit and not line.endswith(b"\n"):
            while True:
                more = readline(1 << 20)
                if not more or more.endswith(b"\n"):
                    break
            line = b" " * (MAX_RECORD_CHARS + 1)
        buf.append(line)
        if len(buf) >= size:
            yield buf, start
            buf, start = [], n + 1
    if buf:
        yield buf, start


def records_from_chunk(lines: list[bytes], start: int) -> Iterator[Record]:
    """The records of a chunk of raw JSONL lines (a bare CR ends a line too, as in text
    mode)."""
    n = start - 1
    for raw in lines:
        n += 1
        if b"\r" in raw.rstrip(b"\r\n"):
            for part in raw.splitlines():
                rec = record_from_bytes(part, n)
                if rec is not None:
                    yield rec
                n += 1
            n -= 1
            continue
        rec = record_from_bytes(raw, n)
        if rec is not None:
            yield rec


def text_stream(binary: BinaryIO) -> TextIO:
    """Wrap a binary stream as UTF-8 text (BOM dropped; bad bytes kept as surrogates, reported)."""
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline=None)


# -- CSV -------------------------------------------------------------------------------------

class _CsvRecord:
    """The rows of one CSV record as they are read."""

    def __init__(self, rid: str, line: int) -> None:
        self.rid, self.line = rid, line
        self.items: list[object] = []
        self.item_lines: list[int] = []
        self.context: dict[str, tuple[str, int]] = {}
        self.error: str | None = None
        self.error_line = line

    def add(self, fields: dict[str, str], n: int) -> None:
        if self.error is not None:
            return
        for key in CONTEXT_KEYS:
            value = fields.get(key, "")
            if not value:
                continue
            seen = self.context.get(key)
            if seen is not None and seen[0] != value:
                self.error = (f"field '{key}': {value!r} differs from {seen[0]!r} on line "
                              f"{seen[1]} (one regimen has one context)")
                self.error_line = n
                return
            if seen is None:
                self.context[key] = (value, n)
        item = {k: v for k, v in fields.items() if k in CSV_ITEM and v}
        if not item:
            self.error = "no item fields (sig or name ...)"
            self.error_line = n
            return
        self.items.append(item["sig"] if set(item) == {"sig"} else item)
        self.item_lines.append(n)

    def record(self) -> Record:
        rid = self.rid if self.rid != "" else None
        if self.error is not None:
            return Record(rid, [], line=self.error_line, error=self.error)
        try:
            ctx = context_from_raw({k: v for k, (v, _) in self.context.items()})
        except ValueError as exc:
            key = _context_field(str(exc)).removeprefix("context.")
            where = self.context.get(key, ("", self.line))[1]
            return Record(rid, [], line=where, error=str(exc))
        return Record(rid, self.items, ctx, self.line, item_lines=tuple(self.item_lines))


def iter_csv(stream: TextIO, *, strict: bool = False, name: str = "",
             require_id: bool = False) -> Iterator[Record]:
    """Records from CSV rows grouped by consecutive ``id`` (one row per item).

    A row that cannot be read becomes its own error record; with ``strict`` (``check -f``) a
    header or row problem raises :class:`InputError` naming the file, line and column.
    ``require_id`` (``batch``): the header must have an ``id`` column.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        if strict:
            raise InputError("empty CSV (no header)", source=name) from None
        return
    except csv.Error as exc:
        yield Record(None, [], line=1, error=f"malformed CSV header: {exc}")
        return
    cols = [h.strip().lower() for h in header]
    problem = _header_problem(cols, require_id)
    if problem is not None:
        if strict:
            raise InputError(problem[0], source=name, line=1, field=problem[1])
        yield Record(None, [], line=1, error=f"CSV header: {problem[0]} ({problem[1]!r})")
        return
    cur: _CsvRecord | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if cur is not None:
                yield cur.record()
                cur = None
            yield Record(None, [], line=reader.line_num, error=f"malformed CSV: {exc}")
            if strict:
                return
            continue
        n = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(cols):
            if cur is not None:
                yield cur.record()
                cur = None
            yield Record(None, [], line=n, error=f"expected {len(cols)} fields, got {len(row)}")
            if strict:
                return
            continue
        fields = dict(zip(cols, (c.strip() for c in row), strict=True))
        rid = fields.get("id", "")
        if cur is None or rid != cur.rid:
            if cur is not None:
                yield cur.record()
            cur = _CsvRecord(rid, n)
        cur.add(fields, n)
    if cur is not None:
        yield cur.record()


def _header_problem(cols: list[str], require_id: bool) -> tuple[str, str] | None:
    """What is wrong with a CSV header (message, column), or None."""
    for c in cols:
        if c not in CSV_COLUMNS:
            return f"unknown CSV column (allowed: {', '.join(CSV_COLUMNS)})", c
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        return "duplicate CSV column (each column once)", dup[0]
    if require_id and "id" not in cols:
        return "needs an 'id' column (batch groups rows into records by id)", "id"
    if "sig" not in cols and "name" not in cols:
        return "needs a 'sig' column or a 'name' column", "name"
    return None
