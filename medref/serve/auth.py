"""Who may call the service: CDS Hooks JWT bearer tokens, and the service configuration.

Every call carries ``Authorization: Bearer <JWT>`` signed by an allowed issuer (CDS Hooks 2.0,
"Trusting CDS Clients"). A token is accepted only when:

- its ``iss`` is a configured issuer, and its signature verifies with one of that issuer's
  configured public keys (a JWKS in the configuration file, inline or by path; keys are
  never fetched from a URL the token names);
- its algorithm is one the configuration allows (ES384 and RS384 by default); ``none`` and
  every HMAC algorithm are always refused, whatever the configuration says;
- its ``aud`` is the URL of the service called (or a configured audience);
- it has ``exp`` (not passed), ``iat`` and ``jti``, and that ``jti`` has not been seen before
  from the same issuer while the token is valid (a replayed token is refused).

Refusals give a short reason for the log and the 401 answer; never the token itself.
"""

from __future__ import annotations

import heapq
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jwt

DEFAULT_ALGORITHMS: Final = ("ES384", "RS384")
FORBIDDEN_ALGORITHMS: Final = frozenset({"none", "HS256", "HS384", "HS512"})
LEEWAY_S: Final = 30
"""Clock skew allowed on ``exp``, ``iat`` and ``nbf`` (seconds)."""
MAX_LIFETIME_S: Final = 3600
"""A token valid for longer than this (``exp`` - ``iat``) is refused: CDS clients mint a
short-lived token per call, and the replay cache holds each ``jti`` until it expires."""


class AuthError(Exception):
    """A refused token; the message is safe to log and return (no token content)."""


class ConfigError(ValueError):
    """An invalid service configuration file."""


@dataclass
class Issuer:
    """An allowed CDS client: its ``iss`` and its public keys."""

    iss: str
    keys: list[Any]
    """PyJWT keys (from the issuer's JWKS)."""
    kids: list[str | None]


@dataclass
class ServeConfig:
    """The service configuration (a JSON file given to ``medref serve --config``).

    ``{"issuers": [{"iss": "...", "jwks": {"keys": [...]}} | {"iss": "...", "jwks_file":
    "keys.json"}], "audiences": ["https://.../cds-services/medref-order-sign"],
    "algorithms": ["ES384", "RS384"], "cors_origins": ["*"], "max_body_bytes": 1048576,
    "timeout_ms": 1500, "audit_log": "audit.jsonl"}``
    """

    issuers: dict[str, Issuer] = field(default_factory=dict)
    audiences: list[str] = field(default_factory=list)
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    cors_origins: list[str] = field(default_factory=list)
    base_url: str | None = None
    """The service's public base URL (``https://cds.example.org``): a token's ``aud`` must be
    this plus the path called (or one of ``audiences``); the request's own Host header is
    never trusted for it."""
    max_body_bytes: int = 1_048_576
    timeout_ms: int = 1500
    audit_log: str | None = None


def load_config(path: str | None) -> ServeConfig:
    """Read and validate a configuration file (None: no issuers, defaults).

    Raises:
        ConfigError: naming the file and the field.
    """
    if path is None:
        return ServeConfig()
    where = Path(path)
    try:
        raw = json.loads(where.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: invalid JSON ({str(exc)[:80]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a JSON object")
    known = {"issuers", "audiences", "algorithms", "cors_origins", "max_body_bytes",
             "timeout_ms", "audit_log", "base_url"}
    for k in raw:
        if k not in known:
            raise ConfigError(f"{path}: field {k!r}: unknown (expected {', '.join(sorted(known))})")
    cfg = ServeConfig()
    algs = raw.get("algorithms", list(DEFAULT_ALGORITHMS))
    if not isinstance(algs, list) or not algs or not all(isinstance(a, str) for a in algs):
        raise ConfigError(f"{path}: field 'algorithms': must be a list of names")
    bad = [a for a in algs if a in FORBIDDEN_ALGORITHMS or a[:2] not in ("ES", "RS", "PS")]
    if bad:
        raise ConfigError(f"{path}: field 'algorithms': {bad[0]!r} is not allowed (only "
                          "asymmetric ES/RS/PS algorithms)")
    cfg.algorithms = tuple(algs)
    issuers = raw.get("issuers", [])
    if not isinstance(issuers, list):
        raise ConfigError(f"{path}: field 'issuers': must be a list")
    for n, item in enumerate(issuers):
        cfg_iss = _issuer(item, where, n)
        cfg.issuers[cfg_iss.iss] = cfg_iss
    for key in ("audiences", "cors_origins"):
        value = raw.get(key, getattr(cfg, key))
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: field {key!r}: must be a list of strings")
        setattr(cfg, key, value)
    for key, lo, hi in (("max_body_bytes", 1024, 100 * 1024 * 1024), ("timeout_ms", 10, 60000)):
        value = raw.get(key, getattr(cfg, key))
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ConfigError(f"{path}: field {key!r}: must be a whole number {lo}-{hi}")
        setattr(cfg, key, value)
    base = raw.get("base_url")
    if base is not None and (not isinstance(base, str) or not base.startswith(("http://",
                                                                             "https://"))):
        raise ConfigError(f"{path}: field 'base_url': must be an http(s) URL")
    cfg.base_url = base.rstrip("/") if isinstance(base, str) else None
    if cfg.issuers and cfg.base_url is None and not cfg.audiences:
        raise ConfigError(f"{path}: field 'base_url': required with issuers (the public URL "
                          "tokens name as their audience), or list 'audiences'")
    log = raw.get("audit_log")
    if log is not None and not isinstance(log, str):
        raise ConfigError(f"{path}: field 'audit_log': must be a path")
    cfg.audit_log = log
    return cfg


def _issuer(item: object, where: Path, n: int) -> Issuer:
    label = f"{where}: issuers[{n}]"
    if not isinstance(item, dict) or not isinstance(item.get("iss"), str) or not item["iss"]:
        raise ConfigError(f"{label}: field 'iss': required (text)")
    jwks = item.get("jwks")
    if jwks is None and isinstance(item.get("jwks_file"), str):
        kp = Path(item["jwks_file"])
        kp = kp if kp.is_absolute() else where.parent / kp
        try:
            jwks = json.loads(kp.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{label}: field 'jwks_file': cannot read {kp} "
                              f"({str(exc)[:60]})") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise ConfigError(f"{label}: field 'jwks': a JWKS object with a non-empty 'keys' list "
                          "is required (or 'jwks_file')")
    keys, kids = [], []
    for k, jwk in enumerate(jwks["keys"]):
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("EC", "RSA"):
            raise ConfigError(f"{label}: field 'jwks.keys[{k}]': an EC or RSA public key is "
                              "required")
        if any(p in jwk for p in ("d", "p", "q")):
            raise ConfigError(f"{label}: field 'jwks.keys[{k}]': holds a private key; give "
                              "the public key only")
        try:
            keys.append(jwt.PyJWK(jwk).key)
        except (jwt.PyJWKError, ValueError, TypeError) as exc:
            raise ConfigError(f"{label}: field 'jwks.keys[{k}]': {str(exc)[:80]}") from None
        kids.append(jwk.get("kid"))
    return Issuer(item["iss"], keys, kids)


class ReplayCache:
    """``jti`` values seen (per issuer), each kept until its token expires: a token can be
    used once. Expired entries are dropped as new ones arrive; unexpired ones never are (a
    token lives at most :data:`MAX_LIFETIME_S`, which bounds the memory)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._expiry: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def add(self, iss: str, jti: str, exp: float) -> bool:
        """Record a ``jti``; False when it was already seen (a replay)."""
        now = time.time()
        key = (iss, jti)
        with self._lock:
            while self._expiry and self._expiry[0][0] + LEEWAY_S < now:
                _, old = heapq.heappop(self._expiry)
                self._seen.pop(old, None)
            if key in self._seen:
                return False
            self._seen[key] = exp
            heapq.heappush(self._expiry, (exp, key))
            return True

    def __len__(self) -> int:
        return len(self._seen)


class SharedReplayCache(ReplayCache):
    """The same, shared by the worker processes of one service through a SQLite file (each
    ``jti`` is a primary key: the second insert fails, in whichever process it comes)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE IF NOT EXISTS jti (iss TEXT, jti TEXT, exp REAL, "
                         "PRIMARY KEY (iss, jti))")
        self._adds = 0

    def add(self, iss: str, jti: str, exp: float) -> bool:
        """Record a ``jti`` for every worker; False when any worker has seen it."""
        with self._lock:
            self._adds += 1
            if self._adds % 1000 == 0:
                self._db.execute("DELETE FROM jti WHERE exp < ?", (time.time() - LEEWAY_S,))
            try:
                self._db.execute("INSERT INTO jti VALUES (?, ?, ?)", (iss, jti, exp))
            except sqlite3.IntegrityError:
                return False
            return True


class Authenticator:
    """Verifies the bearer token of a call (see the module docstring)."""

    def __init__(self, config: ServeConfig, replays: ReplayCache | None = None) -> None:
        self.config = config
        self.replays = replays if replays is not None else ReplayCache()

    def verify(self, authorization: str | None, path: str) -> dict[str, Any]:
        """The token's claims when it is accepted for the service at ``path``
        (``/cds-services/medref-order-sign``).

        Raises:
            AuthError: why it was refused.
        """
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthError("no bearer token")
        token = authorization[len("Bearer "):].strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg in FORBIDDEN_ALGORITHMS or \
                alg not in self.config.algorithms:
            raise AuthError(f"algorithm {str(alg)[:10]!r} not allowed")
        iss = unverified.get("iss")
        issuer = self.config.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError("issuer not allowed")
        audiences = list(self.config.audiences)
        if self.config.base_url is not None:
            audiences += [self.config.base_url + path, self.config.base_url + path.rstrip("/")]
        kid = header.get("kid")
        candidates = [k for k, kk in zip(issuer.keys, issuer.kids, strict=True)
                      if kid is None or kk is None or kk == kid]
        claims: dict[str, Any] | None = None
        last = "signature does not verify"
        for key in candidates:
            try:
                claims = jwt.decode(token, key, algorithms=[alg], audience=audiences,
                                    issuer=iss, leeway=LEEWAY_S,
                                    options={"require": ["exp", "iat", "jti", "iss", "aud"]})
                break
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError:
                raise AuthError("token expired") from None
            except jwt.InvalidAudienceError:
                raise AuthError("wrong audience") from None
            except jwt.MissingRequiredClaimError as exc:
                raise AuthError(f"claim {exc.claim!r} missing") from None
            except (jwt.PyJWTError, TypeError, ValueError) as exc:
                last = type(exc).__name__  # e.g. an RSA token tried against an EC key
                continue
        if claims is None:
            raise AuthError(last)
        exp, iat = float(claims["exp"]), float(claims["iat"])
        if exp - iat > MAX_LIFETIME_S:
            raise AuthError("token lifetime too long")
        if not self.replays.add(str(iss), str(claims["jti"]), exp):
            raise AuthError("token replayed (jti seen before)")
        return claims
