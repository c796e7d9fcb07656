"""Batch screening: check_many equals one check per record; the CLI keeps order, loses nothing."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from medref import Context, check, check_many
from medref.api import check_record, engine_for
from medref.batch import Record, context_from, read_jsonl
from medref.cli import cli

LINES = [
    "ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain", "tramadol 50-100 mg q4-6h prn",
    "oxycodone 5 mg q6h", "hydromorphone 2 mg q6h", "fluoxetine 20 mg daily",
    "alendronate 70 mg weekly", "calcium citrate 500 mg bid", "vitamin d3 5000 IU daily",
    "ketorolac 10 mg q6h x 7 days", "xyzzy 10 mg", "prednisone 10 mg daily", "asdf",
    "lidocaine 5% patch 1 patch daily", "gabapentin 300 mg tid", "magnesium 400 mg daily",
    "calcium citrate 1200 mg bid", "boron 18 mg daily",
]
CONTEXTS = st.one_of(st.none(), st.builds(Context, age=st.one_of(st.none(), st.integers(0, 95)),
                                          crcl=st.one_of(st.none(), st.sampled_from([20, 50, 90])),
                                          weeks_since_surgery=st.one_of(st.none(),
                                                                        st.integers(0, 60))))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(LINES), min_size=1, max_size=6), CONTEXTS),
                min_size=1, max_size=5))
def test_check_many_equals_check_per_record(recs: list[tuple[list[str], Context | None]]) -> None:
    """check_many gives, lazily and in order, the same results as one check per record."""
    records = [Record(i, items, ctx, i + 1) for i, (items, ctx) in enumerate(recs)]
    got = list(check_many(records))
    assert [r.id for r in got] == list(range(len(recs)))
    for (items, ctx), res in zip(recs, got, strict=True):
        assert res.result == check(items, input_context=ctx)
        assert res.error is None


def test_check_many_is_lazy() -> None:
    """check_many does not read ahead of what is consumed."""
    seen = []

    def gen():  # type: ignore[no-untyped-def]
        for i in range(1000):
            seen.append(i)
            yield {"id": i, "items": ["ibuprofen 400 mg tid"]}

    it = check_many(gen())
    next(it)
    assert len(seen) == 1


def test_bad_records_become_errors_and_keep_their_place() -> None:
    """A bad JSONL record becomes an error result at its line; the others are still checked."""
    text = ['{"id": 1, "items": ["ibuprofen 800 mg tid"]}', "not json",
            '{"id": 3, "items": "oops"}', '{"id": 4, "items": ["x"], "context": {"age": "old"}}',
            '{"id": 5, "items": ["tramadol 50 mg q6h"]}']
    out = list(check_many(read_jsonl(text)))
    assert [r.line for r in out] == [1, 2, 3, 4, 5]
    assert [r.error is None for r in out] == [True, False, False, False, True]
    assert "invalid JSON" in (out[1].error or "")
    assert "items" in (out[2].error or "")
    assert "context.age" in (out[3].error or "")


def test_cli_batch_order_count_and_exit(tmp_path: Path) -> None:
    """medref batch writes one result per record, in order, and exits 2 when a record is bad."""
    inp = tmp_path / "in.jsonl"
    recs = [json.dumps({"id": f"r{i}", "items": [LINES[i % len(LINES)]]}) for i in range(50)]
    recs.insert(10, "{broken")
    inp.write_text("\n".join(recs) + "\n")
    out = tmp_path / "out.jsonl"
    for jobs in ("1", "2"):
        res = CliRunner().invoke(cli, ["batch", str(inp), "-o", str(out), "--jobs", jobs,
                                       "--chunk-size", "7"])
        assert res.exit_code == 2, res.output
        rows = [json.loads(x) for x in out.read_text().splitlines()]
        assert len(rows) == 51
        assert rows[10] == {"id": None, "line": 11, "error": rows[10]["error"]}
        ids = [r["id"] for r in rows if "error" not in r]
        assert ids == [f"r{i}" for i in range(50)]
        assert "records" in res.stderr


def test_cli_batch_output_file_has_the_mode_of_a_new_file(tmp_path: Path) -> None:
    """-o writes through a private temporary file, but the output ends with the usual mode
    (0666 less the umask), readable by whoever could read a file the user created."""
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a", "items": ["gabapentin 300 mg tid"]}) + "\n")
    out = tmp_path / "out.jsonl"
    old = os.umask(0o022)
    try:
        res = CliRunner().invoke(cli, ["batch", str(inp), "-o", str(out)])
        assert res.exit_code in (0, 1), res.output
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        os.umask(0o077)
        res = CliRunner().invoke(cli, ["batch", str(inp), "-o", str(out)])
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_cli_batch_matches_check_json(tmp_path: Path) -> None:
    """A batch result has the same findings as check --format json for that regimen."""
    inp = tmp_path / "in.jsonl"
    items = ["acetaminophen 650 mg q6h", "Tylenol 500 mg q6h", "oxycodone 5 mg q6h"]
    inp.write_text(json.dumps({"id": "a", "items": items, "context": {"age": 80}}) + "\n")
    res = CliRunner().invoke(cli, ["batch", str(inp)])
    assert res.exit_code == 1
    row = json.loads(res.stdout.splitlines()[0])
    single = CliRunner().invoke(cli, ["check", "--format", "json", "--age", "80", *items])
    assert row["findings"] == json.loads(single.stdout)["findings"]


def test_cli_batch_csv_grouped_by_id(tmp_path: Path) -> None:
    """CSV input: one row per item, grouped by id; context columns apply to the record."""
    inp = tmp_path / "in.csv"
    inp.write_text("id,name,dose,unit,frequency,age\n"
                   "p1,tramadol,100,mg,qid,80\np1,ibuprofen,400,mg,tid,80\n"
                   "p2,vitamin d3,2000,IU,daily,\n")
    res = CliRunner().invoke(cli, ["batch", str(inp)])
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["p1", "p2"]
    assert any(f["code"] == "MR107" for f in rows[0]["findings"])
    assert rows[0]["summary"]["items"] == 2


def test_cli_batch_missing_input_is_usage_error(tmp_path: Path) -> None:
    """A missing input file: one-line error naming it, exit 2, no output file created."""
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "nope.jsonl"), "-o", str(out)])
    assert res.exit_code == 2
    assert "nope.jsonl" in res.stderr and "not found" in res.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_record_json_equals_dict_dump() -> None:
    """The fast JSONL serialisation is exactly the compact dump of to_dict()."""
    for res in check_many([{"id": "x", "items": LINES}, {"id": 2, "items": LINES[:3]},
                           {"id": None, "items": "bad"}]):
        assert json.loads(res.to_json()) == res.to_dict()
        assert res.to_json() == json.dumps(res.to_dict(), ensure_ascii=False,
                                           separators=(",", ":"))


def test_writer_parts_equal_the_dict_dumps() -> None:
    """JsonWriter's summary and findings arrays, written alone, are the compact dumps of the
    result's summary and findings (the summary counts what it does not write)."""
    from medref.api import assess_record
    from medref.reference import load_reference
    from medref.render.json import JsonWriter
    ref = load_reference()
    writer = JsonWriter(ref)
    for items, raw in ((LINES, None), (LINES[:3], {"age": 80}), (["tylenol 500 mg q6h"], None),
                       ([], None)):
        rec = Record("r", items, context_from(raw) if raw else None, 1, None)
        got = assess_record(engine_for(ref), rec, None)
        assert not isinstance(got, str)
        a, srcs = got
        res = check_record(rec, ref)
        assert res.result is not None
        d = res.to_dict()
        assert writer.summary(a, srcs) == _compact(d["summary"])
        assert writer.findings(a.findings) == _compact(d["findings"])


def _compact(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


# -- the fast batch path: raw bytes in, JSON bytes out, memoised checks ----------------------

def _generated(n: int, seed: int) -> list[bytes]:
    import subprocess
    import sys
    gen = Path(__file__).resolve().parent.parent / "benchmarks" / "make_regimens.py"
    out = subprocess.run([sys.executable, str(gen), "--records", str(n), "--seed", str(seed),
                          "--malformed-records", "0.02"], capture_output=True, check=True)
    return out.stdout.splitlines(keepends=True)


def _slow_line(raw: bytes, line: int) -> bytes:
    """The reference output for one record, computed with empty memos: read_jsonl + check +
    json.dumps(to_dict())."""
    from medref.batch import check_record
    from medref.reference import load_reference
    engine_for.cache_clear()
    recs = list(read_jsonl([raw.decode()]))
    assert len(recs) == 1
    rec = recs[0]
    res = check_record(Record(rec.id, rec.items, rec.context, line, rec.error), load_reference())
    return json.dumps(res.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


def test_fast_batch_output_equals_check_per_record_on_generated_regimens() -> None:
    """Every batch output line is byte-identical to json.dumps of check()'s result, record by
    record, on generated regimens (contexts, malformed lines and records), whatever the order
    the memos were filled in: forwards, then shuffled, then with the memos cleared."""
    import random

    from medref import batch
    from medref.reference import load_reference
    lines = _generated(600, seed=5)
    expected = [_slow_line(raw, n) for n, raw in enumerate(lines, 1)]
    batch.init_worker(None, None)
    load_reference()
    for attempt in range(3):
        order = list(range(len(lines)))
        if attempt == 1:
            random.Random(3).shuffle(order)
        if attempt == 2:
            engine_for.cache_clear()
        for i in order:
            got = batch.process_chunk("jsonl", [lines[i]], i + 1).text
            assert got == expected[i] + b"\n", (attempt, lines[i])


CONTEXTS_FULL = st.builds(
    Context, age=st.one_of(st.none(), st.integers(0, 130)),
    crcl=st.one_of(st.none(), st.sampled_from([10, 29.5, 30, 60, 90.0])),
    hepatic_impairment=st.one_of(st.none(), st.booleans()),
    weeks_since_surgery=st.one_of(st.none(), st.integers(0, 60), st.just(25.5)))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(LINES), min_size=1, max_size=8),
                          CONTEXTS_FULL), min_size=1, max_size=4))
def test_memoised_checks_equal_fresh_checks(recs: list[tuple[list[str], Context]]) -> None:
    """A check served from memos filled by other regimens and contexts equals the same check
    computed with empty memos (the memo keys hold everything a result depends on)."""
    from medref.reference import load_reference
    load_reference()
    warm = [check(items, ctx).to_dict() for items, ctx in recs]
    for (items, ctx), got in zip(recs, warm, strict=True):
        engine_for.cache_clear()
        assert check(items, ctx).to_dict() == got


def test_memoised_checks_across_every_age_band_boundary() -> None:
    """Ages on both sides of every upper-intake, age-limit and NSAID-window boundary, one
    after another on warm memos, give what each gives on empty memos (an upper intake level is
    keyed on the age bands the age falls in; an age outside every band gets a finding that
    names the bands on file)."""
    from medref.reference import load_reference
    load_reference()
    items = ["boron 18 mg daily", "calcium citrate 1200 mg bid", "vitamin d3 3500 IU daily",
             "manganese 10 mg daily", "tramadol 100 mg q6h", "ketorolac 15 mg q6h x 3 days",
             "ibuprofen 800 mg tid"]
    ages = [None, 0, 3, 4, 5, 8, 9, 13, 14, 18, 19, 50, 51, 64, 65, 75, 76, 95]
    contexts = [Context(age=a, weeks_since_surgery=w) for a in ages for w in (None, 3, 12)]
    warm = [check(items, c).to_dict() for c in contexts]
    for c, got in zip(contexts, warm, strict=True):
        engine_for.cache_clear()
        assert check(items, c).to_dict() == got, c


def test_cli_batch_jobs_2_output_is_identical_to_jobs_1(tmp_path: Path) -> None:
    """Workers append their chunks themselves, in order: the file equals the --jobs 1 file,
    with many small chunks; the summaries agree too."""
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(b"".join(_generated(700, seed=9)))
    outs, errs = [], []
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"out{jobs}.jsonl"
        res = CliRunner().invoke(cli, ["batch", str(inp), "-o", str(out), "--jobs", jobs,
                                       "--chunk-size", "13"])
        assert res.exit_code == 2  # the generator writes a few malformed records
        outs.append(out.read_bytes())
        errs.append(res.stderr)
    assert outs[0] == outs[1] == outs[2]
    assert len(outs[0].splitlines()) == 700
    assert errs[0] == errs[1] == errs[2]


def test_cli_batch_jobs_2_to_an_in_memory_stdout() -> None:
    """--jobs 2 with a stdout that has no file descriptor still writes every result in order."""
    text = "".join(json.dumps({"id": i, "items": [LINES[i % len(LINES)]]}) + "\n"
                   for i in range(40))
    res = CliRunner().invoke(cli, ["batch", "-", "--jobs", "2", "--chunk-size", "3"],
                             input=text)
    assert res.exit_code in (0, 1)
    assert [json.loads(x)["id"] for x in res.stdout.splitlines()] == list(range(40))


def test_cli_batch_reads_raw_bytes_like_text_mode(tmp_path: Path) -> None:
    """BOM, CRLF and bare-CR line ends, blank lines, invalid UTF-8 and an over-long line: each
    record keeps its line number, bad ones become errors and the rest are checked."""
    good = json.dumps({"id": "a", "items": ["ibuprofen 400 mg tid"]}).encode()
    data = (b"\xef\xbb\xbf" + good + b"\r\n" + b"\r\n" + good.replace(b'"a"', b'"b"') + b"\r"
            + good.replace(b'"a"', b'"c"') + b"\n" + b'{"id": "d", "items": ["\xff"]}\n'
            + b"x" * 1_000_005 + b"\n" + good.replace(b'"a"', b'"e"'))
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(data)
    res = CliRunner().invoke(cli, ["batch", str(inp)])
    assert res.exit_code == 2
    rows = [json.loads(x) for x in res.stdout.splitlines()]
    assert [r.get("id") for r in rows] == ["a", "b", "c", None, None, "e"]
    assert rows[3] == {"id": None, "line": 5, "error": "not valid UTF-8 text"}
    assert rows[4]["line"] == 6 and "longer than" in rows[4]["error"]
    assert "findings" in rows[5]


def test_batch_process_still_collects_reference_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch process keeps each chunk's survivors out of the young generations (frozen),
    and a full collection every FULL_GC_EVERY records still frees cyclic garbage."""
    import gc
    import weakref

    from medref import batch

    threshold = gc.get_threshold()
    old = batch._worker
    try:
        batch.init_worker(None, None)
        monkeypatch.setattr(batch, "FULL_GC_EVERY", 3)

        class Node:
            me: object = None

        def cycle() -> weakref.ref[Node]:
            node = Node()
            node.me = node  # garbage only a cycle collection frees
            return weakref.ref(node)

        payload = [b'{"id": 1, "items": ["ibuprofen 800 mg tid"]}']
        gc.disable()  # only the batch's own collections run in this test
        first = cycle()
        batch.process_chunk("jsonl", payload, 1)  # 1 record: frozen, not collected
        assert first() is not None
        assert gc.get_freeze_count() > 0
        batch.process_chunk("jsonl", payload * 2, 2)  # 3 records: a full collection
        assert first() is None
    finally:
        gc.enable()
        gc.unfreeze()
        gc.set_threshold(*threshold)
        batch._worker = old


@settings(max_examples=300)
@given(st.one_of(
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                 lambda kids: st.lists(kids, max_size=3)
                 | st.dictionaries(st.text(max_size=3), kids, max_size=3)).map(json.dumps),
    st.text(alphabet=st.sampled_from('{}[]":,1a \t\r\n\\x'), max_size=20)),
    st.sampled_from(["", "\n", " \r\n", " x", "}"]))
def test_jsonl_lines_are_read_as_json_loads_reads_them(text: str, tail: str) -> None:
    """A record line goes straight to the JSON scanner: same values, same errors."""
    from medref.readers.files import _loads

    def outcome(fn: Any, s: str) -> tuple[str, str]:
        try:
            return "ok", repr(fn(s))
        except ValueError as exc:
            return type(exc).__name__, str(exc)
    assert outcome(_loads, text + tail) == outcome(json.loads, text + tail)


# -- contexts read once per distinct text ------------------------------------------------------

_CONTEXT_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 300), st.floats(-1.0, 300.0),
    st.sampled_from(["", "70", "70.5", "yes", "no", "true", "-0", "abc", " 80 "]))


@settings(max_examples=300, deadline=None)
@example(raws=[{"weight": 0.0}, {"weight": -0.0}, {"age": 1}, {"age": True}])
@given(raws=st.lists(st.dictionaries(
    st.sampled_from(["age", "crcl", "weight", "egfr", "hepatic_impairment",
                     "opioid_tolerant", "weeks_since_surgery", "bogus"]),
    _CONTEXT_VALUES, max_size=3), min_size=1, max_size=12))
def test_a_remembered_context_is_the_one_reading_it_again_gives(
        raws: list[dict[str, object]]) -> None:
    """Read twice in a row (the second from memory), every raw context gives what the plain
    reader gives: the same context or the same error; 1 and True, 0.0 and -0.0 kept apart."""
    from medref.context import context_from_raw
    from medref.readers.records import record_from_obj
    for raw in raws + raws:
        rec = record_from_obj({"id": "r", "items": ["ibuprofen 400 mg tid"],
                               "context": raw}, 1)
        try:
            want = context_from_raw(raw)
        except ValueError as exc:
            assert rec.error == str(exc)
            continue
        assert rec.error is None
        assert rec.context == want
        if want is not None:
            assert json.dumps(rec.context.to_dict()) == json.dumps(want.to_dict())
            assert {k: type(v) for k, v in rec.context.to_dict().items()} == {
                k: type(v) for k, v in want.to_dict().items()}


def test_records_with_the_same_context_text_share_one_context() -> None:
    from medref.readers.records import record_from_obj
    recs = [record_from_obj({"id": str(i), "items": ["ibuprofen 400 mg tid"],
                             "context": {"age": 70}}, i) for i in range(3)]
    assert recs[0].context is recs[1].context is recs[2].context
    assert recs[0].context.age == 70
    other = record_from_obj({"id": "x", "items": ["a"], "context": {"age": True}}, 4)
    assert other.error is not None and "age" in other.error  # not the memory of age 70 ... or 1


def test_a_results_context_sources_are_its_own() -> None:
    """The merged context's sources are remembered (and shared); each result still gets its
    own dict."""
    recs = [Record(str(i), ["ibuprofen 400 mg tid"], None, i + 1) for i in range(2)]
    options = Context(age=70)  # one object: the second record is merged from memory
    first, second = (check_record(r, context=options) for r in recs)
    assert first.result is not None and second.result is not None
    d1 = first.result.summary.context_sources
    d2 = second.result.summary.context_sources
    assert d1 == d2 and d1 is not d2


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",))))
@example("Oxycodone 10 mg \u2265 5 \u00b5g: \"quoted\" and a back\\slash\tand a tab")
def test_a_message_literal_is_the_encoders(text: str) -> None:
    """Property: the fast path for a finding's message writes the bytes of the JSON encoder
    (ensure_ascii off), whatever the text: control characters, quotes, backslashes, any
    Unicode."""
    from medref.render.json import _escaped, json_string, message_literal
    assert message_literal(text) == json_string(text).encode()
    assert message_literal(text) == json.dumps(text, ensure_ascii=False).encode()
    assert _escaped(text) == json_string(text)
