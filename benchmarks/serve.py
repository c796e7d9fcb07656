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
import collections
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
    """Resident memory of a process and all its descendants (the workers), MiB."""
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                kids = (task / "children").read_text().split()
                todo.extend(int(k) for k in kids)
        except OSError:
            continue
    return total


class Server:
    def __init__(self, tmp: Path, workers: int) -> None:
        self.key = ec.generate_private_key(ec.SECP384R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk["kid"] = "bench"
        cfg = tmp / "serve.json"
        self.port = free_port()
        cfg.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [jwk]}}],
                                   "base_url": f"http://127.0.0.1:{self.port}",
                                   "timeout_ms": 5000}))
        self.url = f"http://127.0.0.1:{self.port}/cds-services/medref-order-sign"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medref", "serve", "--port", str(self.port), "--config",
             str(cfg), "--audit-log", str(tmp / "audit.jsonl"), "--workers", str(workers)],
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


class Pool:
    """A lean HTTP/1.1 keep-alive client (the load generator shares the machine's two cores
    with the server, so it must cost little): requests with Content-Length, responses read by
    their Content-Length."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        # first in, first out: requests rotate over every open connection, so the server's
        # worker processes (each owns the connections it accepted) share the load
        self.idle: collections.deque[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = \
            collections.deque()

    async def post(self, body: bytes, token: str) -> int:
        if self.idle:
            reader, writer = self.idle.popleft()
            try:
                return await self._send(reader, writer, body, token)
            except (OSError, asyncio.IncompleteReadError, IndexError):
                pass  # the server closed an idle connection: send again on a new one
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return await self._send(reader, writer, body, token)

    async def _send(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    body: bytes, token: str) -> int:
        head = (f"POST {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        try:
            writer.write(head + body)
            status_line = await reader.readline()
            length, close = 0, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and "close" in value.lower():
                    close = True
            await reader.readexactly(length)
            code = int(status_line.split()[1])
        except (OSError, asyncio.IncompleteReadError, IndexError):
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self.idle.append((reader, writer))
        return code

    def close(self) -> None:
        for _, w in self.idle:
            w.close()
        self.idle.clear()


async def open_loop(server: Server, rate: float, seconds: float, first: int,
                    memory_at: tuple[int, ...] = ()) -> dict[str, Any]:
    """Send ``rate`` requests a second for ``seconds`` on schedule; latencies from schedule."""
    total = int(rate * seconds)
    bodies = [json.dumps(hook_request(first + i)).encode() for i in range(total)]
    tokens = server.tokens(total, int(seconds) + 600)
    order: list[tuple[int, float]] = []
    errors: dict[str, int] = {}
    memory: dict[int, float] = {}
    done = 0
    pool = Pool(server.port, "/cds-services/medref-order-sign")
    start = time.perf_counter() + 0.5

    async def one(i: int) -> None:
        nonlocal done
        at = start + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            status = await pool.post(bodies[i], tokens[i])
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
        order.append((i, (time.perf_counter() - at) * 1000))
        done += 1
        if done in memory_at:
            memory[done] = rss_mib(server.proc.pid)
    await asyncio.gather(*(one(i) for i in range(total)))
    elapsed = time.perf_counter() - start
    pool.close()
    by_second: dict[int, list[float]] = {}
    for i, ms in order:
        by_second.setdefault(int(i / rate), []).append(ms)
    worst = sorted(((max(v), k) for k, v in by_second.items()), reverse=True)[:3]
    lat = sorted(ms for _, ms in order)
    return {"worst_seconds": [(k, round(m)) for m, k in worst], "rate": rate,
            "requests": total, "errors": sum(errors.values()),
            "error_kinds": errors, "achieved": total / elapsed,
            "p50": statistics.median(lat), "p99": lat[int(0.99 * (len(lat) - 1))],
            "max": lat[-1], "memory": memory}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--seconds", type=float, default=200)
    ap.add_argument("--steps", default="100,150,200,250,300,400")
    ap.add_argument("--step-seconds", type=float, default=30)
    ap.add_argument("--warmup-seconds", type=float, default=20,
                    help="a warm-up run first (not reported): caches and connections")
    ap.add_argument("--warmup-rate", type=float, default=50)
    ap.add_argument("--workers", type=int, default=2,
                    help="medref serve --workers (default 2: one per core)")
    args = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp), args.workers)
        try:
            asyncio.run(open_loop(server, args.warmup_rate, args.warmup_seconds, 10**7))
            base = rss_mib(server.proc.pid)
            r = asyncio.run(open_loop(server, args.rate, args.seconds, 0,
                                      memory_at=(5000, 20000)))
            mem = r["memory"]
            print(f"fixed rate: {r['requests']:,} requests at {args.rate:g}/s for "
                  f"{args.seconds:g} s (open loop, auth on, 10 drafts + 10 active each): "
                  f"achieved {r['achieved']:.1f}/s, errors {r['errors']} {r['error_kinds']}, "
                  f"p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms "
                  f"(target: 0 errors, p99 < 100 ms); slowest seconds (second, worst ms): "
                  f"{r['worst_seconds']}")
            if 5000 in mem and 20000 in mem:
                print(f"server memory (RSS, all {args.workers} workers and the parent): after "
                      f"warm-up {base:.1f} MiB, at 5,000 requests "
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
