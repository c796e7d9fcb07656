"""The catalogue of bad inputs (tests/catalogue/cases.json): every case, and its coverage.

Each case is an argument list (``kind: args``), a regimen file for ``medref check``
(``kind: file``) or an input for ``medref batch`` (``kind: batch``), with its expected outcome.
Every bad input must either become a finding (the regimen is still checked as far as possible)
or a usage error: exit 2, one line on stderr naming the file (and where relevant the line and
field). Never a traceback or an internal error, never a hang (each case runs with a timeout),
memory bounded, and no file other than the given output is ever created.

Case keys
---------
``id``, ``covers`` (categories of the issue, see :data:`REQUIRED_COVERS`), ``kind``,
``args`` (the command line after ``medref``; ``{file}`` stands for the case's file; defaults:
``check --format json -f {file}`` for files, ``batch {file} -o out.jsonl`` for batches),
``file`` (``name`` plus ``content`` (text, written as UTF-8), ``content_b64`` (bytes) or
``generate`` (a generator in :data:`GENERATORS`, for huge inputs that are not stored);
``type``: ``missing`` or ``dir``; ``mode``: permission bits), ``stdin`` (feed the file on
stdin instead of writing it), ``runner`` (``subprocess`` runs the installed ``medref`` script
with a timeout and measures its peak memory; ``inprocess`` uses click's CliRunner; generated
cases always run as a subprocess), ``requires_path`` (skip when absent), ``note``.

``expect`` keys
---------------
``exit`` (an int or a list of acceptable ints), ``stderr_contains`` (all),
``stderr_contains_any`` (one of; or a list of such groups, one of each: e.g. a JSON item is
located by its file line or by its index), ``click_usage`` (click's own usage error: the last stderr
line is ``Error: ...``), ``names_file`` (default true: a usage error names the input file),
``finding_codes`` (each present), ``no_finding_codes``, ``status`` (exact item statuses),
``status_counts``, ``items`` (item count), ``finding_message_contains`` (each in some message),
``finding_with_lines`` (some finding covers these 0-based lines), ``stdout_no_control_chars``,
``records`` (batch: one spec per output record, in order: ``id``, ``error`` true/false/null
(either), ``line``, ``error_contains``, ``codes``, ``items``), ``max_rss_mb`` (subprocess
runs; default :data:`DEFAULT_MAX_RSS_MB`).
"""

from __future__ import annotations

import base64
import builtins
import collections
import json
import os
import random
import string
import subprocess
import tempfile
import time
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from clirun import MEDREF, with_root
from conftest import HANG_SECONDS

from medref.cli import cli

CATALOGUE = Path(__file__).parent / "catalogue" / "cases.json"
CASES: list[dict[str, Any]] = json.loads(CATALOGUE.read_text(encoding="utf-8"))["cases"]
TIMEOUT = HANG_SECONDS
"""Seconds a case may run before it counts as a hang (far above any real run; see conftest)."""
DEFAULT_MAX_RSS_MB = 512
"""Peak resident memory allowed for a subprocess case unless the case says otherwise."""
MIB = 1024 * 1024

REQUIRED_COVERS = frozenset({
    "empty", "whitespace", "binary", "invalid-utf8", "bom", "crlf", "malformed-json",
    "json-wrong-shape", "json-wrong-types", "csv-missing-columns", "csv-extra-columns",
    "missing-file", "directory", "unreadable", "dose-negative", "dose-zero", "dose-nan",
    "dose-infinite", "dose-1e308", "dose-commas", "unit-unknown", "unit-mixed", "freq-q0h",
    "freq-q25h", "freq-0-times-daily", "long-line", "nested-json", "items-10k",
    "control-chars", "rtl-marks", "lookalike", "duplicate-lines", "batch", "path-like",
})
"""Every category the issue lists (plus batch and path-like inputs)."""


# -- generators for inputs too large to store -------------------------------------------------

TEN_MB = 10 * 1000 * 1000
_KNOWN = ["ibuprofen {d} mg tid", "acetaminophen {d} mg q6h", "naproxen {d} mg bid",
          "gabapentin {d} mg tid", "calcium {d} mg daily", "magnesium {d} mg daily",
          "celecoxib {d} mg bid", "oxycodone {s} mg q6h prn", "tramadol {d} mg q6h prn",
          "vitamin d3 {d} iu daily", "Tylenol {d} mg q4-6h prn pain", "Advil {d}mg tid"]


def _line_10mb_txt(p: Path) -> None:
    p.write_text("ibuprofen 400 mg tid\n" + "a" * TEN_MB + "\nacetaminophen 500 mg q6h\n",
                 encoding="utf-8")


def _line_10mb_json(p: Path) -> None:
    p.write_text(json.dumps(["ibuprofen 400 mg tid", "a" * TEN_MB]), encoding="utf-8")


def _line_10mb_csv(p: Path) -> None:
    p.write_text("name,dose,unit,frequency\nibuprofen,400,mg,tid\n" + "a" * TEN_MB
                 + ",400,mg,tid\n", encoding="utf-8")


def _dose_10mb_digits(p: Path) -> None:
    p.write_text("ibuprofen " + "4" * TEN_MB + " mg tid\n", encoding="utf-8")


def _nested_100k_list(p: Path) -> None:
    p.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")


def _nested_100k_items(p: Path) -> None:
    p.write_text('{"items": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")


def _nested_100k_unclosed(p: Path) -> None:
    p.write_text("[" * 100_000, encoding="utf-8")


def _known_lines(n: int) -> list[str]:
    rng = random.Random(10_000)
    return [rng.choice(_KNOWN).format(d=rng.randint(1, 1200), s=rng.randint(1, 40))
            for _ in range(n)]


def _items_10k_txt(p: Path) -> None:
    p.write_text("\n".join(_known_lines(10_000)) + "\n", encoding="utf-8")


def _items_10k_json(p: Path) -> None:
    rng = random.Random(7)
    items = [{"name": rng.choice(["ibuprofen", "acetaminophen", "naproxen", "Advil"]),
              "dose": rng.randint(50, 1000), "unit": "mg",
              "frequency": rng.choice(["tid", "bid", "q6h", "daily"])} for _ in range(10_000)]
    p.write_text(json.dumps({"items": items}), encoding="utf-8")


def _items_10k_unknown(p: Path) -> None:
    rng = random.Random(99)
    names = {"zq" + "".join(rng.choice(string.ascii_lowercase) for _ in range(12))
             for _ in range(10_500)}
    lines = [f"{n} {i + 1} mg tid" for i, n in enumerate(sorted(names)[:10_000])]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


_WORST_FILLERS = ("x1 ", "1 x ", "q0h ", "400 mg ", "prn ", "z ", "every 1 ", "zz ")
"""Repeated tokens that make the parser work hardest (problems, unknown words, units)."""


def _items_10k_longest_lines(p: Path) -> None:
    from medref.sig import MAX_LINE_CHARS  # just under whatever the line limit is
    lines = []
    for i in range(10_000):
        line, unit = f"ibuprofen {i + 1} ", _WORST_FILLERS[i % len(_WORST_FILLERS)]
        while len(line) + len(unit) <= MAX_LINE_CHARS:
            line += unit
        lines.append(line)
    assert max(map(len, lines)) <= MAX_LINE_CHARS
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _dose_1e308_json(p: Path) -> None:
    p.write_text(json.dumps([{"name": "ibuprofen", "dose": 1e308, "unit": "mg",
                              "frequency": "tid"}]), encoding="utf-8")


def _dose_1e308_digits(p: Path) -> None:
    p.write_text(f"ibuprofen {int(1e308)} mg tid\n", encoding="utf-8")


def _dose_nan_json(p: Path) -> None:
    text = json.dumps([{"name": "ibuprofen", "dose": float("nan"), "unit": "mg",
                        "frequency": "tid"}])
    assert "NaN" in text
    p.write_text(text, encoding="utf-8")


def _over_64mib(p: Path) -> None:
    block = ("ibuprofen 400 mg tid\n" * 50_000).encode()
    with p.open("wb") as fh:
        while fh.tell() <= 64 * MIB:
            fh.write(block)


_GOOD = '{"id": "%s", "items": ["ibuprofen 400 mg tid"]}\n'


def _batch_csv_oversize_field(p: Path) -> None:
    p.write_text("id,sig\n1,ibuprofen 400 mg tid\n2," + "a" * 200_000
                 + "\n3,ibuprofen 400 mg tid\n", encoding="utf-8")


def _batch_10mb_record(p: Path) -> None:
    p.write_text(_GOOD % "g1" + json.dumps({"id": "long", "items": ["a" * TEN_MB]}) + "\n"
                 + _GOOD % "g2", encoding="utf-8")


def _batch_nested_100k(p: Path) -> None:
    p.write_text(_GOOD % "g1" + '{"id": "deep", "items": ' + "[" * 100_000 + "]" * 100_000
                 + "}\n" + _GOOD % "g2", encoding="utf-8")


def _batch_10k_items(p: Path) -> None:
    p.write_text(json.dumps({"id": "big", "items": _known_lines(10_000)}) + "\n"
                 + _GOOD % "g2", encoding="utf-8")


GENERATORS: dict[str, Callable[[Path], None]] = {
    "line_10mb_txt": _line_10mb_txt,
    "line_10mb_json": _line_10mb_json,
    "line_10mb_csv": _line_10mb_csv,
    "dose_10mb_digits": _dose_10mb_digits,
    "nested_100k_list": _nested_100k_list,
    "nested_100k_items": _nested_100k_items,
    "nested_100k_unclosed": _nested_100k_unclosed,
    "items_10k_txt": _items_10k_txt,
    "items_10k_json": _items_10k_json,
    "items_10k_unknown": _items_10k_unknown,
    "items_10k_longest_lines": _items_10k_longest_lines,
    "dose_1e308_json": _dose_1e308_json,
    "dose_1e308_digits": _dose_1e308_digits,
    "dose_nan_json": _dose_nan_json,
    "over_64mib": _over_64mib,
    "batch_csv_oversize_field": _batch_csv_oversize_field,
    "batch_10mb_record": _batch_10mb_record,
    "batch_nested_100k": _batch_nested_100k,
    "batch_10k_items": _batch_10k_items,
}


# -- running medref --------------------------------------------------------------------------

@dataclass
class Outcome:
    """What one run of medref did."""

    exit: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float | None = None
    exception: str | None = None
    hung: bool = False


def run_subprocess(argv: list[str], cwd: Path, stdin: bytes | None = None,
                   timeout: float = TIMEOUT) -> Outcome:
    """Run the installed ``medref`` script; kill it after ``timeout`` seconds (a hang)."""
    env = with_root({k: v for k, v in os.environ.items() if not k.startswith("MEDREF_")})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(stdin or b"")
        inp.seek(0)
        t0 = time.monotonic()
        proc = subprocess.Popen([*MEDREF, *argv], cwd=cwd, stdin=inp, stdout=out,
                                stderr=err, env=env)
        hung = False
        peak_kb: int | None = None
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kb = _peak_after_exec(proc.pid, peak_kb)
            if time.monotonic() - t0 > timeout:
                proc.kill()
                _, status, _ = os.wait4(proc.pid, 0)
                hung = True
                break
            time.sleep(0.02)
        seconds = time.monotonic() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        out.seek(0)
        err.seek(0)
        raw_out, raw_err = out.read(), err.read()
    try:
        stdout = raw_out.decode("utf-8")
    except UnicodeDecodeError as exc:
        pytest.fail(f"stdout is not valid UTF-8 ({exc})")
    # ru_maxrss of a child counts the pages it shared with this (large) test process before
    # exec; the child's own peak is its VmHWM after exec, sampled while it runs
    rss_mb = peak_kb / 1024 if peak_kb is not None else None
    return Outcome(code, stdout, raw_err.decode("utf-8", "replace"), seconds, rss_mb,
                   hung=hung)


_SELF_CMDLINE = Path("/proc/self/cmdline").read_bytes() if Path("/proc/self").exists() else b""


def _peak_after_exec(pid: int, peak_kb: int | None) -> int | None:
    """The child's peak resident set (VmHWM, kB) once it has exec'd, or ``peak_kb`` (Linux
    /proc; elsewhere no figure)."""
    try:
        proc = Path(f"/proc/{pid}")
        if (proc / "cmdline").read_bytes() == _SELF_CMDLINE:
            return peak_kb  # not yet exec'd: the figures are this process's
        for line in (proc / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                kb = int(line.split()[1])
                return kb if peak_kb is None else max(kb, peak_kb)
    except (OSError, ValueError):
        pass
    return peak_kb


def run_inprocess(argv: list[str], stdin: bytes | None = None) -> Outcome:
    """Run the click command in this process (the current directory is the case's)."""
    t0 = time.monotonic()
    res = CliRunner().invoke(cli, argv, input=stdin or b"", catch_exceptions=True)
    seconds = time.monotonic() - t0
    exc = None
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        exc = "".join(traceback.format_exception(res.exception))
    return Outcome(res.exit_code, res.stdout, res.stderr, seconds, exception=exc)


def strict_json(text: str) -> Any:
    """Parse JSON as the RFC says: NaN and Infinity are not JSON."""
    def bad(const: str) -> Any:
        raise ValueError(f"not valid JSON: bare {const}")
    return json.loads(text, parse_constant=bad)


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _case_bytes(spec: dict[str, Any], path: Path) -> bytes | None:
    if "content" in spec:
        return str(spec["content"]).encode("utf-8")
    if "content_b64" in spec:
        return base64.b64decode(spec["content_b64"])
    if "generate" in spec:
        GENERATORS[spec["generate"]](path)
        return None
    return b""


def _default_args(case: dict[str, Any]) -> list[str]:
    if "args" in case:
        return list(case["args"])
    if case["kind"] == "batch":
        return ["batch", "{file}", "-o", "out.jsonl"]
    return ["check", "--format", "json", "-f", "{file}"]


def _runner(case: dict[str, Any]) -> str:
    forced = os.environ.get("MEDREF_CATALOGUE_RUNNER")
    if case.get("runner") == "inprocess":
        return "inprocess"
    if forced in ("subprocess", "inprocess"):
        return forced
    if case.get("runner") == "subprocess" or "generate" in case.get("file", {}):
        return "subprocess"
    return "inprocess"


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.slow] if _runner(case) == "subprocess" else []
    return pytest.param(case, id=case["id"], marks=marks)


# -- the cases -------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.get("requires_path") and not os.path.exists(case["requires_path"]):
        pytest.skip(f"{case['requires_path']} does not exist on this system")
    work = tmp_path / "work"
    work.mkdir()
    expect = case["expect"]
    spec = case.get("file", {})
    name = spec.get("name", "")
    stdin: bytes | None = None
    if spec:
        path = work / name
        kind = spec.get("type", "file")
        if kind == "dir":
            path.mkdir()
        elif kind == "file":
            data = _case_bytes(spec, path)
            if case.get("stdin"):
                stdin = data
            elif data is not None:
                path.write_bytes(data)
            if "mode" in spec and not case.get("stdin"):
                path.chmod(spec["mode"])
    argv = [a.replace("{file}", name) for a in _default_args(case)]
    before = _tree(work)
    runner = _runner(case)
    if runner == "subprocess":
        out = run_subprocess(argv, work, stdin)
    else:
        monkeypatch.chdir(work)
        if spec.get("mode") == 0 and os.geteuid() == 0:
            _simulate_permission_denied(monkeypatch, (work / name).resolve())
        out = run_inprocess(argv, stdin)
    if spec.get("mode") is not None and spec.get("type", "file") == "file":
        (work / name).chmod(0o644)
    after = _tree(work)
    check_outcome(case, expect, argv, out, before, after, work)


def _simulate_permission_denied(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """Root reads a mode-000 file; make ``open`` of that one path fail as it would for a user."""
    real_open = builtins.open

    def fake_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path) and Path(file).resolve() == target:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    # builtins, not the reading modules' globals: compiled (mypyc), a module looks ``open`` up
    # in builtins, so a module-level patch would not reach it
    monkeypatch.setattr(builtins, "open", fake_open)


def _describe(out: Outcome) -> str:
    return (f"exit {out.exit} after {out.seconds:.1f}s"
            + (f", peak {out.max_rss_mb:.0f} MB" if out.max_rss_mb is not None else "")
            + f"\n--- stderr ---\n{out.stderr[-3000:]}\n--- stdout ---\n{out.stdout[:1500]}"
            + (f"\n--- exception ---\n{out.exception}" if out.exception else ""))


def check_outcome(case: dict[str, Any], expect: dict[str, Any], argv: list[str], out: Outcome,
                  before: set[str], after: set[str], work: Path) -> None:
    """Assert everything a case expects, plus the invariants every case shares."""
    desc = _describe(out)
    # never a hang, a traceback, an internal error or a runaway process
    assert not out.hung, f"hang: medref {argv[0]} did not finish within {TIMEOUT:.0f}s\n{desc}"
    assert out.exception is None, f"unhandled exception\n{desc}"
    assert "Traceback" not in out.stdout + out.stderr, desc
    assert "internal error" not in out.stderr, f"an internal error, not a usage error\n{desc}"
    limit = expect.get("max_rss_mb", DEFAULT_MAX_RSS_MB)
    if out.max_rss_mb is not None:
        assert out.max_rss_mb <= limit, f"memory not bounded: peak {out.max_rss_mb:.0f} MB " \
                                        f"> {limit} MB\n{desc}"
    exits = expect["exit"] if isinstance(expect["exit"], list) else [expect["exit"]]
    assert out.exit in exits, f"expected exit {exits}\n{desc}"

    # files: nothing but the requested output appears, no temp file is left behind
    new = after - before
    assert not [p for p in after if ".medref-batch-" in p], f"temp file left: {after}\n{desc}"
    is_batch = case["kind"] == "batch"
    output = argv[argv.index("-o") + 1] if "-o" in argv else None
    records = expect.get("records")
    if is_batch and output is not None and records is not None:
        assert new == {output}, f"expected only {output} to be created, got {new}\n{desc}"
    else:
        assert not new, f"files created: {new}\n{desc}"

    stderr_lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    for needle in expect.get("stderr_contains", []):
        assert needle in out.stderr, f"stderr lacks {needle!r}\n{desc}"
    groups = expect.get("stderr_contains_any", [])
    if groups and isinstance(groups[0], str):
        groups = [groups]
    for group in groups:
        assert any(n in out.stderr for n in group), f"stderr names none of {group}\n{desc}"

    if out.exit == 2 and records is None:
        # a usage error: one line, "Error: ...", naming the file; nothing on stdout
        assert not out.stdout.strip(), f"a usage error printed results\n{desc}"
        if expect.get("click_usage"):
            assert stderr_lines and stderr_lines[-1].startswith("Error:"), desc
        else:
            assert len(stderr_lines) == 1, f"expected one line on stderr\n{desc}"
            assert stderr_lines[0].startswith("Error: "), desc
        if expect.get("names_file", True) and case.get("file") and not case.get("stdin"):
            given = argv[argv.index("-f") + 1] if "-f" in argv else (
                argv[1] if is_batch else case["file"]["name"])
            assert given in out.stderr, f"the message does not name {given!r}\n{desc}"
        if is_batch and output is not None:
            assert not (work / output).exists(), desc

    if "--format" in argv and argv[argv.index("--format") + 1] == "json" \
            and argv[0] == "check" and out.exit in (0, 1):
        _check_findings(expect, out, desc)
    if expect.get("stdout_no_control_chars"):
        bad = sorted({f"U+{ord(c):04X}" for c in out.stdout
                      if unicodedata.category(c) == "Cc" and c != "\n"})
        assert not bad, f"control characters echoed to the terminal: {bad}\n{desc}"
    if records is not None:
        _check_batch(case, records, argv, out, work, output, desc)


def _check_findings(expect: dict[str, Any], out: Outcome, desc: str) -> None:
    try:
        doc = strict_json(out.stdout)
    except ValueError as exc:
        pytest.fail(f"--format json output is not valid JSON: {exc}\n{desc}")
    items = doc["items"]
    findings = doc["findings"]
    codes = [f["code"] for f in findings]
    statuses = [it["status"] for it in items]
    messages = [f["message"] for f in findings]
    for code in expect.get("finding_codes", []):
        assert code in codes, f"no {code} finding (got {codes})\n{desc}"
    for code in expect.get("no_finding_codes", []):
        assert code not in codes, f"unexpected {code} finding\n{desc}"
    if "status" in expect:
        assert statuses == expect["status"], desc
    if "items" in expect:
        assert len(items) == expect["items"], f"{len(items)} items reported\n{desc}"
    if "status_counts" in expect:
        counts = collections.Counter(statuses)
        assert {k: counts.get(k, 0) for k in expect["status_counts"]} == \
            expect["status_counts"], f"statuses {dict(counts)}\n{desc}"
    for needle in expect.get("finding_message_contains", []):
        assert any(needle in m for m in messages), f"no finding mentions {needle!r}\n{desc}"
    if "finding_with_lines" in expect:
        want = set(expect["finding_with_lines"])
        assert any(want <= set(f["lines"]) for f in findings), \
            f"no finding covers lines {sorted(want)}\n{desc}"
    assert doc["summary"]["items"] == len(items), desc


def _nonblank_lines(raw: bytes) -> int:
    text = raw.decode("utf-8-sig", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return sum(1 for ln in text.split("\n") if ln.strip())


def _check_batch(case: dict[str, Any], records: list[dict[str, Any]], argv: list[str],
                 out: Outcome, work: Path, output: str | None, desc: str) -> None:
    if output is not None:
        assert not out.stdout.strip(), f"results went to stdout as well as {output}\n{desc}"
        path = work / output
        assert path.is_file(), f"{output} was not written\n{desc}"
        text = path.read_bytes().decode("utf-8")
    else:
        text = out.stdout
    lines = text.splitlines()
    parsed = []
    for n, ln in enumerate(lines, 1):
        try:
            parsed.append(strict_json(ln))
        except ValueError as exc:
            pytest.fail(f"output line {n} is not valid JSON ({exc}): {ln[:200]}\n{desc}")
    if argv[1].endswith(".jsonl"):
        want = _nonblank_lines((work / argv[1]).read_bytes())
        assert len(lines) == want, f"{len(lines)} output lines for {want} non-blank input " \
                                   f"lines\n{desc}"
    assert len(parsed) == len(records), f"{len(parsed)} records, expected {len(records)}\n" \
                                        f"{desc}"
    errors = 0
    last_line = 0
    for n, (rec, spec) in enumerate(zip(parsed, records, strict=True), 1):
        where = f"record {n}: {json.dumps(rec)[:300]}"
        assert isinstance(rec, dict), where
        if "id" in spec:
            assert rec.get("id") == spec["id"] and type(rec.get("id")) is type(spec["id"]), \
                f"{where}: expected id {spec['id']!r} (records out of order?)\n{desc}"
        if "error" in rec:
            errors += 1
            assert set(rec) == {"id", "line", "error"}, where
            assert isinstance(rec["error"], str) and "\n" not in rec["error"], where
            assert rec["line"] > last_line, f"{where}: out of input order\n{desc}"
            last_line = rec["line"]
        if spec.get("error") is True:
            assert "error" in rec, f"{where}: expected an error record\n{desc}"
            if "line" in spec:
                assert rec["line"] == spec["line"], f"{where}: wrong line\n{desc}"
            for needle in spec.get("error_contains", []):
                assert needle in rec["error"], f"{where}: error lacks {needle!r}\n{desc}"
        elif spec.get("error") is False:
            assert "findings" in rec and "summary" in rec, f"{where}: expected a result\n{desc}"
            codes = [f["code"] for f in rec["findings"]]
            for code in spec.get("codes", []):
                assert code in codes, f"{where}: no {code}\n{desc}"
            if "items" in spec:
                assert rec["summary"]["items"] == spec["items"], where
    if errors:
        assert out.exit == 2, f"records not read but exit {out.exit}\n{desc}"


# -- the catalogue itself ----------------------------------------------------------------------

def test_catalogue_has_at_least_60_cases() -> None:
    assert len(CASES) >= 60
    assert len(CASES) >= 50  # the issue's minimum


def test_catalogue_ids_are_unique_and_cases_well_formed() -> None:
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    for c in CASES:
        assert c["kind"] in ("args", "file", "batch"), c["id"]
        assert c["covers"], c["id"]
        assert "exit" in c["expect"], c["id"]
        if c["kind"] == "args":
            assert isinstance(c["args"], list), c["id"]
        else:
            spec = c["file"]
            sources = [k for k in ("content", "content_b64", "generate") if k in spec]
            assert len(sources) == 1 or spec.get("type") in ("missing", "dir"), c["id"]
            if "generate" in spec:
                assert spec["generate"] in GENERATORS, c["id"]


def test_catalogue_covers_every_category_of_the_issue() -> None:
    covered = set().union(*(c["covers"] for c in CASES))
    assert covered >= REQUIRED_COVERS, sorted(REQUIRED_COVERS - covered)
    assert covered <= REQUIRED_COVERS, sorted(covered - REQUIRED_COVERS)


def test_catalogue_has_the_generated_huge_inputs() -> None:
    generated = {c["file"]["generate"] for c in CASES if "generate" in c.get("file", {})}
    for need in ("line_10mb_txt", "nested_100k_list", "items_10k_txt", "dose_1e308_json",
                 "dose_nan_json", "batch_10mb_record", "batch_nested_100k"):
        assert need in generated
    assert set(GENERATORS) == generated, "every generator is used by a case"


def test_catalogue_has_batch_cases_with_good_and_bad_records() -> None:
    batches = [c for c in CASES if c["kind"] == "batch" and c["expect"].get("records")]
    mixed = [c for c in batches if any(r.get("error") is True for r in c["expect"]["records"])
             and any(r.get("error") is False for r in c["expect"]["records"])]
    assert len(mixed) >= 3
    assert any(c["file"]["name"].endswith(".csv") for c in batches)
