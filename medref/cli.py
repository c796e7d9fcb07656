"""The ``medref`` command line: a thin layer over the library.

Each command calls the library, renders, and exits: 0 clean, 1 a finding at or above
``--fail-on``, 2 a usage, input or data error (one line on stderr, never a traceback).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from medref._version import __version__, build

F = TypeVar("F", bound=Callable[..., Any])

TABLEFMTS = ("plain", "simple", "github", "grid", "simple_grid", "rounded_grid", "fancy_grid",
             "pipe", "orgtbl", "jira", "presto", "pretty", "psql", "rst", "mediawiki", "moinmoin",
             "youtrack", "html", "unsafehtml", "latex", "latex_raw", "latex_booktabs",
             "latex_longtable", "textile", "tsv", "heavy_grid", "mixed_grid", "double_grid",
             "outline", "simple_outline", "rounded_outline", "heavy_outline", "asciidoc")
"""tabulate's formats (kept here so --help does not import tabulate)."""


class CliError(click.ClickException):
    """A usage, input or data error: one line on stderr, exit status 2."""

    exit_code = 2


def _fail(exc: BaseException) -> NoReturn:
    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    raise CliError(msg)


def _fhir_outcome(exc: BaseException) -> None:
    """Print an input error as a FHIR OperationOutcome on stdout (the one-line error still
    goes to stderr, exit 2)."""
    from medref.render.fhir import operation_outcome
    from medref.render.json import dumps
    click.echo(dumps(operation_outcome(str(exc).splitlines()[0] if str(exc) else
                                       type(exc).__name__)))


def _resolve_data(value: str | None) -> str | None:
    """A command's own --data, else the group's (``medref --data DIR check ...``), else
    $MEDREF_DATA (the value click read from the environment)."""
    from click.core import ParameterSource
    ctx = click.get_current_context()
    if ctx.get_parameter_source("data_dir") is not ParameterSource.COMMANDLINE:
        group_value = ctx.meta.get("medref.data_dir")
        if group_value is not None:
            return str(group_value)
    return value


def _data_option(fn: F) -> F:
    import functools

    @functools.wraps(fn)
    def _with_data(*args: Any, **kwargs: Any) -> Any:
        kwargs["data_dir"] = _resolve_data(kwargs.get("data_dir"))
        return fn(*args, **kwargs)

    return click.option("--data", "data_dir", type=click.Path(file_okay=False),
                        envvar="MEDREF_DATA", default=None,
                        help="Use a site's own copy of the data files (validated on load)."
                        )(_with_data)  # type: ignore[return-value]


def _format_options(fn: F) -> F:
    fn = click.option("--tablefmt", type=click.Choice(TABLEFMTS), default="simple",
                      show_default=True, help="tabulate format for --format table.")(fn)
    fn = click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                      default="table", show_default=True, help="Output format.")(fn)
    return fn


def _reference(data_dir: str | None) -> Any:
    from medref.errors import MedrefError
    from medref.reference import load_reference
    try:
        return load_reference(data_dir)
    except MedrefError as exc:
        _fail(exc)


def _version_text(data_dir: str | None = None) -> str:
    try:
        from medref.reference import load_reference
        info = load_reference(data_dir).info
        data = f"data {info.version} (sha256 {info.sha256[:16]})"
        if data_dir is not None:
            data += f" from {data_dir}"
    except Exception as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        data = f"data unavailable: {first}"
    built = " (compiled)" if build() == "compiled" else ""
    return f"medref {__version__}{built}, {data}"


def _remember_data(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    ctx.meta["medref.data_dir"] = value


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text(ctx.meta.get("medref.data_dir")))
        ctx.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--data", "data_dir", type=click.Path(file_okay=False), envvar="MEDREF_DATA",
              default=None, expose_value=False, is_eager=True, callback=_remember_data,
              help="Use a site's own copy of the data files, for --version and every "
                   "command (a command's own --data wins; default $MEDREF_DATA).")
@click.option("--version", is_flag=True, expose_value=False, callback=_print_version,
              help="Show the version and the data set's version and checksum (the data "
                   "set --data or $MEDREF_DATA selects).")
def cli() -> None:
    """medref: check medication and supplement regimens against a sourced reference.

    Built for spinal-fusion and nonunion patients: dose ranges, labeled daily maxima (worst
    case of PRN ranges), bone-healing concerns, duplicates, interactions, opioid MME and
    supplement upper limits. Not medical advice.
    """


def _entries_command(kinds: tuple[str, ...], data_dir: str | None, klass: str | None,
                     concern: str | None, search: str | None, fmt: str, tablefmt: str) -> None:
    from medref.render import OutputFormat
    from medref.render.table import entries_table
    ref = _reference(data_dir)
    entries = list(ref.by_kind(*kinds))
    if klass:
        entries = [e for e in entries if klass.lower() in e.get("classes", ())]
    if concern:
        c = concern.lower()
        if c in ("bone-healing", "any"):
            entries = [e for e in entries if e["bone_healing"]["concern"] != "none"]
        else:
            entries = [e for e in entries if e["bone_healing"]["concern"] == c]
    if search:
        hits = {e["id"] for e in ref.search(search)}
        entries = [e for e in entries if e["id"] in hits]
    click.echo(entries_table(entries, ref, OutputFormat(fmt), tablefmt))


def _filter_options(fn: F) -> F:
    fn = click.option("--search", help="Free text in names, aliases, classes or texts.")(fn)
    fn = click.option("--concern", help="bone-healing (any concern), caution, avoid or none.",
                      type=click.Choice(["bone-healing", "any", "caution", "avoid", "none"],
                                        case_sensitive=False))(fn)
    fn = click.option("--class", "klass", help="Therapeutic class, e.g. nsaid, opioid.")(fn)
    return fn


@cli.command()
@_filter_options
@_format_options
@_data_option
def drugs(klass: str | None, concern: str | None, search: str | None, fmt: str, tablefmt: str,
          data_dir: str | None) -> None:
    """Reference table of drugs and advanced therapies."""
    _entries_command(("drug", "therapy"), data_dir, klass, concern, search, fmt, tablefmt)


@cli.command()
@_filter_options
@_format_options
@_data_option
def supplements(klass: str | None, concern: str | None, search: str | None, fmt: str,
                tablefmt: str, data_dir: str | None) -> None:
    """Reference table of dietary supplements with upper intake levels."""
    _entries_command(("supplement",), data_dir, klass, concern, search, fmt, tablefmt)


@cli.command()
@click.argument("name")
@_format_options
@_data_option
def show(name: str, fmt: str, tablefmt: str, data_dir: str | None) -> None:
    """Full card for one entry or product (any alias, any case): every field and every
    source; a product's card shows its ingredients, strengths and the limits that apply."""
    from medref.errors import UnknownSubstanceError
    from medref.render import OutputFormat
    from medref.render.table import entries_table, entry_card
    ref = _reference(data_dir)
    product = ref.product(name)
    if product is not None:
        _show_product(product, ref, fmt, tablefmt)
        return
    try:
        entry = ref.lookup(name)
    except UnknownSubstanceError as exc:
        _fail(exc)
    if fmt == "table":
        click.echo(entry_card(entry, ref, tablefmt))
    elif fmt == "json":
        import json
        click.echo(json.dumps(ref.model(entry["id"]).model_dump(mode="json"), indent=2,
                              ensure_ascii=False))
    else:
        click.echo(entries_table([entry], ref, OutputFormat.CSV))


def _show_product(product: dict[str, Any], ref: Any, fmt: str, tablefmt: str) -> None:
    from medref.render import OutputFormat
    from medref.render.table import product_card, products_table
    if fmt == "table":
        click.echo(product_card(product, ref, tablefmt))
    elif fmt == "json":
        import json
        doc = ref.model(product["id"]).model_dump(mode="json", exclude_none=True)
        doc["ingredient_entries"] = [ref.model(i).model_dump(mode="json")
                                     for i in product["ingredients"]]
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        click.echo(products_table([product], ref, OutputFormat.CSV))


@cli.command()
@click.option("--ingredient", help="Only products containing this ingredient (any name).")
@click.option("--search", help="Free text in product names and aliases.")
@_format_options
@_data_option
def products(ingredient: str | None, search: str | None, fmt: str, tablefmt: str,
             data_dir: str | None) -> None:
    """Reference table of marketed products: ingredients, form, formulation, strengths."""
    from medref.errors import UnknownSubstanceError
    from medref.render import OutputFormat
    from medref.render.table import products_table
    ref = _reference(data_dir)
    items = list(ref.products.values())
    if ingredient:
        try:
            iid = ref.lookup(ingredient)["id"]
        except UnknownSubstanceError as exc:
            _fail(exc)
        items = [p for p in items if iid in p["ingredients"]]
    if search:
        t = search.casefold()
        items = [p for p in items if t in " ".join([p["id"], p["name"], *p.get("aliases", ())])
                 .casefold()]
    click.echo(products_table(items, ref, OutputFormat(fmt), tablefmt))


def _finite(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    import math
    if value is not None and not math.isfinite(value):
        raise click.BadParameter("must be a finite number")
    return value


def _context_options(fn: F) -> F:
    fn = click.option("--opioid-tolerant/--not-opioid-tolerant", "opioid_tolerant",
                      default=None,
                      help="Patient is (or is not) opioid-tolerant as the ER/LA opioid labels "
                           "define it (fentanyl patches, OxyContin ...).")(fn)
    fn = click.option("--egfr", type=click.FloatRange(0, 250), default=None, callback=_finite,
                      help="eGFR, mL/min/1.73 m2: used for a CrCl rule when --crcl is not "
                           "given (the finding says so).")(fn)
    fn = click.option("--weight", type=click.FloatRange(0, 300), default=None,
                      callback=_finite, help="Body weight, kg (per-kg limits).")(fn)
    fn = click.option("--weeks-since-surgery", type=click.FloatRange(0, 520), default=None,
                      callback=_finite,
                      help="Weeks since fusion surgery (NSAID early-healing window).")(fn)
    fn = click.option("--hepatic-impairment/--no-hepatic-impairment", default=None,
                      help="Patient has (or has not) hepatic impairment.")(fn)
    fn = click.option("--crcl", type=click.FloatRange(0, 250), default=None, callback=_finite,
                      help="Creatinine clearance, mL/min.")(fn)
    fn = click.option("--age", type=click.IntRange(0, 130), default=None,
                      help="Age in years (upper-limit bands, age-adjusted maxima).")(fn)
    return fn


@cli.command(name="check")
@click.argument("lines", nargs=-1)
@click.option("--file", "-f", "file", type=str, default=None,
              help="Read the regimen from a .txt, .json or .csv file ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "fhir"]),
              default="table", show_default=True,
              help="Output format (fhir: a Bundle of DetectedIssue; an input error as an "
                   "OperationOutcome).")
@click.option("--tablefmt", type=click.Choice(TABLEFMTS), default="simple", show_default=True,
              help="tabulate format for --format table.")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default="warning",
              show_default=True, help="Exit 1 when a finding reaches this severity.")
@_context_options
@_data_option
def check_cmd(lines: tuple[str, ...], file: str | None, fmt: str, tablefmt: str, fail_on: str,
              data_dir: str | None, **context: Any) -> None:
    """Check a regimen: doses, worst-case daily limits, bone healing, interactions.

    LINES are sig lines as a pharmacist types them, e.g. "ibuprofen 800 mg po tid"
    "Tylenol 1 g q6h prn pain".

    A --file may carry the patient context (a JSON object's "context", CSV context columns);
    its values win, and the context options fill what it leaves unset (the output's
    summary.context_sources says where each value came from).
    """
    from medref.api import check
    from medref.context import Context
    from medref.errors import MedrefError
    items: list[Any] = list(lines)
    source = ""
    numbers: list[int] | None = None
    own: Context | None = None
    fhir = None
    if file is not None:
        from medref.readers.files import read_regimen_file
        try:
            got = read_regimen_file(file)
        except MedrefError as exc:
            if fmt == "fhir":
                _fhir_outcome(exc)
            _fail(exc)
        if got.item_lines is not None and not items:
            numbers = list(got.item_lines)
        items += got.items
        source = "<stdin>" if file == "-" else file
        own = got.context
        fhir = got.fhir
    if not items:
        raise CliError("no regimen given: pass lines as arguments or --file PATH")
    ref = _reference(data_dir)
    try:
        options = Context(**context)
        result = check(items, options, reference=ref, source=source, line_numbers=numbers,
                       input_context=own, fhir=fhir)
    except (MedrefError, ValueError) as exc:
        if fmt == "fhir":
            _fhir_outcome(exc)
        _fail(exc)
    if fmt == "json":
        from medref.render.json import check_json
        out = check_json(result, ref)
    elif fmt == "fhir":
        from medref.render.fhir import detected_issues
        from medref.render.json import dumps
        out = dumps(detected_issues(result, ref, fhir))
    else:
        from medref.render import table
        out = table.check_csv(result) if fmt == "csv" else table.check_table(result, tablefmt)
    click.echo(out)
    sys.exit(result.exit_code(fail_on))


@cli.command()
@click.argument("which", type=click.Choice(["output", "input", "batch-output", "all"]),
                default="all")
def schema(which: str) -> None:
    """Print the JSON Schema of the check input and output documents."""
    import json

    from medref.schema import json_schemas
    schemas = json_schemas()
    doc = schemas if which == "all" else schemas[which]
    click.echo(json.dumps(doc, indent=2))


@cli.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write JSONL here (a regular file appears complete or not at all; a "
                   "symlink is followed; a FIFO or device is written directly, so not "
                   "atomically). Default stdout.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (output order is kept).")
@click.option("--chunk-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Records per unit of work.")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default="warning",
              show_default=True, help="Exit 1 when a finding reaches this severity.")
@click.option("--format", "in_format", type=click.Choice(["auto", "jsonl", "csv"]),
              default="auto", show_default=True, help="Input format (auto: by extension).")
@click.option("--progress/--no-progress", default=None,
              help="Progress on stderr (default: when stderr is a terminal).")
@_context_options
@_data_option
def batch(input_path: str, output: str | None, jobs: int, chunk_size: int, fail_on: str,
          in_format: str, progress: bool | None, data_dir: str | None, **context: Any) -> None:
    """Screen many regimens: INPUT is .jsonl (one record per line), .csv (rows grouped by
    id) or - for stdin. Writes one JSONL result per record, in input order.

    Exit 2 if any record could not be read (after writing every other result), else 1 or 0
    by --fail-on.
    """
    from medref._batch_cli import run_batch
    from medref.context import Context
    from medref.errors import MedrefError
    _reference(data_dir)  # a broken data set fails here, before any output
    try:
        ctx = Context(**context)
    except ValueError as exc:
        _fail(exc)
    try:
        code = run_batch(input_path, output, jobs=jobs, chunk_size=chunk_size,
                         fail_on=fail_on, in_format=in_format, progress=progress, context=ctx,
                         data_dir=data_dir)
    except MedrefError as exc:
        _fail(exc)
    sys.exit(code)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--config", "config_path", type=str, default=None,
              help="Service configuration (JSON): allowed issuers and their keys, audiences, "
                   "CORS origins, body limit, time limit, audit log.")
@click.option("--insecure-no-auth", is_flag=True, default=False,
              help="Accept calls without a token (local use only; warns on every start).")
@click.option("--audit-log", type=str, default=None,
              help="Append one JSON line per call here (default: the config's, else stderr).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (one per core; they share the token replay check).")
@_data_option
def serve(host: str, port: int, config_path: str | None, insecure_no_auth: bool,
          audit_log: str | None, workers: int, data_dir: str | None) -> None:
    """Run the CDS Hooks service (order-select, order-sign) on HOST:PORT.

    Needs the serve extra: pip install 'medref[serve]'. Every call must carry a JWT from an
    issuer in --config, verified with that issuer's keys.
    """
    ref = _reference(data_dir)
    try:
        from medref.serve import run
        from medref.serve.auth import ConfigError
    except ImportError as exc:
        raise CliError(f"medref serve needs the serve extra ({exc.name} is not installed): "
                       "pip install 'medref[serve]' (from a clone: pip install '.[serve]')"
                       ) from None
    try:
        run(ref, host=host, port=port, config_path=config_path, insecure=insecure_no_auth,
            audit_log=audit_log, workers=workers, data_dir=data_dir)
    except (ConfigError, OSError) as exc:
        _fail(exc)


@cli.command()
@click.argument("input_path", metavar="CLAIMS")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write JSONL here (default stdout): one line per member, in order of "
                   "first appearance, and one per claim row that could not be read.")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day screened (default: each member's first fill).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day screened (default: each member's last day of supply).")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default="warning",
              show_default=True, help="Exit 1 when a finding reaches this severity.")
@_context_options
@_data_option
def claims(input_path: str, output: str | None, start: Any, end: Any, fail_on: str,
           data_dir: str | None, **context: Any) -> None:
    """Screen dispensing claims (CSV, or Parquet named *.parquet: member_id, fill_date,
    drug and/or ndc, quantity, days_supply): every day's active regimen per member, plus
    opioid + benzodiazepine overlap (PQA COB) and sustained high MME (CMS OHD).

    Exit 2 if a claim row could not be read (after writing every other result).
    """
    import json

    from medref.claims import screen_member
    from medref.context import Context
    from medref.errors import MedrefError
    from medref.readers.claims import ClaimError, iter_claims, iter_claims_parquet
    from medref.readers.files import read_bytes
    from medref.readers.lines import Lexicon
    from medref.vocab import SEVERITY_RANK
    ref = _reference(data_dir)
    parquet = input_path.lower().endswith((".parquet", ".pq"))
    text = name = ""
    try:
        ctx = Context(**context)
        if not parquet:
            data, name = read_bytes(input_path)
            text = data.decode("utf-8-sig")
    except (MedrefError, ValueError) as exc:
        _fail(exc)
    from medref.api import engine_for
    engine = engine_for(ref)
    lex = Lexicon(ref)
    import io
    try:
        if parquet:
            rows = list(iter_claims_parquet(input_path, lex, input_path))
        else:
            rows = list(iter_claims(io.StringIO(text), lex, name))
    except ValueError as exc:
        _fail(exc)
    members: dict[str, list[Any]] = {}
    errors = [r for r in rows if isinstance(r, ClaimError)]
    for r in rows:
        if not isinstance(r, ClaimError):
            members.setdefault(r.member, []).append(r)
    limit = SEVERITY_RANK[fail_on]
    worst = -1
    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        for e in errors:
            out.write(json.dumps({"member": e.member, "line": e.row, "error": e.error}) + "\n")
        for member, mine in members.items():
            res = screen_member(member, mine, engine=engine, context=ctx,
                                start=start.date() if start else None,
                                end=end.date() if end else None)
            out.write(json.dumps(res.to_dict(), ensure_ascii=False) + "\n")
            if res.findings:
                worst = max(worst, SEVERITY_RANK[res.findings[0].severity])
    finally:
        if output:
            out.close()
    click.echo(f"{len(members)} members, {len(rows) - len(errors)} claims screened, "
               f"{len(errors)} rows not read", err=True)
    sys.exit(2 if errors else 1 if worst >= limit else 0)


@cli.command(name="spark")
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", "output", required=True, type=click.Path(file_okay=False),
              help="Directory for the Parquet output: findings/ and summary/.")
@click.option("--master", default=None,
              help="Spark master: local[N] runs on this machine with N cores; default: the "
                   "one spark-submit sets, else local[*] (every core).")
@click.option("--fail-on", type=click.Choice(["info", "warning", "error"]), default="warning",
              show_default=True, help="Exit 1 when a finding reaches this severity.")
@_context_options
@_data_option
def spark_cmd(input_path: str, output: str, master: str | None, fail_on: str,
              data_dir: str | None, **context: Any) -> None:
    """Screen regimens with Spark (needs pip install 'medref[spark]' and Java 17+): INPUT is
    a medref batch JSONL file, a batch CSV (*.csv: id, sig ..., one row per item; read on the
    driver), or a Parquet table of regimens (id, lines array, context columns). Writes
    Parquet: findings (one row per finding) and summary (one row per record, errors
    included).

    Exit 2 if any record could not be read, else 1 or 0 by --fail-on.
    """
    from medref.context import Context
    from medref.errors import MedrefError
    from medref.vocab import SEVERITY_RANK
    ref = _reference(data_dir)  # a broken data set fails here, before Spark starts
    try:
        ctx = Context(**context)
    except (ValueError, MedrefError) as exc:
        _fail(exc)
    try:
        from pyspark.sql import SparkSession
        from pyspark.sql import functions as F

        from medref import spark as adapter
    except ImportError as exc:
        raise CliError(f"medref spark needs the spark extra ({exc.name} is not installed): "
                       "pip install 'medref[spark]' (from a clone: pip install '.[spark]') "
                       "and Java 17 or later") from None
    from medref.readers.files import iter_csv, text_stream
    builder = SparkSession.builder.appName("medref").config("spark.ui.showConsoleProgress",
                                                             "false")
    if master is not None:
        builder = builder.master(master).config("spark.ui.enabled", "false")
    here = master.startswith("local") if master else "PYSPARK_GATEWAY_PORT" not in os.environ
    if here and not os.environ.get("PYSPARK_PYTHON"):
        # local mode (not under spark-submit): the workers run this interpreter, and so this
        # medref (compiled or not), rather than whichever python3 is first on PATH (PySpark
        # reads the variable when the context starts; the spark.pyspark.python setting is
        # spark-submit's and does not reach workers started from here)
        os.environ["PYSPARK_PYTHON"] = sys.executable
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    data = str(ref.info.path) if data_dir else None
    try:
        if input_path.lower().endswith(".csv"):
            wire = os.path.join(output, "records.jsonl")  # not _...: Spark skips those
            os.makedirs(output, exist_ok=True)
            with open(input_path, "rb") as raw, open(wire, "w", encoding="utf-8") as out:
                for rec in iter_csv(text_stream(raw), require_id=True,
                                    name=os.path.basename(input_path)):
                    out.write(adapter.record_wire(rec) + "\n")
            findings, summary = adapter.check_records(session.read.text(wire), data=data,
                                                      context=ctx)
        elif input_path.endswith(".parquet") or os.path.isdir(input_path):
            findings, summary = adapter.check_regimens(session.read.parquet(input_path),
                                                       data=data, context=ctx)
        else:
            findings, summary = adapter.check_jsonl(adapter.read_jsonl(session, input_path),
                                                    data=data, context=ctx)
        summary.write.mode("overwrite").parquet(os.path.join(output, "summary"))
        findings.write.mode("overwrite").parquet(os.path.join(output, "findings"))
        counts = summary.agg(F.count("*").alias("records"),
                             F.sum(F.col("error").isNotNull().cast("int")).alias("errors"),
                             F.max(F.when(F.col("highest_severity") == "error", 2)
                                   .when(F.col("highest_severity") == "warning", 1)
                                   .when(F.col("highest_severity") == "info", 0))
                             .alias("worst")).first()
        assert counts is not None
    finally:
        session.stop()
    records, errors, worst = counts["records"], counts["errors"] or 0, counts["worst"]
    click.echo(f"{records} records, {errors} not read; Parquet in {output} (data "
               f"{ref.info.version})", err=True)
    sys.exit(2 if errors else 1 if worst is not None and worst >= SEVERITY_RANK[fail_on]
             else 0)


@cli.command()
def codes() -> None:
    """List every finding code with its category and meaning."""
    from medref.checks import all_checks, codes_of
    from medref.engine import ENGINE_CODES
    try:
        codes = codes_of(all_checks(), ENGINE_CODES)
    except ValueError as exc:
        _fail(exc)
    from medref.claims import CLAIMS_CODES
    for c in [*codes.values(), *CLAIMS_CODES]:
        click.echo(f"{c.code}  {c.category:<17} {c.severity_text:<19} {c.meaning}")


def main() -> None:
    """Console-script entry point: run the CLI, never show a traceback."""
    try:
        cli.main(prog_name="medref", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("medref: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("MEDREF_DEBUG"):
            raise
        click.echo(f"medref: internal error: {type(exc).__name__}: {exc} "
                   "(set MEDREF_DEBUG=1 for details)", err=True)
        sys.exit(2)
