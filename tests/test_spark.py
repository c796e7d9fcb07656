"""The Spark adapter gives medref batch's results, record by record (local mode, for real).

Skipped only where there is no Java runtime (``.ci/run`` installs one when it can) or no
PySpark; the skip says so loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
HANG = 1800  # a ceiling for a hung Spark job, never a speed expectation
FIELDS = ("code", "category", "severity", "items", "lines", "message", "source", "rule")

if shutil.which("java") is None:
    pytest.skip("SPARK TEST SKIPPED: no Java runtime on this machine (.ci/run installs "
                "openjdk-17-jre-headless when it can); Spark results were NOT compared",
                allow_module_level=True)
pyspark = pytest.importorskip("pyspark", reason="SPARK TEST SKIPPED: pyspark is not "
                              "installed (pip install 'medref[spark]')")
pq = pytest.importorskip("pyarrow.parquet")


def _id(rid: Any) -> str | None:
    return rid if rid is None or isinstance(rid, str) else json.dumps(rid)


def test_spark_results_equal_batch_record_by_record(tmp_path: Path) -> None:
    src = tmp_path / "r.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_regimens.py"),
                        "--records", "20000", "--seed", "11"], stdout=fh, check=True,
                       timeout=HANG)
    out = tmp_path / "batch.jsonl"
    b = subprocess.run([sys.executable, "-m", "medref", "batch", str(src), "-o", str(out),
                        "--no-progress"], capture_output=True, text=True, timeout=HANG)
    assert b.returncode in (0, 1, 2), b.stderr
    spark_dir = tmp_path / "spark"
    s = subprocess.run([sys.executable, "-m", "medref", "spark", str(src), "-o",
                        str(spark_dir), "--master", "local[2]"], capture_output=True,
                       text=True, timeout=HANG)
    assert s.returncode == b.returncode, s.stderr[-3000:]
    batch = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    summary = sorted(pq.read_table(spark_dir / "summary").to_pylist(), key=lambda r: r["line"])
    findings: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = sorted(pq.read_table(spark_dir / "findings").to_pylist(),
                  key=lambda f: (f["line"], f["finding"]))
    for f in rows:
        findings[f["line"]].append({k: f[k] for k in FIELDS})
    assert len(summary) == len(batch) == 20000
    errors = 0
    for want, got in zip(batch, summary, strict=True):
        assert got["id"] == _id(want["id"])
        if "error" in want:
            errors += 1
            assert (got["error"], got["line"]) == (want["error"], want["line"])
            assert not findings.get(got["line"])
            continue
        assert got["error"] is None
        assert findings.get(got["line"], []) == [{k: f[k] for k in FIELDS}
                                                 for f in want["findings"]]
        assert got["items"] == want["summary"]["items"]
        assert got["checked"] == want["summary"]["checked"]
        assert got["mme_per_day"] == want["summary"]["mme_per_day"]
        assert got["data_version"] == want["summary"]["data"]["version"]
        assert got["data_sha256"] == want["summary"]["data"]["sha256"]
    assert errors > 0  # the generator's malformed records: error rows, never dropped


def test_a_dataframe_of_regimens_with_context_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """check_regimens on a DataFrame (id, lines array, context columns): the findings of
    medref.check with that context; an empty regimen is an error row, not dropped."""
    from pyspark.sql import SparkSession

    # a session made in-process starts its workers on $PYSPARK_PYTHON, else on the first
    # python3 on PATH (which need not be this interpreter, with medref and pyarrow)
    if not os.environ.get("PYSPARK_PYTHON"):
        monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)

    import medref
    from medref import spark as ms
    session = (SparkSession.builder.master("local[2]").appName("medref-test")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    try:
        rows = [("a", ["ibuprofen 800 mg po tid", "warfarin 5 mg daily"], 70, None),
                ("b", ["gabapentin 600 mg tid"], 80, 22.0),
                ("c", [], None, None),
                ("d", ["Percocet 10/325 1 tab q4h", "Tylenol 650 mg q4h prn"], None, None)]
        df = session.createDataFrame(rows, "id string, lines array<string>, age int, "
                                           "crcl double")
        findings, summary = ms.check_regimens(df)
        got = sorted(findings.collect(), key=lambda r: (r["line"], r["finding"]))
        summ = {r["id"]: r for r in summary.collect()}
    finally:
        session.stop()
    assert summ["c"]["error"] is not None and summ["c"]["findings"] is None
    for rid, lines, age, crcl in rows:
        if not lines:
            continue
        want = medref.check(lines, {k: v for k, v in (("age", age), ("crcl", crcl))
                                    if v is not None})
        mine = [(r["code"], r["severity"], r["message"]) for r in got if r["id"] == rid]
        assert mine == [(f.code, f.severity, f.message) for f in want.findings], rid
        assert summ[rid]["mme_per_day"] == want.summary.mme_per_day


def test_a_csv_through_spark_equals_batch(tmp_path: Path) -> None:
    """A batch CSV (records over several rows, context on a later row, a record whose rows
    disagree on context) through medref spark: the results of medref batch on the file."""
    src = tmp_path / "r.csv"
    src.write_text("id,sig,crcl,age\n"
                   "p1,acetaminophen 500 mg q6h,,\n"
                   "p1,zoledronic acid 5 mg iv yearly,30,\n"
                   "p2,ibuprofen 800 mg tid,,70\n"
                   "p2,naproxen 500 mg bid,,71\n"
                   "p3,Percocet 10/325 1 tab q6h prn,,\n"
                   "p3,xyzzy 10 mg daily,,\n", encoding="utf-8")
    out = tmp_path / "batch.jsonl"
    b = subprocess.run([sys.executable, "-m", "medref", "batch", str(src), "-o", str(out),
                        "--no-progress"], capture_output=True, text=True, timeout=HANG)
    s = subprocess.run([sys.executable, "-m", "medref", "spark", str(src), "-o",
                        str(tmp_path / "spark"), "--master", "local[1]"],
                       capture_output=True, text=True, timeout=HANG)
    assert s.returncode == b.returncode == 2, (b.stderr, s.stderr[-3000:])
    batch = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    summary = sorted(pq.read_table(tmp_path / "spark" / "summary").to_pylist(),
                     key=lambda r: r["line"])
    rows = sorted(pq.read_table(tmp_path / "spark" / "findings").to_pylist(),
                  key=lambda f: (f["line"], f["finding"]))
    assert [r["id"] for r in summary] == [w["id"] for w in batch] == ["p1", "p2", "p3"]
    assert summary[1]["error"] == batch[1]["error"] and "differs" in batch[1]["error"]
    for k in (0, 2):
        assert summary[k]["line"] == batch[k]["summary"].get("line", summary[k]["line"])
        got = [{f: r[f] for f in FIELDS} for r in rows if r["line"] == summary[k]["line"]]
        assert got == [{f: x[f] for f in FIELDS} for x in batch[k]["findings"]]
    assert any(f["code"] == "MR601" for f in batch[0]["findings"])


def test_local_workers_run_the_commands_interpreter(tmp_path: Path) -> None:
    """medref spark in local mode starts its Python workers with the interpreter running the
    command, not the first python3 on PATH (here a decoy that cannot run a worker): from a venv
    that is not activated, the workers could otherwise not import medref, or ran another
    build."""
    decoys = tmp_path / "bin"
    decoys.mkdir()
    for name in ("python3", "python"):
        decoy = decoys / name
        decoy.write_text("#!/bin/sh\necho 'decoy python3 ran' >&2\nexit 3\n", encoding="utf-8")
        decoy.chmod(0o755)
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps({"id": "a", "items": ["ibuprofen 400 mg tid"]}) + "\n",
                   encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYSPARK_PYTHON"}
    env["PATH"] = os.pathsep.join([str(decoys), env.get("PATH", "")])
    s = subprocess.run([sys.executable, "-m", "medref", "spark", str(src), "-o",
                        str(tmp_path / "out"), "--master", "local[1]"], env=env,
                       capture_output=True, text=True, timeout=HANG)
    assert s.returncode == 1, s.stderr[-3000:]  # ibuprofen's bone-healing warning
    summary = pq.read_table(tmp_path / "out" / "summary").to_pylist()
    assert [r["id"] for r in summary] == ["a"] and summary[0]["error"] is None
