"""Security properties of medref.

(a) no eval, exec, pickle, marshal, unsafe YAML or dynamic imports anywhere in the package;
(b) no network access at run time: every entry point works with sockets blocked;
(c) inputs are never used to build file paths: path-like text in a regimen line, a batch id or
    a name creates or reads no file other than the given input and output;
(d) a batch killed midway leaves no partial output file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from clirun import INSTALLED, MEDREF, with_root
from clirun import ROOT as CHECKOUT
from conftest import HANG_SECONDS

import medref
import medref.reference
from medref import check
from medref.cli import cli
from medref.reference import bundled_data_dir, load_reference

PACKAGE = Path(medref.__file__).resolve().parent
ROOT = PACKAGE.parent


# -- (a) no dangerous constructs in the source ----------------------------------------------

FORBIDDEN = {
    "eval(": re.compile(r"(?<![\w.])eval\s*\("),
    "exec(": re.compile(r"(?<![\w.])exec\s*\("),
    "pickle": re.compile(r"pickle", re.IGNORECASE),
    "cPickle/dill/shelve": re.compile(r"\b(?:cPickle|dill|shelve|jsonpickle)\b"),
    "yaml.load(": re.compile(r"yaml\s*\.\s*(?:load|unsafe_load|full_load|load_all)\s*\("),
    "marshal": re.compile(r"marshal", re.IGNORECASE),
    "__import__(": re.compile(r"__import__\s*\("),
}


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 10, files
    return files


@pytest.mark.parametrize("label", sorted(FORBIDDEN))
def test_source_has_no_dangerous_construct(label: str) -> None:
    rx = FORBIDDEN[label]
    hits = []
    for path in _sources():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not hits, f"{label} found:\n" + "\n".join(hits)


def test_no_serialized_python_objects_shipped() -> None:
    data = bundled_data_dir()
    assert data is not None
    roots = [PACKAGE, data]
    bad = [p for r in roots for p in r.rglob("*")
           if p.suffix in (".pkl", ".pickle", ".marshal", ".yaml", ".yml", ".npy", ".joblib")]
    assert not bad


def test_the_forbidden_patterns_do_match() -> None:
    """The grep is not vacuous: each pattern finds its construct."""
    samples = {"eval(": "x = eval('1')", "exec(": "exec(code)", "pickle": "import pickle",
               "cPickle/dill/shelve": "import shelve", "yaml.load(": "yaml.load(fh)",
               "marshal": "marshal.loads(b)", "__import__(": "__import__('os')"}
    for label, text in samples.items():
        assert FORBIDDEN[label].search(text), label
    assert not FORBIDDEN["eval("].search("ast.literal_eval(x)")
    assert not FORBIDDEN["exec("].search("ProcessPoolExecutor(2)")


# -- (b) no network -------------------------------------------------------------------------

class NetworkBlocked(AssertionError):
    """Raised by every socket entry point while the network is blocked."""


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Block sockets; yields the list of attempts (which must stay empty)."""
    attempts: list[str] = []

    def blocked(what: str) -> Any:
        def fn(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkBlocked(f"network access attempted: {what}")
        return fn

    monkeypatch.setattr(socket.socket, "__init__", blocked("socket.socket()"))
    monkeypatch.setattr(socket.socket, "connect", blocked("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", blocked("socket.connect_ex"))
    monkeypatch.setattr(socket.socket, "sendto", blocked("socket.sendto"))
    monkeypatch.setattr(socket, "create_connection", blocked("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", blocked("getaddrinfo"))
    monkeypatch.setattr(socket, "gethostbyname", blocked("gethostbyname"))
    monkeypatch.setattr(socket, "socketpair", blocked("socketpair"))
    yield attempts
    assert not attempts, f"medref tried to use the network: {attempts}"


def test_the_network_block_is_effective(no_network: list[str]) -> None:
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("127.0.0.1", 9), timeout=1)
    with pytest.raises(NetworkBlocked):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(NetworkBlocked):
        socket.getaddrinfo("example.org", 443)
    no_network.clear()


def test_check_works_offline(no_network: list[str]) -> None:
    result = check(["ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain",
                    "oxycodone 10 mg q4h prn"])
    codes = {f.code for f in result.findings}
    assert {"MR201", "MR101"} <= codes
    assert [it.status for it in result.items] == ["checked"] * 3


def test_load_reference_validate_works_offline(no_network: list[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(medref.reference, "_cache", {})  # really load and validate now
    ref = load_reference(validate=True)
    assert ref.get("ibuprofen") is not None
    assert len(ref.entries) >= 40
    assert ref.info.origin == "bundled"


@pytest.mark.parametrize(("argv", "exit_code"), [
    (["check", "ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain"], 1),
    (["check", "--format", "json", "--age", "70", "ibuprofen 400 mg tid"], 1),
    (["check", "--format", "csv", "calcium 500 mg daily"], 0),
    (["drugs"], 0),
    (["drugs", "--format", "json", "--class", "nsaid"], 0),
    (["supplements", "--format", "csv"], 0),
    (["show", "ibuprofen"], 0),
    (["show", "Advil", "--format", "json"], 0),
    (["codes"], 0),
    (["schema"], 0),
    (["--version"], 0),
])
def test_cli_works_offline(argv: list[str], exit_code: int, no_network: list[str]) -> None:
    res = CliRunner().invoke(cli, argv, catch_exceptions=True)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == exit_code, res.output
    assert res.stdout.strip()
    if argv[0] == "--version":
        assert "unavailable" not in res.stdout


def test_batch_works_offline(no_network: list[str], tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    recs = [{"id": i, "items": ["ibuprofen 400 mg tid", "acetaminophen 500 mg q6h"]}
            for i in range(50)]
    Path("in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    res = CliRunner().invoke(cli, ["batch", "in.jsonl", "-o", "out.jsonl"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 1, res.output
    out = Path("out.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(ln)["id"] for ln in out] == list(range(50))


SITECUSTOMIZE = '''
import os, socket
_MARK = os.environ["MEDREF_TEST_NET_MARK"]
def _blocked(*a, **k):
    with open(_MARK, "a") as fh:
        fh.write(f"{os.getpid()} network access attempted\\n")
    raise OSError("network access blocked by the medref test suite")
socket.socket.__init__ = _blocked
socket.socket.connect = _blocked
socket.create_connection = _blocked
socket.getaddrinfo = _blocked
'''


@pytest.mark.slow
def test_installed_cli_works_offline_in_subprocesses(tmp_path: Path) -> None:
    """The real console script (and its --jobs worker processes) never opens a socket."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    mark = tmp_path / "network-attempts.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDREF_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *([] if INSTALLED else [str(ROOT)])])
    env["MEDREF_TEST_NET_MARK"] = str(mark)
    probe = subprocess.run([sys.executable, "-c", "import socket; socket.socket()"], env=env,
                           capture_output=True, text=True, timeout=HANG_SECONDS)
    assert probe.returncode != 0 and "blocked by the medref test suite" in probe.stderr
    mark.unlink()
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps({"id": i, "items": ["ibuprofen 400 mg tid"]}) + "\n"
                           for i in range(40)), encoding="utf-8")
    runs = [
        (["check", "ibuprofen 800 mg po tid", "Tylenol 1 g q6h prn pain"], 1),
        (["drugs"], 0),
        (["show", "ibuprofen"], 0),
        (["batch", str(inp), "-o", str(tmp_path / "out.jsonl"), "--jobs", "2",
          "--chunk-size", "5"], 1),
    ]
    for argv, code in runs:
        r = subprocess.run([*MEDREF, *argv], env=env, capture_output=True, text=True,
                           timeout=HANG_SECONDS, cwd=tmp_path)
        assert r.returncode == code, (argv, r.stderr)
        assert "Traceback" not in r.stderr
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 40
    assert not mark.exists(), mark.read_text()


# -- (c) inputs never become file paths -----------------------------------------------------

_AUDIT: list[tuple[str, tuple[Any, ...]]] = []
_AUDIT_ON: list[bool] = []
_FILE_EVENTS = {"open", "os.rename", "os.remove", "os.unlink", "os.mkdir", "os.rmdir",
                "os.truncate", "shutil.copyfile", "shutil.move", "shutil.rmtree",
                "os.symlink", "os.link", "os.chmod", "tempfile.mkstemp", "os.listdir",
                "os.scandir"}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _AUDIT_ON and event in _FILE_EVENTS:
        _AUDIT.append((event, args))


_READ_EVENTS = {"os.listdir", "os.scandir"}
_TWO_PATHS = {"os.rename": 2, "os.link": 2, "os.symlink": 2, "shutil.copyfile": 2,
              "shutil.move": 2}
_HOOKED: list[bool] = []


@pytest.fixture
def file_audit() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """Record every file-system audit event raised while the test body runs."""
    if not _HOOKED:
        sys.addaudithook(_hook)
        _HOOKED.append(True)
    _AUDIT.clear()
    _AUDIT_ON.append(True)
    try:
        yield _AUDIT
    finally:
        _AUDIT_ON.clear()


def _paths(events: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, str, bool]]:
    """(event, absolute path, writes) for each event that names a path."""
    out = []
    for event, args in events:
        for a in args[:_TWO_PATHS.get(event, 1)]:
            if isinstance(a, bytes):
                a = os.fsdecode(a)
            if isinstance(a, str | os.PathLike):
                writes = _writes(args) if event == "open" else event not in _READ_EVENTS
                out.append((event, os.path.abspath(os.fspath(a)), writes))
    return out


def _writes(args: tuple[Any, ...]) -> bool:
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else 0
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return True
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))


def _allowed_read(path: str, allowed: set[str]) -> bool:
    if path in allowed:
        return True
    data = bundled_data_dir()
    prefixes = [str(PACKAGE), sys.prefix, sys.base_prefix, sys.exec_prefix,
                os.path.dirname(os.__file__), "/dev/", "/proc/", "/sys/"]
    if data is not None:
        prefixes.append(str(data))
    # the import system reads (and lists) the directories on sys.path
    prefixes += [os.path.abspath(p) for p in sys.path if p not in ("", ".")]
    return any(path.startswith(p) for p in prefixes)


PATH_LIKE = ["../../etc/passwd", "/tmp/{marker}", "../{marker}.jsonl", "~/{marker}",
             "file:///etc/passwd", "{marker}/../../out.jsonl", "C:\\{marker}\\x.json",
             "\\\\server\\share\\{marker}", "out.jsonl", "in.jsonl"]


def _forbidden_hits(paths: list[tuple[str, str, bool]], marker: str) -> list[Any]:
    return [p for p in paths if "passwd" in p[1] or marker in p[1] or "server" in p[1]]


def test_batch_ids_and_items_never_become_paths(tmp_path: Path, file_audit: list[Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    marker = f"medref-sec-{uuid.uuid4().hex}"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    texts = [t.format(marker=marker) for t in PATH_LIKE]
    recs = [{"id": t, "items": [f"ibuprofen 400 mg tid {t}", t,
                                {"name": t, "dose": 1, "unit": "mg", "frequency": "daily"}]}
            for t in texts]
    recs.append({"id": "ctx", "items": ["ibuprofen 400 mg tid"], "context": {texts[0]: 1}})
    (work / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs),
                                   encoding="utf-8")
    before_parent = set(os.listdir(tmp_path))
    before_tmp = set(os.listdir("/tmp"))
    _AUDIT.clear()
    res = CliRunner().invoke(cli, ["batch", "in.jsonl", "-o", "out.jsonl"])
    events = list(file_audit)
    _AUDIT_ON.clear()
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code in (1, 2), res.output
    out = [json.loads(ln) for ln in (work / "out.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == [*texts, "ctx"]
    # the only new file anywhere near is the output
    assert sorted(os.listdir(work)) == ["in.jsonl", "out.jsonl"]
    assert set(os.listdir(tmp_path)) == before_parent
    assert not [n for n in set(os.listdir("/tmp")) - before_tmp if marker in n]
    assert not Path(f"/tmp/{marker}").exists()
    assert not (Path.home() / marker).exists()
    # and the only files touched are the input, the output (via its temp file) and the
    # package's own code and data
    paths = _paths(events)
    assert not _forbidden_hits(paths, marker), _forbidden_hits(paths, marker)
    inp, outp = str(work / "in.jsonl"), str(work / "out.jsonl")
    assert (("open", inp, False) in paths and ("os.rename", outp, True) in paths), \
        "the audit hook must see the input being read and the output being renamed"
    for event, path, writes in paths:
        in_work = path.startswith(str(work) + os.sep) or path == str(work)
        if writes:
            assert in_work, (event, path)
            name = os.path.basename(path)
            assert path == outp or name.startswith(".medref-batch-"), (event, path)
        else:
            assert _allowed_read(path, {inp, outp, str(work)}) or (
                in_work and os.path.basename(path).startswith(".medref-batch-")), (event, path)


@pytest.mark.parametrize("fmt", ["json", "table", "csv"])
def test_check_lines_and_files_never_become_paths(fmt: str, tmp_path: Path,
                                                  file_audit: list[Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    marker = f"medref-sec-{uuid.uuid4().hex}"
    monkeypatch.chdir(tmp_path)
    texts = [t.format(marker=marker) for t in PATH_LIKE]
    (tmp_path / "regimen.txt").write_text("\n".join(f"{t} 400 mg tid" for t in texts) + "\n",
                                          encoding="utf-8")
    (tmp_path / "regimen.json").write_text(json.dumps(
        [{"name": t, "dose": 5, "unit": "mg", "frequency": t} for t in texts]
        + [{"name": "ibuprofen", "dose": 400, "unit": "mg", "frequency": "tid",
            "route": texts[0], "prn_reason": texts[1], "duration": texts[2]}]),
        encoding="utf-8")
    before = sorted(os.listdir(tmp_path))
    _AUDIT.clear()
    runner = CliRunner()
    results = [
        runner.invoke(cli, ["check", "--format", fmt, *texts]),
        runner.invoke(cli, ["check", "--format", fmt, "-f", "regimen.txt"]),
        runner.invoke(cli, ["check", "--format", fmt, "-f", "regimen.json"]),
        *(runner.invoke(cli, ["show", t]) for t in texts[:4]),
        runner.invoke(cli, ["drugs", "--search", texts[0]]),
    ]
    events = list(file_audit)
    _AUDIT_ON.clear()
    for res in results:
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        assert "Traceback" not in res.output
    assert [r.exit_code for r in results[:3]] == [1, 1, 1], [r.output for r in results[:3]]
    assert all(r.exit_code == 2 for r in results[3:7])  # unknown names
    assert sorted(os.listdir(tmp_path)) == before
    assert not Path(f"/tmp/{marker}").exists()
    paths = _paths(events)
    assert not _forbidden_hits(paths, marker), _forbidden_hits(paths, marker)
    allowed = {str(tmp_path / "regimen.txt"), str(tmp_path / "regimen.json")}
    assert {p for _, p, _ in paths} >= allowed, "the audit hook must see the inputs being read"
    for event, path, writes in paths:
        assert not writes, (event, path)
        assert _allowed_read(path, allowed), (event, path)


@pytest.mark.slow
def test_batch_subprocess_creates_only_its_output(tmp_path: Path) -> None:
    """The installed script, run from the output's directory: one new file, the output."""
    marker = f"medref-sec-{uuid.uuid4().hex}"
    texts = [t.format(marker=marker) for t in PATH_LIKE]
    (tmp_path / "in.jsonl").write_text("".join(
        json.dumps({"id": t, "items": [f"ibuprofen 400 mg tid {t}", t]}) + "\n" for t in texts),
        encoding="utf-8")
    (tmp_path / "in.csv").write_text("id,sig\n" + "".join(
        f'"{t}","{t} 5 mg daily"\n' for t in texts), encoding="utf-8")
    before = set(os.listdir(tmp_path))
    before_tmp = set(os.listdir("/tmp"))
    env = with_root({k: v for k, v in os.environ.items() if not k.startswith("MEDREF_")})
    for inp, out, jobs in (("in.jsonl", "out.jsonl", "1"), ("in.csv", "out2.jsonl", "2")):
        r = subprocess.run([*MEDREF, "batch", inp, "-o", out, "--jobs", jobs], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=HANG_SECONDS)
        assert r.returncode in (1, 2), r.stderr
        assert "Traceback" not in r.stderr
        ids = [json.loads(ln)["id"] for ln in (tmp_path / out).read_text().splitlines()]
        assert ids == texts
    assert set(os.listdir(tmp_path)) - before == {"out.jsonl", "out2.jsonl"}
    assert not [n for n in set(os.listdir("/tmp")) - before_tmp if marker in n]
    assert not (tmp_path.parent / f"{marker}.jsonl").exists()


# -- (d) killed midway: no partial output ---------------------------------------------------

@pytest.fixture(scope="module")
def big_jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    script = CHECKOUT / "benchmarks" / "make_regimens.py"
    with path.open("w", encoding="utf-8") as fh:
        subprocess.run([sys.executable, str(script), "--records", "200000", "--seed", "1"],
                       stdout=fh, check=True, timeout=HANG_SECONDS)
    assert sum(1 for _ in path.open(encoding="utf-8")) == 200_000
    return path


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


def _start_and_kill(big: Path, work: Path, sig: int, jobs: int
                    ) -> tuple[subprocess.Popen[bytes], list[int]]:
    env = with_root({k: v for k, v in os.environ.items() if not k.startswith("MEDREF_")})
    proc = subprocess.Popen([*MEDREF, "batch", str(big), "-o", "out.jsonl", "--jobs",
                             str(jobs)], cwd=work, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    t0 = time.monotonic()
    workers: list[int] = []
    try:
        while time.monotonic() - t0 < HANG_SECONDS:
            if list(work.glob(".medref-batch-*.tmp")) and time.monotonic() - t0 >= 1.0:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the batch finished before it could be killed"
        assert list(work.glob(".medref-batch-*.tmp")), "no temp output before the hang ceiling"
        assert not (work / "out.jsonl").exists(), "out.jsonl exists before the batch finished"
        if jobs > 1 and Path("/proc").is_dir():
            workers = _children(proc.pid)
        proc.send_signal(sig)
        proc.wait(timeout=HANG_SECONDS)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, workers


def _reap_orphans(workers: list[int], grace: float) -> list[int]:
    """Wait up to ``grace`` seconds for the workers to exit; kill (by pid) any still alive."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(w, signal.SIGKILL)
    return left


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_sigterm_midway_leaves_no_output_and_no_temp_file(big_jsonl: Path, tmp_path: Path,
                                                          jobs: int) -> None:
    proc, workers = _start_and_kill(big_jsonl, tmp_path, signal.SIGTERM, jobs)
    err = ""
    if proc.stderr is not None:
        err = proc.stderr.read().decode()
        proc.stderr.close()
    left = _reap_orphans(workers, 60)
    assert proc.returncode in (143, -signal.SIGTERM), (proc.returncode, err)
    assert "Traceback" not in err
    assert not (tmp_path / "out.jsonl").exists()
    assert not list(tmp_path.glob(".medref-batch-*")), "SIGTERM must remove the temp file"
    assert sorted(os.listdir(tmp_path)) == []
    assert not left, f"worker processes {left} outlived the batch"


@pytest.mark.slow
def test_sigkill_midway_leaves_no_output(big_jsonl: Path, tmp_path: Path) -> None:
    proc, _ = _start_and_kill(big_jsonl, tmp_path, signal.SIGKILL, 1)
    if proc.stderr is not None:
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "out.jsonl").exists()
    # only a hidden temp file may be left by SIGKILL (nothing can run on SIGKILL)
    assert all(n.startswith(".medref-batch-") and n.endswith(".tmp")
               for n in os.listdir(tmp_path)), os.listdir(tmp_path)


@pytest.mark.slow
def test_sigkill_with_jobs_leaves_no_output_and_no_orphan_workers(big_jsonl: Path,
                                                                  tmp_path: Path) -> None:
    if not Path("/proc").is_dir():
        pytest.skip("needs /proc to find the worker processes")
    proc, workers = _start_and_kill(big_jsonl, tmp_path, signal.SIGKILL, 2)
    if proc.stderr is not None:
        proc.stderr.close()
    left = _reap_orphans(workers, 60)
    assert proc.returncode == -signal.SIGKILL
    assert workers, "expected worker processes with --jobs 2"
    assert not (tmp_path / "out.jsonl").exists()
    assert all(n.startswith(".medref-batch-") and n.endswith(".tmp")
               for n in os.listdir(tmp_path)), os.listdir(tmp_path)
    assert not left, (f"worker processes {left} were still running 10 s after the batch was "
                      "killed (they were then killed by the test)")
