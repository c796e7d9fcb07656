"""Batch screening: check_many equals one check per record; the CLI keeps order, loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from medref import Context, check, check_many
from medref.batch import Record, read_jsonl
from medref.cli import cli

LINES = [
    "ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain", "tramadol 50-100 mg q4-6h prn",
    "oxycodone 5 mg q6h", "hydromorphone 2 mg q6h", "fluoxetine 20 mg daily",
    "alendronate 70 mg weekly", "calcium citrate 500 mg bid", "vitamin d3 5000 IU daily",
    "ketorolac 10 mg q6h x 7 days", "xyzzy 10 mg", "prednisone 10 mg daily", "asdf",
    "lidocaine 5% patch 1 patch daily", "gabapentin 300 mg tid", "magnesium 400 mg daily",
]
CONTEXTS = st.one_of(st.none(), st.builds(Context, age=st.one_of(st.none(), st.integers(19, 95)),
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
        assert res.result == check(items, ctx)
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
