"""``medref serve``: a CDS Hooks 2.0 service (the optional ``medref[serve]`` extra).

Imported only by the ``serve`` command, so ``medref check`` never loads Starlette, uvicorn or
PyJWT. :func:`medref.serve.app.create_app` builds the ASGI app; :func:`run` serves it.
"""

from __future__ import annotations

import sys

from medref.reference import Reference


def run(reference: Reference, *, host: str, port: int, config_path: str | None,
        insecure: bool, audit_log: str | None = None, workers: int = 1,
        data_dir: str | None = None) -> None:
    """Serve the CDS Hooks services with uvicorn until interrupted.

    Raises:
        medref.serve.auth.ConfigError: the configuration file is invalid.
    """
    import uvicorn

    from medref.serve.app import Audit, create_app, settle_memory
    from medref.serve.auth import ConfigError, load_config
    config = load_config(config_path)
    if not insecure and not config.issuers:
        raise ConfigError("no issuers configured: give --config with at least one issuer "
                          "and its keys (or --insecure-no-auth for local use)")
    if insecure:
        print("WARNING: --insecure-no-auth: this service accepts calls from anyone without "
              "a token. Use it only on your own machine.", file=sys.stderr, flush=True)
    print(f"medref serve: http://{host}:{port}/cds-services ({workers} worker"
          f"{'s' if workers > 1 else ''}, data {reference.info.version}, "
          f"{'no authentication' if insecure else f'{len(config.issuers)} issuer(s)'})",
          file=sys.stderr, flush=True)
    if workers == 1:
        app = create_app(reference, config, insecure=insecure,
                         audit=Audit(audit_log or config.audit_log))
        settle_memory()
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                    server_header=False)
        return
    import json
    import os
    import tempfile

    from medref.serve.app import STATE_ENV
    with tempfile.TemporaryDirectory(prefix="medref-serve-") as tmp:
        os.environ[STATE_ENV] = json.dumps({
            "config": config_path, "insecure": insecure, "data_dir": data_dir,
            "audit_log": audit_log or config.audit_log,
            "replay_db": os.path.join(tmp, "replays.sqlite")})
        uvicorn.run("medref.serve.app:app_from_env", factory=True, workers=workers,
                    host=host, port=port, log_level="warning", access_log=False,
                    server_header=False)
