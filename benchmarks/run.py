"""medref benchmarks: cold start, batch throughput, scaling, memory. Prints figures only.

    python benchmarks/run.py            # full: 200k and 1M records (several minutes)
    python benchmarks/run.py --quick    # 20k / 100k records, for a smoke run

Every figure is measured side by side with its baseline in the same run (machines are noisy;
the targets are ratios):
- cold start: `medref check "ibuprofen 800 mg po tid"` vs `python -c "import click, pydantic,
  tabulate"` (target <= 1.25x);
- throughput: `medref batch` over N records vs plain Python reading the file and json.loads-ing
  every line (target <= 5x), with items per second;
- output floor: the time to write the batch's output bytes alone (no checking), to show how
  much of the throughput ratio the size of the output sets by itself;
- scaling: --jobs 2 vs --jobs 1 (target >= 1.6x faster), 5N vs N records (target <= 5.5x),
  peak memory for 5N vs 10k records (target <= 1.2x).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
MEDREF = str(BIN / "medref")


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


def _make(path: Path, records: int, seed: int = 1) -> None:
    with open(path, "w") as fh:
        subprocess.run([sys.executable, str(HERE / "make_regimens.py"), "--records",
                        str(records), "--seed", str(seed)], stdout=fh, check=True)


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
    """Seconds to write ``src``'s bytes to ``dst`` (1 MiB writes, then fsync, as batch): the
    least any run producing that output can take on this disk, before any work. Measured in a
    child process, so this process never holds the output (children would inherit its peak
    memory)."""
    os.sync()
    done = subprocess.run([sys.executable, "-c", _FLOOR, str(src), str(dst)],
                          capture_output=True, text=True, check=True)
    dst.unlink()
    return float(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description="medref benchmarks")
    ap.add_argument("--quick", action="store_true", help="smaller inputs")
    ap.add_argument("--repeat", type=int, default=5, help="cold-start repetitions (best of)")
    args = ap.parse_args()
    n = 20_000 if args.quick else 200_000
    big = 5 * n
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    # a real install byte-compiles the package; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would time the compiler instead, so compile first
    import medref
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(medref.__file__).parent)],
                   check=False)

    # cold start, interleaved so both see the same machine state
    base_t, med_t = [], []
    for _ in range(args.repeat):
        base_t.append(_run([sys.executable, "-c", "import click, pydantic, tabulate"])[0])
        med_t.append(_run([MEDREF, "check", "ibuprofen 800 mg po tid"])[0])
    b, m = min(base_t), min(med_t)
    print(f"cold start: medref check {m * 1000:.0f} ms vs import click,pydantic,tabulate "
          f"{b * 1000:.0f} ms -> {m / b:.2f}x (target <= 1.25x; medians "
          f"{statistics.median(med_t) * 1000:.0f} / {statistics.median(base_t) * 1000:.0f} ms)")

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        small, mid, large = d / "r10k.jsonl", d / f"r{n}.jsonl", d / f"r{big}.jsonl"
        _make(small, 10_000)
        _make(mid, n)
        _make(large, big)
        with open(mid) as fh:
            items = sum(line.count('",') + 1 for line in fh if '"items": [' in line)

        base, _, _ = _run(_baseline_read(mid))
        t1, rss_mid, _ = _run([MEDREF, "batch", str(mid), "-o", str(d / "o1.jsonl"),
                               "--jobs", "1"])
        t2, _, _ = _run([MEDREF, "batch", str(mid), "-o", str(d / "o2.jsonl"), "--jobs", "2"])
        with open(d / "o1.jsonl") as fh:
            out_lines = sum(1 for _ in fh)
        print(f"throughput: {n:,} records ({out_lines:,} results): batch --jobs 1 {t1:.1f} s, "
              f"--jobs 2 {t2:.1f} s; plain read+json.loads {base:.2f} s -> "
              f"{t1 / base:.1f}x (jobs 1), {t2 / base:.1f}x (jobs 2) (target <= 5x); "
              f"{items / t1:,.0f} items/s (jobs 1), {items / t2:,.0f} items/s (jobs 2)")
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


if __name__ == "__main__":
    main()
