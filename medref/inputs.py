"""Reading regimen files: ``.txt`` (one line per item), ``.json`` (a list of lines or structured
items, or one record ``{"items": [...], "context": {...}, "id": ...}``), ``.csv`` (a header with
``sig`` or at least name, dose, unit, frequency; the optional item columns and the context
columns age, crcl, hepatic_impairment, weeks_since_surgery, as ``medref batch`` reads them).

A file's patient context (a JSON record's ``context``, CSV context columns) is returned by
:func:`read_regimen_file`; nothing in a file is silently ignored: an unknown top-level key or
column is an error.

Every problem raises :class:`~medref.errors.InputError` with a one-line message naming the file,
the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from medref.errors import InputError
from medref.result import CONTEXT_KEYS

if TYPE_CHECKING:
    from medref.result import Context

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""Inputs above this size are refused (memory stays bounded)."""

CSV_REQUIRED = ("name", "dose", "unit", "frequency")
"""Columns a CSV needs when it has no ``sig`` column."""
CSV_OPTIONAL = ("route", "prn", "prn_reason", "duration", "dose_max", "strength", "form")
CSV_SIG = "sig"
"""A whole sig line per row (instead of, or beside, the item columns), as in batch CSV."""
CSV_CONTEXT = CONTEXT_KEYS
"""Patient-context columns (the same value on every row that fills them)."""
CSV_ID = "id"
"""A batch CSV's record id: allowed when every row has the same id (one regimen)."""
JSON_KEYS = ("id", "items", "context")
"""Top-level keys of a JSON regimen object (a batch record)."""
MAX_JSON_DEPTH = 50
LAST_LINES: list[int] = []
"""File line of each item of the last CSV or JSON list read (names lines in errors)."""


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
    """``json``, ``csv`` or ``txt`` from the file name, else from the content."""
    low = name.lower()
    for ext in ("json", "csv", "txt"):
        if low.endswith("." + ext):
            return ext
    return "json" if text.lstrip().startswith(("[", "{")) else "txt"


def parse_text(text: str, name: str, fmt: str) -> list[str | dict[str, Any]]:
    """Parse decoded text in a format into regimen items.

    Raises:
        InputError: malformed content, naming the line and field.
    """
    return _parse(text, name, fmt)[0]


def _parse(text: str, name: str, fmt: str
           ) -> tuple[list[str | dict[str, Any]], dict[str, Any] | None, int | None]:
    """Items, the raw context (or None) and the line it was read from (or None)."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("binary content (NUL byte); expected text", source=name, line=line)
    ctx: dict[str, Any] | None = None
    ctx_line: int | None = None
    if fmt == "json":
        items, ctx = _parse_json(text, name)
    elif fmt == "csv":
        items, ctx, ctx_line = _parse_csv(text, name)
    else:
        stripped = [ln.strip() for ln in text.splitlines()]
        items = [ln for ln in stripped if ln and not ln.startswith("#")]
    if not items:
        raise InputError("no regimen lines found (the input is empty)", source=name)
    return items, ctx, ctx_line


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


def _parse_json(text: str, name: str
                ) -> tuple[list[str | dict[str, Any]], dict[str, Any] | None]:
    if not _depth_ok(text):
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", source=name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=name,
                         line=exc.lineno) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"invalid JSON: {str(exc)[:80]}", source=name) from None
    LAST_LINES.clear()
    if isinstance(doc, list):
        LAST_LINES.extend(_element_lines(text))
    ctx: dict[str, Any] | None = None
    if isinstance(doc, dict) and "items" in doc:
        for key in doc:
            if key not in JSON_KEYS:
                raise InputError(f"unknown top-level key (expected {', '.join(JSON_KEYS)})",
                                 source=name, field=str(key))
        ctx = doc.get("context")
        if ctx is not None and not isinstance(ctx, dict):
            raise InputError("must be an object", source=name, field="context")
        doc = doc["items"]
    if not isinstance(doc, list):
        unknown = [str(k) for k in doc if k not in JSON_KEYS] if isinstance(doc, dict) else []
        raise InputError("expected a JSON list of lines or items (or {\"items\": [...]})",
                         source=name, field=unknown[0] if unknown else "")
    out: list[str | dict[str, Any]] = []
    for i, it in enumerate(doc):
        if isinstance(it, (str, dict)):
            out.append(it)
        else:
            raise InputError(f"item {i} must be a string or an object, not "
                             f"{type(it).__name__}", source=name, field=f"items[{i}]")
    return out, ctx


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


def _parse_csv(text: str, name: str
               ) -> tuple[list[str | dict[str, Any]], dict[str, Any] | None, int | None]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty CSV (no header)", source=name) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=name, line=1) from None
    cols = [h.strip().lower() for h in header]
    if CSV_SIG not in cols:
        missing = [c for c in CSV_REQUIRED if c not in cols]
        if missing:
            raise InputError(f"CSV header lacks required column(s) {', '.join(missing)} "
                             f"(or a '{CSV_SIG}' column)", source=name, line=1,
                             field=missing[0])
    allowed = (CSV_SIG, *CSV_REQUIRED, *CSV_OPTIONAL, *CSV_CONTEXT, CSV_ID)
    for c in cols:
        if c not in allowed:
            raise InputError(f"unknown CSV column (allowed: {', '.join(allowed)})",
                             source=name, line=1, field=c)
    if len(set(cols)) != len(cols):
        raise InputError("duplicate CSV column", source=name, line=1)
    item_cols = (CSV_SIG, *CSV_REQUIRED, *CSV_OPTIONAL)
    out: list[str | dict[str, Any]] = []
    ctx: dict[str, Any] = {}
    ctx_line: int | None = None
    rid: str | None = None
    LAST_LINES.clear()
    try:
        for row in reader:
            if not row or all(not c.strip() for c in row):
                continue
            n = reader.line_num
            if len(row) != len(cols):
                raise InputError(f"expected {len(cols)} fields, got {len(row)}", source=name,
                                 line=n)
            fields = {c: v.strip() for c, v in zip(cols, row, strict=True) if v.strip()}
            if CSV_ID in cols:
                got = fields.get(CSV_ID, "")
                if rid is None:
                    rid = got
                elif got != rid:
                    raise InputError(f"a second id {got!r} (check reads one regimen; use "
                                     "medref batch for several)", source=name, line=n,
                                     field=CSV_ID)
            for c in CSV_CONTEXT:
                if c in fields:
                    if c in ctx and ctx[c] != fields[c]:
                        raise InputError(f"{fields[c]!r} differs from {ctx[c]!r} on an earlier "
                                         "row (one regimen has one context)", source=name,
                                         line=n, field=c)
                    ctx[c] = fields[c]
                    ctx_line = ctx_line or n
            item = {c: v for c, v in fields.items() if c in item_cols}
            if not item:
                raise InputError("no item fields (sig or name ...)", source=name, line=n)
            out.append(item[CSV_SIG] if set(item) == {CSV_SIG} else item)
            LAST_LINES.append(n)
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=name, line=reader.line_num) from None
    return out, (ctx or None), ctx_line


@dataclass(frozen=True)
class RegimenFile:
    """A regimen read from a file.

    Attributes:
        items: sig lines and structured items, in file order.
        lines: the file line of each item (CSV, JSON list), else None.
        context: the file's patient context (a JSON record's ``context``, CSV context
            columns), or None when the file gives none.
    """

    items: list[str | dict[str, Any]]
    lines: list[int] | None
    context: Context | None


def read_regimen_file(path: str, fmt: str | None = None) -> RegimenFile:
    """Read a regimen file (``-`` for stdin): its items, their lines and its context.

    Raises:
        InputError: naming the file, line and field (an invalid context value too).
    """
    data, name = read_bytes(path)
    text = decode(data, name)
    kind = fmt or guess_format(name, text)
    items, raw_ctx, ctx_line = _parse(text, name, kind)
    lines = list(LAST_LINES) if kind in ("csv", "json") else []
    context = None
    if raw_ctx is not None:
        from medref.batch import context_from
        try:
            context = context_from(raw_ctx)
        except ValueError as exc:
            raise InputError(str(exc).partition(": ")[2] or str(exc), source=name,
                             line=ctx_line, field=_context_field(str(exc))) from None
    return RegimenFile(items, lines if len(lines) == len(items) else None, context)


def _context_field(message: str) -> str:
    """``context.age`` from ``field 'context.age': ...``."""
    if message.startswith("field '"):
        return message[len("field '"):].partition("'")[0]
    return "context"


def read_regimen(path: str, fmt: str | None = None) -> list[str | dict[str, Any]]:
    """Read a regimen file (``-`` for stdin) into items for :func:`medref.check`.

    Raises:
        InputError: naming the file, line and field.
    """
    return read_regimen_lines(path, fmt)[0]


def read_regimen_lines(path: str, fmt: str | None = None
                       ) -> tuple[list[str | dict[str, Any]], list[int] | None]:
    """Like :func:`read_regimen`, with the file line of each item for CSV files (else None).

    The file's context is not returned; use :func:`read_regimen_file` for it.
    """
    got = read_regimen_file(path, fmt)
    return got.items, got.lines
