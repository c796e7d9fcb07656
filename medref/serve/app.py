"""The CDS Hooks service on HTTP (Starlette; run by uvicorn in ``medref serve``).

Routes: ``GET /cds-services`` (discovery), ``POST /cds-services/{id}`` (a hook call),
``POST /cds-services/{id}/feedback`` (card outcomes). Every route needs a valid JWT unless the
app was built with ``insecure=True``. Bad requests get 4xx with a FHIR OperationOutcome, never
a traceback; a check that does not finish within the configured time gets a card saying so.
One audit line per call (JSON): hook, instance, service, card codes, data version, time; no
patient data, no tokens.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import gc
import json
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from medref.api import engine_for
from medref.reference import Reference
from medref.render.fhir import operation_outcome
from medref.serve.auth import (
    Authenticator,
    AuthError,
    ReplayCache,
    ServeConfig,
    SharedReplayCache,
    load_config,
)
from medref.serve.hooks import (
    SERVICES,
    Answer,
    HookError,
    discovery,
    evaluate,
    feedback_outcomes,
)


class _TooLarge(Exception):
    pass


try:  # orjson (in the serve extra) encodes the cards several times faster than json
    from orjson import dumps as _encode
    from orjson import loads as _decode
except ModuleNotFoundError:  # pragma: no cover - the extra installs it
    def _encode(body: Any) -> bytes:  # type: ignore[misc]
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    _decode = json.loads  # type: ignore[assignment]


def _json(body: Any, status: int = 200) -> Response:
    return Response(_encode(body), status_code=status, media_type="application/json")


def _outcome(status: int, message: str, code: str = "invalid") -> JSONResponse:
    return JSONResponse(operation_outcome(message, code=code), status_code=status,
                        media_type="application/fhir+json")


class Audit:
    """One JSON line per call, to a file or stderr (thread-safe)."""

    def __init__(self, path: str | None, stream: TextIO | None = None) -> None:
        self._lock = threading.Lock()
        self._stream = stream
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115

    def write(self, **fields: Any) -> None:
        fields = {"time": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
                  **fields}
        line = json.dumps(fields, separators=(",", ":"), sort_keys=False)
        out = self._file or self._stream or sys.stderr
        with self._lock:
            out.write(line + "\n")
            out.flush()


def create_app(reference: Reference, config: ServeConfig | None = None, *,
               insecure: bool = False, audit: Audit | None = None,
               replays: ReplayCache | None = None) -> Starlette:
    """The ASGI app for a loaded reference and a configuration (``replays``: a replay cache
    shared by worker processes; default one for this process)."""
    cfg = config or ServeConfig()
    auth = Authenticator(cfg, replays)
    log = audit or Audit(cfg.audit_log)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="medref-check")
    feedback_counts: dict[str, int] = {"accepted": 0, "overridden": 0}

    async def guarded(request: Request, service: str | None,
                      handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]
                      ) -> Response:
        started = time.perf_counter()
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > cfg.max_body_bytes:
            log.write(event="refused", service=service, status=413)
            return _outcome(413, f"request body larger than {cfg.max_body_bytes} bytes",
                            "too-costly")
        claims: dict[str, Any] = {}
        if not insecure:
            try:
                claims = auth.verify(request.headers.get("authorization"), request.url.path)
            except AuthError as exc:
                log.write(event="auth-refused", service=service, reason=str(exc), status=401)
                resp = _outcome(401, f"unauthorized: {exc}", "security")
                resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                return resp
        try:
            response = await handler(request, claims)
        except _TooLarge:
            log.write(event="refused", service=service, status=413)
            return _outcome(413, f"request body larger than {cfg.max_body_bytes} bytes",
                            "too-costly")
        except HookError as exc:
            log.write(event="bad-request", service=service, status=400,
                      ms=round((time.perf_counter() - started) * 1000, 1))
            return _outcome(400, str(exc).splitlines()[0][:300])
        return response

    async def body_json(request: Request) -> Any:
        chunks: list[bytes] = []
        n = 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > cfg.max_body_bytes:
                raise _TooLarge
            chunks.append(chunk)
        try:
            return _decode(b"".join(chunks))
        except (ValueError, RecursionError) as exc:
            raise HookError(f"malformed JSON: {str(exc)[:120]}") from None

    def no_service(service: str) -> Response:
        log.write(event="not-found", status=404)
        return _outcome(404, f"no service {service[:60]!r}", "not-found")

    async def discover(request: Request) -> Response:
        async def handle(_: Request, __: dict[str, Any]) -> Response:
            log.write(event="discovery", status=200)
            return _json(discovery())
        return await guarded(request, None, handle)

    async def call(request: Request) -> Response:
        service = request.path_params["service"]
        if service not in SERVICES:
            return no_service(service)

        async def handle(req: Request, claims: dict[str, Any]) -> Response:
            started = time.perf_counter()
            body = await body_json(req)
            loop = asyncio.get_running_loop()
            timeout = cfg.timeout_ms / 1000
            instance = body.get("hookInstance") if isinstance(body, dict) else None
            try:
                answer: Answer = await asyncio.wait_for(
                    loop.run_in_executor(executor, evaluate, service, body, reference),
                    timeout)
            except TimeoutError:
                answer = Answer({"cards": [_timeout_card(reference, cfg.timeout_ms)]},
                                ("timeout",))
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.write(event="hook", hook=SERVICES[service], service=service,
                      hookInstance=str(instance)[:80] if instance else None,
                      client=str(claims.get("iss", "insecure"))[:120], status=200,
                      cards=list(answer.codes), data=reference.info.version,
                      data_sha256=reference.info.sha256[:12], ms=ms)
            return _json(answer.body)
        return await guarded(request, service, handle)

    async def feedback(request: Request) -> Response:
        service = request.path_params["service"]
        if service not in SERVICES:
            return no_service(service)

        async def handle(req: Request, _: dict[str, Any]) -> Response:
            outcomes = feedback_outcomes(await body_json(req))
            for o in outcomes:
                feedback_counts[o["outcome"]] += 1
            log.write(event="feedback", service=service, status=200, outcomes=outcomes)
            return _json({})
        return await guarded(request, service, handle)

    async def not_found(request: Request, exc: Exception) -> Response:
        log.write(event="not-found", status=404)
        return _outcome(404, "not found", "not-found")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _outcome(405, "method not allowed", "not-supported")

    async def internal(request: Request, exc: Exception) -> Response:
        log.write(event="error", status=500, error=type(exc).__name__)
        return _outcome(500, "internal error (logged)", "exception")

    app = Starlette(
        routes=[Route("/cds-services", discover, methods=["GET"]),
                Route("/cds-services/{service}", call, methods=["POST"]),
                Route("/cds-services/{service}/feedback", feedback, methods=["POST"])],
        middleware=[Middleware(CORSMiddleware, allow_origins=cfg.cors_origins,
                               allow_methods=["GET", "POST", "OPTIONS"],
                               allow_headers=["Authorization", "Content-Type"])],
        exception_handlers={404: not_found, 405: not_allowed, Exception: internal})
    app.state.feedback = feedback_counts
    app.state.authenticator = auth
    engine_for(reference)  # build the engine now, not on the first call
    return app


def settle_memory() -> None:
    """For a server process, once its app is built: the reference and the engine live as
    long as the process, so keep them out of the collector's full scans (long pauses
    otherwise), and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


STATE_ENV = "MEDREF_SERVE_STATE"
"""How ``medref serve --workers N`` hands its settings to each worker process (JSON)."""


def app_from_env() -> Starlette:
    """The app of one worker process of ``medref serve --workers N`` (a uvicorn factory):
    settings from :data:`STATE_ENV`, replays shared through the parent's SQLite file."""
    import os

    from medref.reference import load_reference
    state = json.loads(os.environ[STATE_ENV])
    reference = load_reference(state.get("data_dir"))
    config = load_config(state.get("config"))
    app = create_app(reference, config, insecure=bool(state.get("insecure")),
                     audit=Audit(state.get("audit_log")),
                     replays=SharedReplayCache(state["replay_db"]))
    settle_memory()
    return app


def _timeout_card(reference: Reference, ms: int) -> dict[str, Any]:
    import uuid
    return {"uuid": str(uuid.uuid4()), "indicator": "warning",
            "summary": "medref could not finish checking these orders in time: NOT checked",
            "detail": f"The check did not finish within {ms} ms, so no finding can be "
                      "reported. Check the orders by other means or sign again to retry.",
            "source": {"label": f"medref (data {reference.info.version})"}}
