"""The README's library examples run as written, and its tables match the code."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import with_root
from conftest import HANG_SECONDS

from medref.checks import all_checks, codes_of
from medref.cli import cli
from medref.engine import ENGINE_CODES
from medref.vocab import CATEGORIES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_library_examples() -> None:
    """The README shows at least the check example and the pydantic validator example."""
    blocks = _python_blocks()
    assert len(blocks) >= 2
    assert any("within_daily_max" in b for b in blocks)


def _run_block(block: str, tmp_path: Path) -> str:
    script = tmp_path / "readme_example.py"
    script.write_text(block, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=HANG_SECONDS, check=False,
                          env=with_root(os.environ))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("block", _python_blocks())
def test_readme_python_block_runs(block: str, tmp_path: Path) -> None:
    """Each python block in the README runs as written, from another directory."""
    assert _run_block(block, tmp_path).strip()


def test_validator_example_output(tmp_path: Path) -> None:
    """The validator example accepts 3,000 mg/day and rejects 4,600 mg/day with both numbers."""
    block = next(b for b in _python_blocks() if "within_daily_max" in b)
    out = _run_block(block, tmp_path)
    assert "apap_mg_per_day=3000" in out
    assert "4,600 mg/day exceeds the labeled maximum of 4,000 mg/day" in out


def test_every_code_is_documented() -> None:
    """Every finding code the engine can emit is in the README table with its category."""
    for code, c in codes_of(all_checks(), ENGINE_CODES).items():
        assert re.search(rf"\| {code} \| {re.escape(c.category)} \|", README), code


def test_codes_in_checks_are_registered() -> None:
    """Every MRnnn string in the engine and the check modules is a declared code."""
    codes = codes_of(all_checks(), ENGINE_CODES)
    pkg = Path(__file__).resolve().parent.parent / "medref"
    for path in [pkg / "engine.py", *sorted((pkg / "checks").glob("*.py"))]:
        for code in set(re.findall(r'"(MR\d{3})"', path.read_text())):
            assert code in codes, (path.name, code)


def test_every_category_is_documented() -> None:
    """The closed category vocabulary is listed in the README."""
    for cat in CATEGORIES:
        assert f"`{cat}`" in README, cat


def test_every_command_has_help_and_is_documented() -> None:
    """Each CLI command has help text and appears in the README."""
    for name, cmd in cli.commands.items():
        assert cmd.help, name
        assert f"medref {name}" in README, name


def test_the_code_table_is_generated_from_the_declared_codes() -> None:
    """The README's code table is exactly what ``python -m medref._docs`` writes."""
    from medref._docs import BEGIN, END, code_table
    table = README.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == code_table(), "run: python -m medref._docs"
