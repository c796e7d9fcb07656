"""The built wheel: it ships the data and py.typed, and the installed CLI works from anywhere.

Builds a wheel from the source checkout, installs it (``--no-deps``) into a fresh virtual
environment that sees the running environment's packages (click, pydantic, tabulate), and runs
the installed ``medref`` from an unrelated working directory.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import HANG_SECONDS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = "Scripts" if os.name == "nt" else "bin"

_NO_BUILD_BACKEND = ("No matching distribution found for hatchling",
                     "Could not find a version that satisfies the requirement hatchling")


def _run(args: list[str], cwd: Path, timeout: float = HANG_SECONDS
         ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "MEDREF_DATA", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _running_env_paths() -> list[str]:
    """site-packages of the running environment (a venv does not inherit them by itself)."""
    paths = [*site.getsitepackages(), sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(p for p in paths if Path(p).is_dir()))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Build the wheel and install it into a fresh venv; returns the wheel and venv paths."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
                  "-w", str(dist), str(ROOT)], cwd=base)
    if build.returncode != 0:
        out = build.stdout + build.stderr
        if any(s in out for s in _NO_BUILD_BACKEND):
            pytest.skip("cannot build the wheel: no network and hatchling is not available")
        pytest.fail(f"pip wheel failed:\n{out}")
    wheels = list(dist.glob("medref-*.whl"))
    assert len(wheels) == 1, wheels

    env_dir = base / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=True, clear=True).create(env_dir)
    py = env_dir / BIN / ("python.exe" if os.name == "nt" else "python")
    purelib = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                   cwd=base).stdout.strip()
    # Make the running environment's dependencies importable; these paths come after the new
    # venv's own site-packages, so the installed wheel (not a source checkout) provides medref.
    (Path(purelib) / "_running_env.pth").write_text("\n".join(_running_env_paths()) + "\n")
    # --ignore-installed: the running environment may already hold medref (CI installs it
    # non-editable), which must not stop the wheel from going into this venv.
    install = _run([str(py), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--ignore-installed", str(wheels[0])], cwd=base)
    assert install.returncode == 0, install.stdout + install.stderr
    return {"wheel": wheels[0], "venv": env_dir, "python": py,
            "medref": env_dir / BIN / "medref", "purelib": Path(purelib)}


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """A working directory with no data/ and no source checkout in it."""
    return tmp_path


def test_wheel_contains_data_and_py_typed(installed: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for required in ("medref/data/drugs.json", "medref/data/supplements.json",
                     "medref/data/MANIFEST.json", "medref/py.typed"):
        assert required in names, required


def test_bundled_data_dir_is_inside_the_venv(installed: dict[str, Path], cwd: Path) -> None:
    r = _run([str(installed["python"]), "-c",
              "import medref.reference as r; print(r.bundled_data_dir())"], cwd=cwd)
    assert r.returncode == 0, r.stderr
    data_dir = Path(r.stdout.strip()).resolve()
    assert data_dir.is_relative_to(installed["purelib"].resolve())
    assert not data_dir.is_relative_to(ROOT)


def test_installed_medref_package_is_not_the_checkout(installed: dict[str, Path],
                                                      cwd: Path) -> None:
    r = _run([str(installed["python"]), "-c", "import medref; print(medref.__file__)"], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).resolve().is_relative_to(installed["purelib"].resolve())


@pytest.mark.parametrize("command", ["drugs", "supplements"])
def test_installed_tables(installed: dict[str, Path], cwd: Path, command: str) -> None:
    r = _run([str(installed["medref"]), command], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert ("acetaminophen" if command == "drugs" else "vitamin-d3") in r.stdout


@pytest.mark.parametrize(("name", "eid"), [("tylenol", "acetaminophen"),
                                           ("ZOLEDRONIC ACID", "zoledronic-acid")])
def test_installed_show(installed: dict[str, Path], cwd: Path, name: str, eid: str) -> None:
    r = _run([str(installed["medref"]), "show", name], cwd=cwd)
    assert r.returncode == 0, r.stderr
    assert f"[{eid}]" in r.stdout
    assert "Sources" in r.stdout


def test_installed_drugs_json(installed: dict[str, Path], cwd: Path) -> None:
    r = _run([str(installed["medref"]), "drugs", "--class", "nsaid", "--format", "json"],
             cwd=cwd)
    assert r.returncode == 0, r.stderr
    ids = sorted(e["id"] for e in json.loads(r.stdout))
    assert {"ibuprofen", "naproxen", "celecoxib", "ketorolac", "meloxicam"} <= set(ids)
    assert all("nsaid" in e["classes"] for e in json.loads(r.stdout))


def test_installed_python_m_check_flags_bone_healing(installed: dict[str, Path],
                                                     cwd: Path) -> None:
    """`python -m medref check` exits 1: ibuprofen carries a bone-healing warning."""
    r = _run([str(installed["python"]), "-m", "medref", "check", "ibuprofen 800 mg po tid"],
             cwd=cwd)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "bone-healing" in r.stdout
    assert "Traceback" not in r.stderr
