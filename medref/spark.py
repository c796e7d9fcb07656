"""Spark adapter (the optional ``medref[spark]`` extra; imported only by ``medref spark`` and
by code that calls it): regimen screening on a cluster with ``mapInArrow``.

Each Spark worker loads the reference once (the bundled data, or the ``data`` directory,
which must be readable at the same path on every worker) and checks Arrow batches of
records with the same engine and readers as ``medref batch``, so a record gives the same
findings through both (a test compares them record by record).

Three inputs:

- :func:`check_regimens`: a DataFrame with an id column, the regimen's lines as an array of
  strings, and optional context columns (``age``, ``crcl``, ``hepatic_impairment``,
  ``weeks_since_surgery``, ``weight``, ``egfr``, ``opioid_tolerant``);
- :func:`check_jsonl`: the lines of a ``medref batch`` JSONL file (column ``value``, one
  record per line, with its line number in ``line``);
- :func:`check_records`: records read on the driver (a CSV, whose records span rows, read by
  the same reader as ``medref batch``), one :func:`record_wire` JSON line each.

Both return ``(findings, summary)`` DataFrames with the fixed schemas :data:`FINDINGS_DDL` and
:data:`SUMMARY_DDL`: one findings row per finding (``id``, ``code``, ``category``,
``severity``, ``items``, ``lines``, ``message``, ``source``, ``rule``), and one summary row per
record (its counts, MME, the data version and checksum, or ``error`` when it could not be
read: never dropped).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from medref.api import assess_record, engine_for
from medref.context import CONTEXT_KEYS, Context, context_from_raw
from medref.readers.files import record_from_text
from medref.reference import load_reference
from medref.regimen import Record

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa
    from pyspark.sql import DataFrame

FINDING_DDL = ("code string, category string, severity string, items array<string>, "
               "lines array<int>, message string, source string, rule string")
RESULT_DDL = (f"line long, id string, error string, items int, checked int, findings int, "
              f"highest_severity string, mme_per_day double, data_version string, "
              f"data_sha256 string, found array<struct<{FINDING_DDL}>>")
"""What the workers return: one row per record, its findings nested."""
FINDINGS_DDL = ("id string, line long, finding int, code string, category string, "
                "severity string, items array<string>, lines array<int>, message string, "
                "source string, rule string")
"""The findings DataFrame: one row per finding; ``finding`` is its position in the record's
sorted findings (most severe first), ``lines`` are 0-based item indexes. Rows are not
globally sorted (sort by ``line``, ``finding`` when order matters)."""
SUMMARY_DDL = ("line long, id string, error string, items int, checked int, findings int, "
               "highest_severity string, mme_per_day double, data_version string, "
               "data_sha256 string")
"""The summary DataFrame: one row per record (``error`` set when it could not be read)."""


def id_text(rid: object) -> str | None:
    """A record id as text: a string as it is, a number as JSON (``7``), None as None."""
    if rid is None or isinstance(rid, str):
        return rid
    return json.dumps(rid)


def _rows(records: Sequence[Record], data: str | None,
          options: Context | None = None) -> list[dict[str, Any]]:
    ref = load_reference(data)
    engine = engine_for(ref)
    version, sha = ref.info.version, ref.info.sha256
    out: list[dict[str, Any]] = []
    for rec in records:
        row: dict[str, Any] = {"line": rec.line, "id": id_text(rec.id), "error": rec.error,
                               "items": None, "checked": None, "findings": None,
                               "highest_severity": None, "mme_per_day": None,
                               "data_version": version, "data_sha256": sha, "found": []}
        if rec.error is None:
            got = assess_record(engine, rec, options)
            if isinstance(got, str):
                row["error"] = got
            else:
                a, _ = got
                found = [{"code": b.code, "category": b.category, "severity": b.severity,
                          "items": list(b.items), "lines": list(lines), "message": b.message,
                          "source": b.source, "rule": b.rule} for _, lines, b in a.findings]
                row.update(items=len(a.lines),
                           checked=sum(1 for ln in a.lines if ln.status == "checked"),
                           findings=len(found),
                           highest_severity=found[0]["severity"] if found else None,
                           mme_per_day=a.mme, found=found)
        out.append(row)
    return out


def _jsonl_batches(batches: Iterator[pa.RecordBatch], data: str | None,
                   options: Context | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow function: batches of (line, value) JSONL text -> result rows."""
    schema = _arrow_schema()
    for batch in batches:
        cols = batch.to_pydict()
        records = []
        for n, text in zip(cols["line"], cols["value"], strict=True):
            rec = record_from_text(text or "", int(n))
            if rec is not None:
                records.append(rec)
        yield _to_batch(_rows(records, data, options), schema)


def record_wire(rec: Record) -> str:
    """A record read on the driver (from a CSV: :func:`medref.readers.files.iter_csv`) as one
    JSON line that :func:`check_records` turns back into the same record on a worker: id,
    items, own context, line, error and item lines (so errors and messages are those of
    ``medref batch`` on the same CSV)."""
    return json.dumps({"id": rec.id, "items": rec.items, "line": rec.line,
                       "context": rec.context.to_dict() if rec.context is not None else None,
                       "error": rec.error,
                       "item_lines": list(rec.item_lines) if rec.item_lines is not None
                       else None}, ensure_ascii=False)


def _from_wire(text: str) -> Record:
    obj = json.loads(text)
    raw = obj.get("context")
    ctx = context_from_raw({k: v for k, v in raw.items() if v is not None}) if raw else None
    lines = obj.get("item_lines")
    return Record(obj.get("id"), list(obj.get("items") or []), ctx, int(obj["line"]),
                  obj.get("error"), tuple(lines) if lines is not None else None)


def _wire_batches(batches: Iterator[pa.RecordBatch], data: str | None,
                  options: Context | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow function: batches of :func:`record_wire` lines -> result rows."""
    schema = _arrow_schema()
    for batch in batches:
        records = [_from_wire(text) for text in batch.column("value").to_pylist() if text]
        yield _to_batch(_rows(records, data, options), schema)


def _to_batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """The result rows as one Arrow batch, built column by column (several times faster than
    ``RecordBatch.from_pylist`` for the nested findings)."""
    import pyarrow as pa
    offsets, item_offsets, line_offsets = [0], [0], [0]
    cols: dict[str, list[Any]] = {k: [] for k in ("code", "category", "severity", "message",
                                                  "source", "rule")}
    items: list[str] = []
    lines: list[int] = []
    for r in rows:
        for f in r["found"]:
            for k, v in cols.items():
                v.append(f[k])
            items.extend(f["items"])
            item_offsets.append(len(items))
            lines.extend(f["lines"])
            line_offsets.append(len(lines))
        offsets.append(len(cols["code"]))
    finding_type = schema.field("found").type.value_type
    struct = pa.StructArray.from_arrays(
        [pa.array(cols["code"], pa.string()), pa.array(cols["category"], pa.string()),
         pa.array(cols["severity"], pa.string()),
         pa.ListArray.from_arrays(pa.array(item_offsets, pa.int32()),
                                  pa.array(items, pa.string())),
         pa.ListArray.from_arrays(pa.array(line_offsets, pa.int32()),
                                  pa.array(lines, pa.int32())),
         pa.array(cols["message"], pa.string()), pa.array(cols["source"], pa.string()),
         pa.array(cols["rule"], pa.string())], fields=list(finding_type))
    found = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct)
    arrays = [pa.array([r[name] for r in rows], schema.field(name).type)
              for name in schema.names if name != "found"]
    return pa.RecordBatch.from_arrays([*arrays, found], schema=schema)


def _regimen_batches(batches: Iterator[pa.RecordBatch], data: str | None, id_col: str,
                     lines_col: str, context_cols: Mapping[str, str],
                     options: Context | None = None) -> Iterator[pa.RecordBatch]:
    """mapInArrow function: batches of regimens (id, lines, context columns) -> results."""
    schema = _arrow_schema()
    for batch in batches:
        cols = batch.to_pydict()
        records = []
        for k in range(batch.num_rows):
            rid = cols[id_col][k]
            items = cols[lines_col][k]
            line = int(cols["__row"][k])
            if not isinstance(items, list) or not items:
                records.append(Record(rid, [], line=line, error=f"column {lines_col!r}: an "
                                      "empty or missing list of lines"))
                continue
            raw = {key: cols[col][k] for key, col in context_cols.items()}
            try:
                ctx = context_from_raw({k2: v for k2, v in raw.items() if v is not None})
            except ValueError as exc:
                records.append(Record(rid, [], line=line, error=str(exc)))
                continue
            records.append(Record(rid, [str(x) for x in items], ctx, line))
        yield _to_batch(_rows(records, data, options), schema)


def _arrow_schema() -> pa.Schema:
    import pyarrow as pa
    finding = pa.struct([("code", pa.string()), ("category", pa.string()),
                         ("severity", pa.string()), ("items", pa.list_(pa.string())),
                         ("lines", pa.list_(pa.int32())), ("message", pa.string()),
                         ("source", pa.string()), ("rule", pa.string())])
    return pa.schema([("line", pa.int64()), ("id", pa.string()), ("error", pa.string()),
                      ("items", pa.int32()), ("checked", pa.int32()),
                      ("findings", pa.int32()), ("highest_severity", pa.string()),
                      ("mme_per_day", pa.float64()), ("data_version", pa.string()),
                      ("data_sha256", pa.string()), ("found", pa.list_(finding))])


def _split(results: DataFrame) -> tuple[DataFrame, DataFrame]:
    from pyspark.sql import functions as F
    results = results.persist()
    findings = (results.select("id", "line", F.posexplode("found").alias("finding", "f"))
                .select("id", "line", "finding", "f.*"))
    summary = results.drop("found")
    return findings, summary


def check_jsonl(text: DataFrame, *, data: str | None = None,
                context: Context | None = None) -> tuple[DataFrame, DataFrame]:
    """Check a ``medref batch`` JSONL input given as a DataFrame with ``line`` (1-based) and
    ``value`` (the line's text); ``context`` fills what each record's own context leaves
    unset, as in ``medref batch``. Returns ``(findings, summary)``."""
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _jsonl_batches(iter(batches), data, context)
    fn: Callable[..., Any] = run  # PySpark 4.0 and 4.3 type mapInArrow's function differently
    return _split(text.mapInArrow(fn, RESULT_DDL))


def check_records(wire: DataFrame, *, data: str | None = None,
                  context: Context | None = None) -> tuple[DataFrame, DataFrame]:
    """Check records read on the driver, one :func:`record_wire` line each in column
    ``value`` (``medref spark`` does this for a CSV input, whose records span rows).
    Returns ``(findings, summary)``."""
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _wire_batches(iter(batches), data, context)
    fn: Callable[..., Any] = run  # PySpark 4.0 and 4.3 type mapInArrow's function differently
    return _split(wire.select("value").mapInArrow(fn, RESULT_DDL))


def check_regimens(df: DataFrame, *, id_col: str = "id", lines_col: str = "lines",
                   context_cols: Mapping[str, str] | None = None, data: str | None = None,
                   context: Context | None = None) -> tuple[DataFrame, DataFrame]:
    """Check a DataFrame of regimens: ``id_col``, ``lines_col`` (an array of sig lines) and
    the context columns present among :data:`medref.context.CONTEXT_KEYS` (or as mapped by
    ``context_cols``: context key -> column). Returns ``(findings, summary)``."""
    from pyspark.sql import functions as F
    ctx: dict[str, str] = dict(context_cols) if context_cols is not None else {
        str(k): str(k) for k in CONTEXT_KEYS if k in df.columns}
    numbered = df.withColumn("__row", F.monotonically_increasing_id() + 1)
    cols = [id_col, lines_col, "__row", *ctx.values()]

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return _regimen_batches(iter(batches), data, id_col, lines_col, ctx, context)
    fn: Callable[..., Any] = run  # PySpark 4.0 and 4.3 type mapInArrow's function differently
    return _split(numbered.select(*cols).mapInArrow(fn, RESULT_DDL))


def read_jsonl(spark: Any, path: str) -> DataFrame:
    """A JSONL file as the ``(line, value)`` DataFrame :func:`check_jsonl` takes, numbered in
    the JVM (no Python pass over the rows): within a partition ``monotonically_increasing_id``
    counts lines in file order, and each partition's first line number comes from a count of
    the partitions before it."""
    from pyspark.sql import functions as F
    text = spark.read.text(path).withColumn("pid", F.spark_partition_id()).withColumn(
        "mid", F.monotonically_increasing_id())
    counts = {r["pid"]: r["count"] for r in text.groupBy("pid").count().collect()}
    first, total = {}, 0
    for pid in sorted(counts):
        first[pid] = total
        total += counts[pid]
    starts = spark.createDataFrame(list(first.items()) or [(0, 0)],
                                   "pid int, start long")
    numbered = text.join(F.broadcast(starts), "pid").select(
        (F.col("mid") - F.shiftleft(F.col("pid").cast("long"), 33) + F.col("start") + 1)
        .alias("line"), "value")
    df: DataFrame = numbered
    return df
