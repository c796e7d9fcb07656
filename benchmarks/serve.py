"""Load run of ``medref serve`` over real HTTP on loopback, authentication on.

    python benchmarks/serve.py                      # 100 req/s for 200 s, then the step-up
    python benchmarks/serve.py --rate 100 --seconds 60 --steps 100,150,200 --step-seconds 20

Each request is a CDS Hooks ``order-sign`` call with 10 draft orders and 10 active
medications, distinct from every other request, and a fresh ES384 token (unique ``jti``).
Requests are sent open-loop: on schedule, at ``--rate`` per second, whether or not earlier
ones have returned; latency counts from the scheduled time (no coordinated omission). The
server's resident memory is read from /proc at 5,000 and at 20,000 completed requests.
Then a step-up run finds the highest rate held with p99 under 100 ms and no errors.
Prints figures only (no pass/fail); bounded: at most ``--seconds`` + the steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import jwt

try:  # Starlette's test client moved to httpx2; either works here
    import httpx2 as httpx
except ModuleNotFoundError:  # pragma: no cover
    import httpx  # type: ignore[no-redef]
from cryptography.hazmat.primitives.asymmetric import ec

ISS = "https://bench.ehr.example"
DRUGS = [
    ("acetaminophen", "mg", [325, 500, 650, 1000]), ("ibuprofen", "mg", [200, 400, 600, 800]),
    ("naproxen", "mg", [250, 500]), ("celecoxib", "mg", [100, 200]),
    ("gabapentin", "mg", [300, 600, 800]), ("pregabalin", "mg", [75, 150]),
    ("tramadol", "mg", [50, 100]), ("oxycodone", "mg", [5, 10, 15]),
    ("hydromorphone", "mg", [2, 4]), ("cyclobenzaprine", "mg", [5, 10]),
    ("methocarbamol", "mg", [500, 750]), ("tizanidine", "mg", [2, 4]),
    ("duloxetine", "mg", [30, 60]), ("alendronate", "mg", [70]),
    ("calcium carbonate", "mg", [500, 1250]), ("vitamin d3", "IU", [1000, 2000]),
    ("omeprazole", "mg", [20, 40]), ("famotidine", "mg", [20]), ("sertraline", "mg", [50]),
    ("ondansetron", "mg", [4, 8]), ("docusate", "mg", [100]), ("senna", "mg", [8.6]),
    ("prednisone", "mg", [5, 10]), ("baclofen", "mg", [10]), ("meloxicam", "mg", [7.5, 15]),
    ("zolpidem", "mg", [5]), ("warfarin", "mg", [5]), ("apixaban", "mg", [5]),
]
PRCODES = {"mg": "mg", "IU": "[iU]"}


def order(rid: str, rnd: random.Random, status: str) -> dict[str, Any]:
    name, unit, amounts = rnd.choice(DRUGS)
    amount = rnd.choice(amounts)
    every = rnd.choice([4, 6, 8, 12, 24])
    return {"resourceType": "MedicationRequest", "id": rid, "status": status,
            "intent": "order", "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"text": name},
            "dosageInstruction": [{
                "timing": {"repeat": {"frequency": 1, "period": every, "periodUnit": "h"}},
                "asNeededBoolean": rnd.random() < 0.3,
                "doseAndRate": [{"doseQuantity": {"value": amount, "unit": unit,
                                                  "system": "http://unitsofmeasure.org",
                                                  "code": PRCODES[unit]}}]}]}


def hook_request(n: int) -> dict[str, Any]:
    """Request ``n``: 10 drafts and 10 active medications, distinct from every other ``n``."""
    rnd = random.Random(n)
    drafts = [order(f"d{n}-{i}", rnd, "draft") for i in range(10)]
    active = [order(f"a{n}-{i}", rnd, "active") for i in range(10)]
    age = 20 + n % 70
    return {"hook": "order-sign", "hookInstance": str(uuid.UUID(int=n)),
            "context": {"userId": "Practitioner/1", "patientId": f"p{n}",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                        "entry": [{"resource": r} for r in drafts]}},
            "prefetch": {"patient": {"resourceType": "Patient", "id": f"p{n}",
                                     "birthDate": f"{2026 - age}-01-15"},
                         "medications": {"resourceType": "Bundle", "type": "searchset",
                                         "entry": [{"resource": r} for r in active]}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, tmp: Path) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk["kid"] = "bench"
        cfg = tmp / "serve.json"
        cfg.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [jwk]}}],
                                   "timeout_ms": 5000}))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/cds-services/medref-order-sign"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medref", "serve", "--port", str(self.port), "--config",
             str(cfg), "--audit-log", str(tmp / "audit.jsonl")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(self.proc.stderr.read().decode() if self.proc.stderr
                                     else "server exited") from None
                time.sleep(0.1)
        raise SystemExit("server did not start")

    def tokens(self, n: int, lifetime: int) -> list[str]:
        now = int(time.time())
        return [jwt.encode({"iss": ISS, "aud": self.url, "iat": now, "exp": now + lifetime,
                            "jti": str(uuid.uuid4())}, self.key, algorithm="ES384",
                           headers={"kid": "bench"}) for _ in range(n)]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


async def open_loop(server: Server, rate: float, seconds: float, first: int,
                    memory_at: tuple[int, ...] = ()) -> dict[str, Any]:
    """Send ``rate`` requests a second for ``seconds`` on schedule; latencies from schedule."""
    total = int(rate * seconds)
    bodies = [json.dumps(hook_request(first + i)).encode() for i in range(total)]
    tokens = server.tokens(total, int(seconds) + 600)
    lat: list[float] = []
    errors: dict[str, int] = {}
    memory: dict[int, float] = {}
    done = 0
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        start = time.perf_counter() + 0.5

        async def one(i: int) -> None:
            nonlocal done
            at = start + i / rate
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                r = await client.post(server.url, content=bodies[i], headers={
                    "Authorization": f"Bearer {tokens[i]}",
                    "Content-Type": "application/json"})
                if r.status_code != 200:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            lat.append((time.perf_counter() - at) * 1000)
            done += 1
            if done in memory_at:
                memory[done] = rss_mib(server.proc.pid)
        await asyncio.gather(*(one(i) for i in range(total)))
        elapsed = time.perf_counter() - start
    lat.sort()
    return {"rate": rate, "requests": total, "errors": sum(errors.values()),
            "error_kinds": errors, "achieved": total / elapsed,
            "p50": statistics.median(lat), "p99": lat[int(0.99 * (len(lat) - 1))],
            "max": lat[-1], "memory": memory}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=200)
    ap.add_argument("--steps", default="100,150,200,250,300,400")
    ap.add_argument("--step-seconds", type=float, default=30)
    args = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            asyncio.run(open_loop(server, 20, 5, 10**7))  # warm-up (not reported)
            base = rss_mib(server.proc.pid)
            r = asyncio.run(open_loop(server, args.rate, args.seconds, 0,
                                      memory_at=(5000, 20000)))
            mem = r["memory"]
            print(f"fixed rate: {r['requests']:,} requests at {args.rate:g}/s for "
                  f"{args.seconds:g} s (open loop, auth on, 10 drafts + 10 active each): "
                  f"achieved {r['achieved']:.1f}/s, errors {r['errors']} {r['error_kinds']}, "
                  f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms "
                  "(target: 0 errors, p99 < 100 ms)")
            if 5000 in mem and 20000 in mem:
                print(f"server memory (RSS): after warm-up {base:.1f} MiB, at 5,000 requests "
                      f"{mem[5000]:.1f} MiB, at 20,000 {mem[20000]:.1f} MiB -> "
                      f"{mem[20000] / mem[5000]:.3f}x (target <= 1.10x)")
            else:
                print(f"server memory (RSS): {mem} (the run was shorter than 20,000 requests)")
            best = None
            first = 10**6
            for rate in [float(x) for x in args.steps.split(",") if x]:
                s = asyncio.run(open_loop(server, rate, args.step_seconds, first))
                first += s["requests"]
                held = s["errors"] == 0 and s["p99"] < 100
                print(f"step {rate:g}/s for {args.step_seconds:g} s: achieved "
                      f"{s['achieved']:.1f}/s, errors {s['errors']}, p50 {s['p50']:.1f} ms, "
                      f"p99 {s['p99']:.1f} ms -> {'held' if held else 'not held'}")
                if not held:
                    break
                best = rate
            print(f"highest rate held (p99 < 100 ms, no errors): "
                  f"{'none of the steps' if best is None else f'{best:g} requests/s'}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
