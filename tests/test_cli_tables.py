"""The reference-table commands of the CLI: drugs, supplements, show, schema, --version."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from medref._version import __version__
from medref.cli import cli
from medref.models import Entry
from medref.reference import Reference, load_reference


@pytest.fixture(scope="module")
def ref() -> Reference:
    return load_reference()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _ids(ref: Reference, *kinds: str) -> list[str]:
    return [e["id"] for e in ref.by_kind(*kinds)]


def _json_ids(result: Result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return [e["id"] for e in data]


def _sources(obj: Any) -> Iterable[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "sources":
                yield from v
            else:
                yield from _sources(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _sources(v)


# -- drugs / supplements ------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "kinds"), [("drugs", ("drug", "therapy")),
                                                 ("supplements", ("supplement",))])
def test_table_lists_every_id(ref: Reference, command: str, kinds: tuple[str, ...]) -> None:
    """The default table shows every canonical id whole (not wrapped across lines)."""
    result = run(command)
    assert result.exit_code == 0, result.stderr
    cells = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    missing = [eid for eid in _ids(ref, *kinds) if eid not in cells]
    assert not missing, f"ids not shown whole in `medref {command}`: {missing}"


def test_drugs_lists_drugs_and_therapies_only(ref: Reference) -> None:
    ids = _json_ids(run("drugs", "--format", "json"))
    assert ids == _ids(ref, "drug", "therapy")
    assert "vitamin-d3" not in ids


def test_supplements_lists_supplements_only(ref: Reference) -> None:
    ids = _json_ids(run("supplements", "--format", "json"))
    assert ids == _ids(ref, "supplement")
    assert "ibuprofen" not in ids


def test_drugs_class_nsaid_json_is_exactly_the_nsaids() -> None:
    ids = _json_ids(run("drugs", "--class", "nsaid", "--format", "json"))
    want = sorted(e["id"] for e in load_reference().by_kind("drug", "therapy")
                  if "nsaid" in e.get("classes", ()))
    assert sorted(ids) == want
    assert {"ibuprofen", "naproxen", "celecoxib", "ketorolac", "meloxicam"} <= set(ids)
    assert "aspirin" not in ids  # low-dose aspirin is an antiplatelet, not a second NSAID


def test_drugs_json_has_every_typed_field() -> None:
    """JSON rows are full Entry dumps: every model field, limits and bone_healing typed."""
    data = json.loads(run("drugs", "--class", "nsaid", "--format", "json").stdout)
    for row in data:
        assert set(row) == set(Entry.model_fields) | {"products"}, row["id"]
        for prod in row["products"]:
            assert row["id"] in prod["ingredients"] and prod["strengths"]
        row = {k: v for k, v in row.items() if k != "products"}
        assert isinstance(row["limits"], list) and row["limits"]
        assert {"kind", "amount", "unit", "sources", "verified"} <= set(row["limits"][0])
        assert row["bone_healing"]["concern"] in ("none", "caution", "avoid")
        assert Entry.model_validate(row).id == row["id"]


@pytest.mark.parametrize("command", ["drugs", "supplements"])
def test_concern_bone_healing_keeps_only_concerns(ref: Reference, command: str) -> None:
    ids = _json_ids(run(command, "--concern", "bone-healing", "--format", "json"))
    kinds = ("drug", "therapy") if command == "drugs" else ("supplement",)
    expected = [e["id"] for e in ref.by_kind(*kinds) if e["bone_healing"]["concern"] != "none"]
    assert ids == expected


def test_concern_bone_healing_drugs_include_nsaids_not_acetaminophen() -> None:
    ids = _json_ids(run("drugs", "--concern", "bone-healing", "--format", "json"))
    assert {"ibuprofen", "ketorolac"} <= set(ids)
    assert "acetaminophen" not in ids


def test_search_free_text_matches_alias(ref: Reference) -> None:
    ids = _json_ids(run("drugs", "--search", "tylenol", "--format", "json"))
    assert ids == ["acetaminophen"]


def test_search_free_text_matches_class_any_case() -> None:
    ids = _json_ids(run("drugs", "--search", "BISPHOSPHONATE", "--format", "json"))
    assert sorted(ids) == ["alendronate", "ibandronate", "risedronate", "zoledronic-acid"]


def test_search_without_match_is_empty_list() -> None:
    assert _json_ids(run("drugs", "--search", "zzz-no-such-text", "--format", "json")) == []


@pytest.mark.parametrize("command", ["drugs", "supplements"])
def test_csv_parses_with_id_header(ref: Reference, command: str) -> None:
    result = run(command, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    assert "id" in rows[0]
    kinds = ("drug", "therapy") if command == "drugs" else ("supplement",)
    assert [r["id"] for r in rows] == _ids(ref, *kinds)


@pytest.mark.parametrize("tablefmt", ["plain", "simple", "github", "grid", "pipe", "html",
                                      "latex"])
def test_tablefmt_renders(tablefmt: str) -> None:
    result = run("drugs", "--tablefmt", tablefmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip()
    assert "acetaminophen" in result.stdout


@pytest.mark.parametrize("command", ["drugs", "supplements"])
def test_default_table_fits_100_columns(command: str) -> None:
    result = run(command)
    assert result.exit_code == 0, result.stderr
    widest = max(len(line) for line in result.stdout.splitlines())
    assert widest <= 100


# -- show ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "eid"), [("tylenol", "acetaminophen"),
                                           ("  ZOLEDRONIC ACID ", "zoledronic-acid"),
                                           ("Advil", "ibuprofen"), ("Percocet", "oxycodone"),
                                           ("Percocet", "acetaminophen")])
def test_show_prints_card_with_every_source(ref: Reference, name: str, eid: str) -> None:
    """An entry's card, or a product's (which cites every source of its ingredients too)."""
    result = run("show", name)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    product = ref.product(name)
    if product is not None:
        assert f"[{product['id']}]" in out.splitlines()[0]
        assert f"[{eid}]" in out
    else:
        assert f"[{eid}]" in out.splitlines()[0]
    assert "Sources" in out
    sources_part = out[out.rindex("Sources"):]
    cited = set(_sources(ref.entries[eid]))
    assert cited
    missing = [s for s in sorted(cited) if f"[{s}]" not in sources_part]
    assert not missing


def test_show_unknown_name_is_one_error_line() -> None:
    result = run("show", "nosuchdrug")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error:")
    assert "Traceback" not in result.stderr
    assert "nosuchdrug" in lines[0]


def test_show_typo_suggests_the_entry() -> None:
    result = run("show", "tylenl")
    assert result.exit_code == 2
    assert "did you mean" in result.stderr
    assert "tylenol" in result.stderr or "acetaminophen" in result.stderr


# -- version, help, schema ----------------------------------------------------------------------

def test_version_prints_version_and_data_sha(ref: Reference) -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout
    assert ref.info.sha256[:16] in result.stdout


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help(name: str) -> None:
    cmd = cli.commands[name]
    assert cmd.help and cmd.help.strip(), f"command {name!r} has no help text"
    result = run(name, "--help")
    assert result.exit_code == 0
    assert result.stdout.strip()


def test_group_has_help() -> None:
    assert isinstance(cli, click.Group)
    assert cli.help and cli.help.strip()


def test_schema_prints_json_with_input_and_output() -> None:
    result = run("schema")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"input", "output"} <= set(doc)


# -- the simple table without tabulate ------------------------------------------------------

from hypothesis import given as _given  # noqa: E402
from hypothesis import settings as _settings  # noqa: E402
from hypothesis import strategies as _st  # noqa: E402

_CELL = _st.one_of(
    _st.text(alphabet=_st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
    _st.text(alphabet=_st.sampled_from("ab %,-\n"), max_size=12),
    _st.integers(0, 10**6))
_HEAD = _st.text(alphabet=_st.characters(min_codepoint=32, max_codepoint=126), max_size=12)


@_settings(max_examples=300)
@_given(data=_st.data(), cols=_st.integers(1, 7), nrows=_st.integers(1, 6))
def test_the_fast_simple_table_is_tabulates_byte_for_byte(data: Any, cols: int,
                                                          nrows: int) -> None:
    """``medref check`` renders its default table without importing tabulate (cold start);
    the output must be exactly tabulate's ``simple`` format."""
    from tabulate import tabulate

    from medref.render.table import _simple
    headers = data.draw(_st.lists(_HEAD, min_size=cols, max_size=cols))
    rows = data.draw(_st.lists(_st.lists(_CELL, min_size=cols, max_size=cols),
                               min_size=nrows, max_size=nrows))
    fast = _simple(rows, headers)
    assert fast is not None
    assert fast == tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


def test_check_does_not_import_tabulate_for_the_default_table() -> None:
    import subprocess
    import sys
    code = ("import sys, medref.cli; sys.argv=['medref','check','ibuprofen 800 mg po tid'];\n"
            "try:\n    medref.cli.main()\nexcept SystemExit:\n    pass\n"
            "print('TABULATE' if 'tabulate' in sys.modules else 'NO-TABULATE')")
    from clirun import with_root
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=900, check=False, env=with_root(os.environ))
    assert out.stdout.strip().splitlines()[-1] == "NO-TABULATE", out.stdout + out.stderr


@_settings(max_examples=500)
@_given(text=_st.one_of(
    _st.text(alphabet=_st.sampled_from("ab cd  e'(),.;:1-"), max_size=80),
    _st.text(alphabet=_st.characters(min_codepoint=32, max_codepoint=126), max_size=120),
    _st.text(max_size=40)), width=_st.integers(1, 30))
def test_the_fast_wrap_is_textwraps_line_for_line(text: str, width: int) -> None:
    """Messages and wide cells are wrapped without textwrap's regex for plain text: the lines
    must be exactly ``textwrap.wrap``'s (long words cut, spaces dropped where it drops them)."""
    import textwrap

    from medref.render.table import wrap
    assert wrap(text, width) == textwrap.wrap(text, width, break_long_words=True,
                                              break_on_hyphens=True)


def test_line_numbers_past_999_are_not_wrapped(tmp_path: Any) -> None:
    """The '#' column grows with the regimen: line 1000 is printed whole, on one row."""
    path = tmp_path / "many.txt"
    path.write_text("".join(f"zzqx{i} 10 mg daily\n" for i in range(1001)))
    out = CliRunner().invoke(cli, ["check", "-f", str(path)])
    table = out.output.split("\nFindings")[0].splitlines()
    assert [ln.split()[:2] for ln in table[-3:]] == [
        ["999", "zzqx998"], ["1000", "zzqx999"], ["1001", "zzqx1000"]], table[-6:]


def test_version_names_a_compiled_build_and_only_that() -> None:
    """``--version`` says "(compiled)" exactly when the engine is a compiled module, and the
    suite's own build setting agrees with what is imported."""
    import os

    import medref.engine
    from medref._version import build
    compiled = not (medref.engine.__file__ or "").endswith(".py")
    assert build() == ("compiled" if compiled else "python")
    assert ("(compiled)" in run("--version").stdout) is compiled
    assert compiled is (os.environ.get("MEDREF_TEST_BUILD") == "compiled")
