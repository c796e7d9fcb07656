"""The architecture is executable: layers, the check walk-through, typed checks."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import MEDREF, with_root
from conftest import HANG_SECONDS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "ARCHITECTURE.md"
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--config", str(cwd / "pyproject.toml")], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=HANG_SECONDS)


@pytest.mark.slow
def test_the_layers_contract_holds_and_an_upward_import_breaks_it(tmp_path: Path) -> None:
    """lint-imports passes on the package; a copy where a check imports the engine fails."""
    if not LINT.exists():
        pytest.skip("import-linter is not installed (pip install '.[dev]')")
    for name in ("medref", "pyproject.toml"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, tmp_path / name)
    ok = _lint(tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bone = tmp_path / "medref" / "checks" / "bone.py"
    bone.write_text(bone.read_text() + "\nfrom medref import engine  # an upward import\n")
    broken = _lint(tmp_path)
    assert broken.returncode != 0
    assert "medref.checks.bone -> medref.engine" in broken.stdout


def _toy_module() -> str:
    """The toy check's code, exactly as docs/ARCHITECTURE.md shows it."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Adding a check", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]


def test_the_walkthrough_check_registers_and_fires(tmp_path: Path) -> None:
    """Following docs/ARCHITECTURE.md: the toy check named in MEDREF_CHECKS shows its code in
    `medref codes` and its finding in `medref check` (and only on a PRN line without a
    reason)."""
    (tmp_path / "mysite_prn.py").write_text(_toy_module(), encoding="utf-8")
    env = with_root({**os.environ, "MEDREF_CHECKS": "mysite_prn:CHECK",
                     "PYTHONPATH": os.pathsep.join([str(tmp_path),
                                                    os.environ.get("PYTHONPATH", "")])})
    codes = subprocess.run([*MEDREF, "codes"], env=env, capture_output=True, text=True,
                           timeout=HANG_SECONDS)
    assert codes.returncode == 0, codes.stderr
    assert re.search(r"^MR901\s+administration\s+info\s+A PRN line without a reason",
                     codes.stdout, flags=re.M)
    res = subprocess.run([*MEDREF, "check", "--format", "json",
                          "acetaminophen 500 mg q6h prn", "ibuprofen 400 mg q8h prn pain"],
                         env=env, capture_output=True, text=True, timeout=HANG_SECONDS)
    assert res.returncode in (0, 1), res.stderr
    mr901 = [f for f in json.loads(res.stdout)["findings"] if f["code"] == "MR901"]
    assert [(f["items"], f["lines"], f["severity"]) for f in mr901] == [
        (["acetaminophen"], [0], "info")]
    plain = subprocess.run([*MEDREF, "codes"], capture_output=True, text=True,
                           env=with_root({k: v for k, v in os.environ.items()
                                          if k != "MEDREF_CHECKS"}),
                           timeout=HANG_SECONDS)
    assert "MR901" not in plain.stdout


def test_a_bad_extra_check_name_is_a_clear_error() -> None:
    """MEDREF_CHECKS naming something that is not a check: exit 2, one line."""
    env = with_root({**os.environ, "MEDREF_CHECKS": "json:dumps"})
    res = subprocess.run([*MEDREF, "codes"], env=env, capture_output=True, text=True,
                         timeout=HANG_SECONDS)
    assert res.returncode == 2
    assert "not a medref check" in res.stderr and "Traceback" not in res.stderr


CHECK_SOURCES = sorted((ROOT / "medref" / "checks").glob("*.py"))


@pytest.mark.parametrize("path", CHECK_SOURCES, ids=lambda p: p.name)
def test_checks_are_fully_typed(path: Path) -> None:
    """No Any, cast( or type: ignore in the check modules (CI greps for the same)."""
    text = path.read_text(encoding="utf-8")
    for banned in (r"\bAny\b", r"\bcast\(", r"type:\s*ignore"):
        assert not re.search(banned, text), (path.name, banned)
