"""medref benchmarks: cold start, batch throughput, scaling, memory, "did you mean". Prints
figures only; tests never assert on time.

    python benchmarks/run.py                       # full: 200k and 1M records (long)
    python benchmarks/run.py --quick               # 20k / 100k records, a smoke run
    python benchmarks/run.py --baseline df729f4    # also: the same figures for a git revision,
                                                   # side by side, interleaved runs
    python benchmarks/run.py --baseline df729f4 --spark   # every target of issues 12 and 16
    python benchmarks/run.py --baseline df729f4 --only compare --paired --batch-runs 20
                                                   # batch vs df729f4, the two started
                                                   # together (one per core), 20 pairs

Every figure is measured side by side with its baseline in the same run (machines are noisy;
the targets are ratios):
- cold start: ``medref check`` on three lines (a known drug, a brand, an unknown name) vs
  ``python -c "import click, pydantic, tabulate"`` (target <= 1.25x); with ``--baseline``,
  also vs the revision's ``medref check`` (medians of ``--runs`` interleaved runs);
- throughput: ``medref batch`` over N records vs plain Python reading the file and
  json.loads-ing every line, with items per second; with ``--baseline``, the revision's batch
  too (interleaved, medians of ``--batch-runs``);
- output floor: the time to write the batch's output bytes alone (no checking);
- throughput targets: --jobs 1 <= 20x and --jobs 2 <= 12x the plain read; regimen reuse
  (``make_regimens.py --repeat 0.5``) reported apart;
- scaling: --jobs 2 vs --jobs 1 (target >= 1.6x), 5N vs N records (target <= 5.5x), peak memory
  for 5N vs 10k records (target <= 1.2x);
- with ``--spark``: ``medref spark`` local[1] and local[2] on the 5N file, result counts
  against batch's (equal), local[2] vs local[1] (target >= 1.6x), seconds per million
  regimens per core;
- unknown names: ``medref check -f`` on 10,000 distinct unknown names, each answered with a
  suggestion or "no close match" (target <= 3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import string
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
MEDREF = str(BIN / "medref")
CHECK_LINES = ["ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain", "xyzzy 10 mg daily"]
"""Cold start: a known drug, a brand name and an unknown name."""


def _run(cmd: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, int, int]:
    """Run a command; return (wall seconds, peak RSS KiB, exit status).

    Dirty pages left by an earlier run (a batch writes about 1 GB per 200,000 records) are
    flushed first, so no run pays for the one before it."""
    os.sync()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, int(usage.ru_maxrss), proc.returncode


def _make(path: Path, records: int, seed: int = 1, generator: Path | None = None,
          extra: tuple[str, ...] = ()) -> None:
    """Generate ``records`` regimens (this checkout's generator and data, or another
    revision's ``generator``, which reads that revision's data)."""
    with open(path, "w") as fh:
        subprocess.run([sys.executable, str(generator or HERE / "make_regimens.py"),
                        "--records", str(records), "--seed", str(seed), *extra], stdout=fh,
                       check=True)


def _baseline_read(path: Path) -> list[str]:
    code = ("import json,sys\n"
            "for line in open(sys.argv[1], encoding='utf-8'):\n"
            "    try:\n"
            "        json.loads(line)\n"
            "    except ValueError:\n"
            "        pass\n")
    return [sys.executable, "-c", code, str(path)]


_FLOOR = """
import os, sys, time
data = open(sys.argv[1], "rb").read()
view = memoryview(data)
t = time.perf_counter()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
while view:
    view = view[os.write(fd, view[:1 << 20]):]
os.fsync(fd)
os.close(fd)
print(time.perf_counter() - t)
"""


def _write_floor(src: Path, dst: Path) -> float:
    """Seconds to write ``src``'s bytes to ``dst`` (1 MiB writes, then fsync, as batch), in a
    child process so this process never holds the output."""
    os.sync()
    done = subprocess.run([sys.executable, "-c", _FLOOR, str(src), str(dst)],
                          capture_output=True, text=True, check=True)
    dst.unlink()
    return float(done.stdout)


def install_revision(rev: str, where: Path) -> str:
    """Install git revision ``rev`` of this repository in a fresh venv under ``where`` (a
    worktree of the revision, built and installed like a user install); return its
    ``medref`` script."""
    src = where / "src"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(src), rev],
                   check=True, capture_output=True)
    env_dir = where / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(src)], check=True)
    subprocess.run([str(py), "-m", "compileall", "-q", str(env_dir / "lib")], check=False)
    return str(env_dir / "bin" / "medref")


def _remove_worktree(where: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                    str(where / "src")], check=False, capture_output=True)


def _interleaved(cmds: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Wall seconds of each command, run ``runs`` times in turn."""
    out: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, cmd in cmds.items():
            out[k].append(_run(cmd)[0])
    return out


def _paired(a: list[str], b: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall seconds of two commands started together (one per core), ``runs`` times: each
    pair meets the same moment of a noisy machine."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(runs):
        os.sync()
        t = time.perf_counter()
        pa = subprocess.Popen(a, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pb = subprocess.Popen(b, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        done: dict[int, float] = {}
        while len(done) < 2:
            pid, _ = os.wait()
            done[pid] = time.perf_counter() - t
        ta.append(done[pa.pid])
        tb.append(done[pb.pid])
    return ta, tb


def _unknown_names(path: Path, n: int = 10_000) -> None:
    rnd = random.Random(7)
    seen: set[str] = set()
    lines: list[str] = []
    while len(lines) < n:
        name = "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 11)))
        if name in seen:
            continue
        seen.add(name)
        lines.append(f"{name} {rnd.choice([5, 10, 20, 50, 100, 500])} mg "
                     f"{rnd.choice(['daily', 'bid', 'tid', 'q6h'])}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description="medref benchmarks")
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--runs", type=int, default=20,
                    help="interleaved cold-start runs (medians reported)")
    ap.add_argument("--batch-runs", type=int, default=3,
                    help="interleaved batch runs per command when comparing (medians)")
    ap.add_argument("--baseline", metavar="REV",
                    help="also measure this git revision, side by side (e.g. df729f4)")
    ap.add_argument("--spark", action="store_true",
                    help="also run medref spark (local[1], local[2]) on the large file "
                         "(needs the spark extra and Java)")
    ap.add_argument("--paired", action="store_true",
                    help="batch vs --baseline: run the two at the same time, one per core "
                         "(--batch-runs pairs), instead of one after the other")
    ap.add_argument("--only", choices=["compare", "all"], default="all",
                    help="compare: only the side-by-side figures with --baseline")
    args = ap.parse_args()
    n = 20_000 if args.quick else 200_000
    big = 5 * n
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    # which medref: this interpreter's console script, pure Python or the compiled build
    # (README "Compiled build"); its --version says "(compiled)" for the latter
    shown = subprocess.run([MEDREF, "--version"], capture_output=True, text=True, check=False)
    print(f"medref under test: {MEDREF}: {shown.stdout.strip() or shown.stderr.strip()}")
    # a real install byte-compiles the package; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would time the compiler instead, so compile first
    import medref
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(medref.__file__).parent)],
                   check=False)

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        rev_medref = None
        if args.baseline:
            rev_medref = install_revision(args.baseline, d / "rev")
        try:
            _measure(args, d, n, big, rev_medref)
        finally:
            if args.baseline:
                _remove_worktree(d / "rev")


def _measure(args: argparse.Namespace, d: Path, n: int, big: int,
             rev_medref: str | None) -> None:
    base_cmd = [sys.executable, "-c", "import click, pydantic, tabulate"]
    cmds = {"deps": base_cmd, "medref": [MEDREF, "check", *CHECK_LINES]}
    if rev_medref:
        cmds[args.baseline] = [rev_medref, "check", *CHECK_LINES]
    times = _interleaved(cmds, args.runs)
    med = {k: statistics.median(v) for k, v in times.items()}
    line = (f"cold start ({args.runs} interleaved runs, medians): medref check "
            f"{med['medref'] * 1000:.0f} ms vs import click,pydantic,tabulate "
            f"{med['deps'] * 1000:.0f} ms -> {med['medref'] / med['deps']:.2f}x "
            "(target <= 1.25x)")
    if rev_medref:
        line += (f"; {args.baseline} {med[args.baseline] * 1000:.0f} ms "
                 f"({med[args.baseline] / med['deps']:.2f}x) -> this code is "
                 f"{med['medref'] / med[args.baseline]:.3f}x {args.baseline} (target <= 1.05x)")
    print(line)

    small, mid, large = d / "r10k.jsonl", d / f"r{n}.jsonl", d / f"r{big}.jsonl"
    _make(mid, n)
    with open(mid) as fh:
        items = sum(len(json.loads(x).get("items", "")) for x in fh if '"items": [' in x)
    if rev_medref:
        # the revision's own generator and data ("make_regimens.py, its defaults at REV"):
        # every drug of the file is one the revision knows
        cmp_file = d / f"rev{n}.jsonl"
        _make(cmp_file, n, generator=d / "rev" / "src" / "benchmarks" / "make_regimens.py")
        bcmds = {"json.loads": _baseline_read(cmp_file),
                 "medref": [MEDREF, "batch", str(cmp_file), "-o", str(d / "cmp.jsonl"),
                            "--jobs", "1"],
                 args.baseline: [rev_medref, "batch", str(cmp_file), "-o",
                                 str(d / "cmp.jsonl"), "--jobs", "1"]}
        how = "interleaved runs"
        if args.paired:
            bcmds[args.baseline][-3] = str(d / "cmp_rev.jsonl")  # its own output file
            mine, theirs = _paired(bcmds["medref"], bcmds[args.baseline], args.batch_runs)
            reads = _interleaved({"json.loads": bcmds["json.loads"]}, 3)["json.loads"]
            bt = {"medref": statistics.median(mine), args.baseline: statistics.median(theirs),
                  "json.loads": statistics.median(reads)}
            ratios = sorted(m / r for m, r in zip(mine, theirs, strict=True))
            how = (f"pairs run at the same time, one per core; per-pair ratios "
                   f"{ratios[0]:.3f}..{ratios[-1]:.3f}, median "
                   f"{statistics.median(ratios):.3f}")
        else:
            bt = {k: statistics.median(v)
                  for k, v in _interleaved(bcmds, args.batch_runs).items()}
        print(f"batch vs {args.baseline} ({n:,} records from {args.baseline}'s "
              f"make_regimens.py and data, --jobs 1, {args.batch_runs} "
              f"{how}, medians): medref {bt['medref']:.1f} s = "
              f"{bt['medref'] / bt['json.loads']:.1f}x json.loads; {args.baseline} "
              f"{bt[args.baseline]:.1f} s = {bt[args.baseline] / bt['json.loads']:.1f}x; "
              f"json.loads {bt['json.loads']:.2f} s -> this code takes "
              f"{bt['medref'] / bt[args.baseline]:.3f}x the time of {args.baseline} "
              "(target <= 1.0x)")
    if args.only == "compare":
        return

    names = d / "unknown.txt"
    _unknown_names(names)
    t_json = min(_run([MEDREF, "check", "-f", str(names), "--format", "json"],
                      stdout=subprocess.DEVNULL)[0] for _ in range(3))
    t_table = min(_run([MEDREF, "check", "-f", str(names)])[0] for _ in range(3))
    out = subprocess.run([MEDREF, "check", "-f", str(names), "--format", "json"],
                         capture_output=True, text=True)
    found = [f for f in json.loads(out.stdout)["findings"] if f["code"] == "MR002"]
    answered = sum("did you mean" in f["message"] or "no close match" in f["message"]
                   for f in found)
    print(f"unknown names: check -f on 10,000 distinct unknown names: json {t_json:.2f} s, "
          f"table {t_table:.2f} s (best of 3); {answered:,} of {len(found):,} answered with "
          "a suggestion or 'no close match' (target <= 3 s)")

    _make(small, 10_000)
    _make(large, big)
    base, _, _ = _run(_baseline_read(mid))
    t1, rss_mid, _ = _run([MEDREF, "batch", str(mid), "-o", str(d / "o1.jsonl"), "--jobs", "1"])
    t2, _, _ = _run([MEDREF, "batch", str(mid), "-o", str(d / "o2.jsonl"), "--jobs", "2"])
    with open(d / "o1.jsonl") as fh:
        out_lines = sum(1 for _ in fh)
    print(f"throughput: {n:,} records ({out_lines:,} results): batch --jobs 1 {t1:.1f} s, "
          f"--jobs 2 {t2:.1f} s; plain read+json.loads {base:.2f} s -> "
          f"{t1 / base:.1f}x (jobs 1, target <= 20x), {t2 / base:.1f}x (jobs 2, target <= "
          f"12x); {items / t1:,.0f} items/s (jobs 1), {items / t2:,.0f} items/s (jobs 2)")
    rep = d / f"rep{n}.jsonl"
    _make(rep, n, extra=("--repeat", "0.5"))
    base_rep, _, _ = _run(_baseline_read(rep))
    tr, _, _ = _run([MEDREF, "batch", str(rep), "-o", str(d / "o5.jsonl"), "--jobs", "1"])
    (d / "o5.jsonl").unlink()
    print(f"regimen reuse (reported apart; make_regimens.py --repeat 0.5: half the records "
          f"repeat an earlier regimen): {n:,} records batch --jobs 1 {tr:.1f} s = "
          f"{tr / base_rep:.1f}x json.loads")
    floors = [_write_floor(d / "o1.jsonl", d / "floor.jsonl") for _ in range(3)]
    size = (d / "o1.jsonl").stat().st_size
    print(f"output floor: writing the {size / 1e6:,.0f} MB of results alone (no reading, no "
          f"checking; 1 MiB writes and fsync, as batch) {min(floors):.2f} s best of 3 "
          f"(worst {max(floors):.2f} s) -> {min(floors) / base:.1f}x the plain read")
    print(f"scaling: --jobs 2 is {t1 / t2:.2f}x faster than --jobs 1 (target >= 1.6x)")
    tb, rss_big, _ = _run([MEDREF, "batch", str(large), "-o", str(d / "o3.jsonl"),
                           "--jobs", "1"])
    _, rss_small, _ = _run([MEDREF, "batch", str(small), "-o", str(d / "o4.jsonl"),
                            "--jobs", "1"])
    print(f"linearity: {big:,} records {tb:.1f} s vs {n:,} records {t1:.1f} s -> "
          f"{tb / t1:.2f}x for 5x the records (target <= 5.5x)")
    print(f"memory: peak RSS {big:,} records {rss_big / 1024:.0f} MiB vs 10,000 records "
          f"{rss_small / 1024:.0f} MiB -> {rss_big / rss_small:.2f}x (target <= 1.2x; "
          f"{n:,}: {rss_mid / 1024:.0f} MiB)")
    if args.spark:
        _spark(d, large, d / "o3.jsonl", big)


def _spark(d: Path, src: Path, batch_out: Path, records: int) -> None:
    """``medref spark`` in local mode on one and two cores, over the file batch just read:
    counts against batch's, the speed-up, and the time per million regimens per core."""
    ok = err = 0
    with open(batch_out, "rb") as fh:
        for line in fh:
            if b',"findings":[' in line[:200]:
                ok += 1
            else:
                err += 1
    times = {}
    for cores in (1, 2):
        out = d / f"spark{cores}"
        times[cores], _, status = _run([MEDREF, "spark", str(src), "-o", str(out),
                                        "--master", f"local[{cores}]"])
        import pyarrow.parquet as pq
        table = pq.read_table(out / "summary", columns=["error"])
        s_all = table.num_rows
        s_err = s_all - table.column("error").null_count  # error is null when checked
        print(f"spark local[{cores}]: {records:,} regimens {times[cores]:.1f} s (exit {status}); "
              f"{s_all:,} results, {s_all - s_err:,} checked + {s_err:,} error rows vs batch "
              f"{ok + err:,} = {ok:,} + {err:,} -> counts "
              f"{'equal' if (s_all, s_all - s_err) == (ok + err, ok) else 'DIFFER'}")
    per_m = times[1] / (records / 1e6)
    print(f"spark scaling: local[2] is {times[1] / times[2]:.2f}x faster than local[1] "
          f"(target >= 1.6x); {per_m:.0f} s per million regimens per core (local[1])")


if __name__ == "__main__":
    main()
