"""``medref serve``: CDS Hooks discovery and services, cards, JWT security, limits, audit.

Most tests use Starlette's in-process client; one starts the real server on a loopback port
and calls it over HTTP.
"""

from __future__ import annotations

import copy
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
jwt = pytest.importorskip("jwt")

from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from medref.reference import load_reference  # noqa: E402
from medref.serve import app as app_module  # noqa: E402
from medref.serve.app import Audit, create_app  # noqa: E402
from medref.serve.auth import ServeConfig, load_config  # noqa: E402
from medref.serve.hooks import Answer  # noqa: E402

HERE = Path(__file__).resolve().parent
EXT = HERE.parents[1] / "shared" / "research" / "external"
PDDI = HERE / "fixtures" / "pddi"
BASE = "http://testserver/cds-services"
ISS = "https://ehr.example.org"
HANG = 900  # a ceiling for a hung subprocess, never a speed expectation

EC_KEY = ec.generate_private_key(ec.SECP384R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks() -> dict[str, Any]:
    k1 = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key()))
    k2 = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_KEY.public_key()))
    k1["kid"], k2["kid"] = "ec1", "rsa1"
    return {"keys": [k1, k2]}


def write_config(tmp: Path, base_url: str = "http://testserver", **extra: Any) -> Path:
    cfg = {"issuers": [{"iss": ISS, "jwks": _jwks()}], "base_url": base_url, **extra}
    p = tmp / "serve.json"
    p.write_text(json.dumps(cfg), encoding="utf-8")
    return p


def token(aud: str, *, alg: str = "ES384", key: Any = None, exp_in: float = 300,
          jti: str | None = None, iss: str = ISS, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": iss, "aud": aud, "exp": now + exp_in, "iat": now,
            "jti": jti or str(uuid.uuid4()), "sub": "client-1", **claims}
    if key is None:
        key = EC_KEY if alg.startswith("ES") else RSA_KEY
    return str(jwt.encode(body, key, algorithm=alg,
                          headers={"kid": "ec1" if alg.startswith("ES") else "rsa1"}))


def auth(url: str, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(url, **kw)}"}


@pytest.fixture(scope="module")
def audit_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, audit_stream: io.StringIO) -> TestClient:
    cfg = load_config(str(write_config(tmp_path_factory.mktemp("cfg"),
                                       cors_origins=["https://ehr.example.org"])))
    app = create_app(load_reference(), cfg, audit=Audit(None, audit_stream))
    return TestClient(app, raise_server_exceptions=False)


def call(client: TestClient, service: str, body: Any, **kw: Any) -> Any:
    url = f"{BASE}/{service}"
    return client.post(url, json=body, headers=auth(url, **kw))


def request(hook: str, drafts: list[dict[str, Any]], active: list[dict[str, Any]] | None = None,
            patient: dict[str, Any] | None = None, **ctx: Any) -> dict[str, Any]:
    prefetch: dict[str, Any] = {}
    if active is not None:
        prefetch["medications"] = {"resourceType": "Bundle", "type": "searchset",
                                   "entry": [{"resource": r} for r in active]}
    if patient is not None:
        prefetch["patient"] = patient
    context = {"userId": "Practitioner/1", "patientId": "p1",
               "draftOrders": {"resourceType": "Bundle", "type": "collection",
                               "entry": [{"resource": r} for r in drafts]}, **ctx}
    if hook == "order-select" and "selections" not in ctx:
        context["selections"] = [f"MedicationRequest/{r['id']}" for r in drafts]
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": prefetch}


def order(rid: str, name: str, value: float | None, unit: str = "mg", every_h: float = 6,
          status: str = "draft") -> dict[str, Any]:
    d: dict[str, Any] = {"timing": {"repeat": {"frequency": 1, "period": every_h,
                                               "periodUnit": "h"}}}
    if value is not None:
        d["doseAndRate"] = [{"doseQuantity": {"value": value, "unit": unit}}]
    return {"resourceType": "MedicationRequest", "id": rid, "status": status,
            "intent": "order", "medicationCodeableConcept": {"text": name},
            "subject": {"reference": "Patient/p1"}, "dosageInstruction": [d]}


def indicators(resp: Any) -> list[str]:
    assert resp.status_code == 200, resp.text
    return [c["indicator"] for c in resp.json()["cards"]]


# -- discovery and the shared examples ------------------------------------------------------

def test_discovery_lists_both_services(client: TestClient) -> None:
    url = BASE
    resp = client.get(url, headers=auth(url))
    assert resp.status_code == 200
    services = {s["id"]: s for s in resp.json()["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign"}
    assert "medications" in services["medref-order-sign"]["prefetch"]


@pytest.mark.skipif(not EXT.is_dir(), reason="../shared material not beside the repository")
@pytest.mark.parametrize("name", ["order-select-1.json", "order-select-2.json",
                                  "order-sign-1.json", "order-sign-2.json", "examples-1.json"])
def test_each_shared_hook_example_gets_200(client: TestClient, name: str) -> None:
    doc = json.loads((EXT / "cds-hooks" / name).read_text(encoding="utf-8"))
    hook = doc.get("hook") or name.rsplit("-", 1)[0]
    body = {"hook": hook, "hookInstance": doc.get("hookInstance", str(uuid.uuid4())),
            **doc}
    resp = call(client, f"medref-{hook}", body)
    assert resp.status_code == 200, resp.text
    cards = resp.json()["cards"]
    for c in cards:
        assert len(c["summary"]) < 140 and c["source"]["label"].startswith("medref")
        assert "NutritionOrder" not in json.dumps(c)
    if "order-s" in name:
        # amoxicillin/clavulanate suspension, read by its ingredients: both are checked, and
        # only context remarks remain (info)
        assert [c["indicator"] for c in cards] == ["info"]
        assert "did not send" in cards[0]["summary"]  # the CrCl; no unknown-drug card


# -- the HL7 PDDI warfarin + NSAID scenarios ------------------------------------------------

def _pddi(n: int) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PDDI / f"order-sign-scenario-0{n}.json").read_text())
    return doc


def test_pddi_01_topical_diclofenac_no_card_above_info(client: TestClient) -> None:
    assert set(indicators(call(client, "medref-order-sign", _pddi(1)))) <= {"info"}


def test_pddi_02_systemic_nsaid_with_a_ppi_is_a_warning_naming_the_ppi(
        client: TestClient) -> None:
    resp = call(client, "medref-order-sign", _pddi(2))
    cards = resp.json()["cards"]
    bleed = [c for c in cards if "MR303" in c["detail"]]
    assert len(bleed) == 1
    assert bleed[0]["indicator"] == "warning"
    assert "Rabeprazole" in bleed[0]["detail"] and "Mitigation" in bleed[0]["detail"]


def test_pddi_03_older_patient_with_a_corticosteroid_gets_a_stronger_card(
        client: TestClient) -> None:
    two = [c for c in call(client, "medref-order-sign", _pddi(2)).json()["cards"]
           if "MR303" in c["detail"]]
    three = [c for c in call(client, "medref-order-sign", _pddi(3)).json()["cards"]
             if "MR303" in c["detail"]]
    rank = {"info": 0, "warning": 1, "critical": 2}
    assert len(three) == 1
    assert rank[three[0]["indicator"]] > rank[two[0]["indicator"]]
    assert "Dexamethasone" in three[0]["detail"] and "benefit" in three[0]["detail"]


# -- cards ----------------------------------------------------------------------------------

def test_cards_speak_only_of_problems_involving_a_draft(client: TestClient) -> None:
    active = [order("a1", "acetaminophen", 1000, every_h=4, status="active")]  # 6 g: error
    quiet = request("order-sign", [order("d1", "famotidine", 20, every_h=12)], active)
    cards = call(client, "medref-order-sign", quiet).json()["cards"]
    assert set(indicators(call(client, "medref-order-sign", quiet))) <= {"info"}
    assert not any("cetaminophen" in c["summary"] or "MR301" in c.get("detail", "")
                   for c in cards)
    loud = request("order-sign", [order("d2", "acetaminophen", 500, every_h=6)], active)
    cards = call(client, "medref-order-sign", loud).json()["cards"]
    assert [c["indicator"] for c in cards if "MR301" in c["detail"]] == ["critical"]


def test_order_select_is_quiet_about_what_is_not_decided(client: TestClient) -> None:
    undecided = [order("d1", "ibuprofen", None, every_h=8)]
    select = call(client, "medref-order-select", request("order-select", undecided)).json()
    sign = call(client, "medref-order-sign", request("order-sign", undecided)).json()
    assert not any("MR003" in c["detail"] for c in select["cards"])
    assert any("MR003" in c["detail"] for c in sign["cards"])


def test_a_suggestion_is_rechecked_and_offered_with_selection_behavior(
        client: TestClient) -> None:
    body = request("order-sign", [order("d1", "tramadol", 100, every_h=4)], [])
    cards = call(client, "medref-order-sign", body).json()["cards"]
    card = next(c for c in cards if "MR102" in c["detail"])
    assert card["indicator"] == "critical"
    assert card["selectionBehavior"] == "at-most-one"
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    fixed = action["resource"]
    again = call(client, "medref-order-sign", request("order-sign", [fixed], []))
    assert not any("MR102" in c["detail"] for c in again.json()["cards"])
    assert card["overrideReasons"] and all("code" in r for r in card["overrideReasons"])


def test_missing_or_failed_prefetch_gives_one_card_saying_what_was_not_checked(
        client: TestClient) -> None:
    body = request("order-sign", [order("d1", "ibuprofen", 400, every_h=8)])
    body["prefetch"] = {"medications": {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "timeout"}]}, "patient": None}
    cards = call(client, "medref-order-sign", body).json()["cards"]
    info = [c for c in cards if c["indicator"] == "info"]
    assert len(info) == 1
    assert "OperationOutcome" in info[0]["detail"]


def test_a_check_that_does_not_finish_in_time_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def slow(service: str, body: Any, ref: Any) -> Answer:
        release.wait(HANG)
        return Answer({"cards": []}, ())
    monkeypatch.setattr(app_module, "evaluate", slow)
    cfg = load_config(str(write_config(tmp_path, timeout_ms=50)))
    with TestClient(create_app(load_reference(), cfg, audit=Audit(None, io.StringIO()))) as c:
        resp = call(c, "medref-order-sign", request("order-sign", [order("d", "ibuprofen", 400)]))
        release.set()
    cards = resp.json()["cards"]
    assert len(cards) == 1 and "NOT checked" in cards[0]["summary"]


def test_feedback_is_recorded(client: TestClient, audit_stream: io.StringIO) -> None:
    url = f"{BASE}/medref-order-sign/feedback"
    fb = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "overridden",
                        "overrideReason": {"reason": {"code": "benefit-outweighs-risk"}},
                        "outcomeTimestamp": "2026-11-27T10:00:00Z"}]}
    resp = client.post(url, json=fb, headers=auth(url))
    assert resp.status_code == 200
    assert client.app.state.feedback["overridden"] >= 1  # type: ignore[attr-defined]
    assert "benefit-outweighs-risk" in audit_stream.getvalue()


# -- security and bad requests -----------------------------------------------------------

def _hook_body() -> dict[str, Any]:
    return request("order-sign", [order("d1", "ibuprofen", 400, every_h=8)], [])


def test_no_token_is_401_with_an_operation_outcome(client: TestClient) -> None:
    resp = client.post(f"{BASE}/medref-order-sign", json=_hook_body())
    assert resp.status_code == 401
    assert resp.json()["resourceType"] == "OperationOutcome"
    assert client.get(BASE).status_code == 401


@pytest.mark.parametrize("case", ["none", "hs256", "wrong-aud", "expired", "other-issuer",
                                  "other-key", "no-jti", "rs256"])
def test_bad_tokens_are_refused(client: TestClient, case: str) -> None:
    url = f"{BASE}/medref-order-sign"
    if case == "none":
        tok = jwt.encode({"iss": ISS, "aud": url, "exp": time.time() + 60, "iat": time.time(),
                          "jti": "x"}, None, algorithm="none")
    elif case == "hs256":
        tok = jwt.encode({"iss": ISS, "aud": url, "exp": time.time() + 60, "iat": time.time(),
                          "jti": "y"}, "a-shared-secret-of-32-bytes-len!", algorithm="HS256")
    elif case == "wrong-aud":
        tok = token("https://elsewhere.example/cds-services/medref-order-sign")
    elif case == "expired":
        tok = token(url, exp_in=-600)
    elif case == "other-issuer":
        tok = token(url, iss="https://evil.example")
    elif case == "other-key":
        tok = token(url, key=ec.generate_private_key(ec.SECP384R1()))
    elif case == "no-jti":
        now = int(time.time())
        tok = jwt.encode({"iss": ISS, "aud": url, "exp": now + 60, "iat": now}, EC_KEY,
                         algorithm="ES384", headers={"kid": "ec1"})
    else:
        tok = token(url, alg="RS256")
    resp = client.post(url, json=_hook_body(), headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 401, case
    assert resp.json()["resourceType"] == "OperationOutcome"


def test_the_host_header_does_not_choose_the_audience(client: TestClient) -> None:
    """A token minted for another instance is refused even when the request claims that
    instance's host name."""
    other = "http://staging.example.org/cds-services/medref-order-sign"
    resp = client.post(f"{BASE}/medref-order-sign", json=_hook_body(),
                       headers={**auth(other), "Host": "staging.example.org"})
    assert resp.status_code == 401


def test_a_key_of_the_other_type_is_skipped_not_a_500(client: TestClient) -> None:
    """An RS384 token without a kid is tried against the EC key first: refused cleanly or
    accepted by the RSA key, never an internal error."""
    url = f"{BASE}/medref-order-sign"
    now = int(time.time())
    tok = jwt.encode({"iss": ISS, "aud": url, "exp": now + 60, "iat": now,
                      "jti": str(uuid.uuid4())}, RSA_KEY, algorithm="RS384")
    resp = client.post(url, json=_hook_body(), headers={"Authorization": f"Bearer {tok}"})
    assert resp.status_code == 200
    forged = jwt.encode({"iss": ISS, "aud": url, "exp": now + 60, "iat": now,
                         "jti": str(uuid.uuid4())}, RSA_KEY, algorithm="RS384",
                        headers={"kid": "ec1"})
    resp = client.post(url, json=_hook_body(), headers={"Authorization": f"Bearer {forged}"})
    assert resp.status_code == 401


def test_a_replayed_token_is_refused(client: TestClient) -> None:
    url = f"{BASE}/medref-order-sign"
    headers = auth(url)
    assert client.post(url, json=_hook_body(), headers=headers).status_code == 200
    assert client.post(url, json=_hook_body(), headers=headers).status_code == 401


def test_rs384_tokens_are_accepted(client: TestClient) -> None:
    assert call(client, "medref-order-sign", _hook_body(), alg="RS384").status_code == 200


def test_a_10_mb_body_is_413(client: TestClient) -> None:
    url = f"{BASE}/medref-order-sign"
    big = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    resp = client.post(url, content=big, headers={**auth(url),
                                                  "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b'{"hook": "order-sign"}',
                                  b'"a string"'])
def test_malformed_requests_are_400_with_an_operation_outcome(client: TestClient,
                                                              body: bytes) -> None:
    url = f"{BASE}/medref-order-sign"
    resp = client.post(url, content=body, headers={**auth(url),
                                                   "Content-Type": "application/json"})
    assert resp.status_code == 400
    doc = resp.json()
    assert doc["resourceType"] == "OperationOutcome"
    assert "Traceback" not in resp.text


def test_unknown_service_is_404(client: TestClient) -> None:
    assert call(client, "medref-nope", _hook_body()).status_code == 404


def test_cors_preflight_is_answered(client: TestClient) -> None:
    resp = client.options(f"{BASE}/medref-order-sign", headers={
        "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "https://ehr.example.org"
    other = client.options(f"{BASE}/medref-order-sign", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in other.headers


def test_implausible_observations_are_dropped_not_fatal(client: TestClient) -> None:
    body = request("order-sign", [order("d1", "acetaminophen", 1000, every_h=4)], [])
    body["prefetch"]["weight"] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"coding": [
            {"system": "http://loinc.org", "code": "29463-7"}]},
            "valueQuantity": {"value": 400, "code": "kg"}}}]}
    cards = call(client, "medref-order-sign", body).json()["cards"]
    assert any("MR102" in c["detail"] and c["indicator"] == "critical" for c in cards)


def test_an_unreadable_active_medication_is_said(client: TestClient) -> None:
    bad = order("a1", "ibuprofen", 400, status="active")
    bad["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "often"
    body = request("order-sign", [order("d1", "acetaminophen", 500, every_h=6)], [bad])
    cards = call(client, "medref-order-sign", body).json()["cards"]
    info = [c for c in cards if c["indicator"] == "info"]
    assert len(info) == 1 and "MedicationRequest/a1" in info[0]["detail"]


def test_suggestions_never_split_a_unit(client: TestClient) -> None:
    order_ = order("d1", "tramadol ER", 2, unit="TAB", every_h=24)
    order_["medicationCodeableConcept"] = {"coding": [{
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "833711"}]}
    order_["dosageInstruction"][0]["patientInstruction"] = "Take 2 tablets a day"
    cards = call(client, "medref-order-sign", request("order-sign", [order_], [])).json()
    for c in cards["cards"]:
        for sug in c.get("suggestions", []):
            for act in sug["actions"]:
                d = act["resource"]["dosageInstruction"][0]
                q = d["doseAndRate"][0]["doseQuantity"]["value"]
                assert q == int(q)
                assert "patientInstruction" not in d


def test_insecure_mode_lets_calls_in_without_a_token() -> None:
    app = create_app(load_reference(), ServeConfig(), insecure=True,
                     audit=Audit(None, io.StringIO()))
    with TestClient(app) as c:
        assert c.post(f"{BASE}/medref-order-sign", json=_hook_body()).status_code == 200


def test_the_audit_log_holds_no_patient_data_or_tokens(client: TestClient,
                                                       audit_stream: io.StringIO) -> None:
    url = f"{BASE}/medref-order-sign"
    headers = auth(url)
    body = request("order-sign", [order("d1", "ibuprofen", 400, every_h=8)], [],
                   patient={"resourceType": "Patient", "id": "p1", "birthDate": "1950-03-04",
                            "name": [{"family": "Zzztest"}]})
    body["context"]["patientId"] = "patient-secret-42"
    assert client.post(url, json=body, headers=headers).status_code == 200
    log = audit_stream.getvalue()
    last = json.loads(log.strip().splitlines()[-1])
    assert last["hook"] == "order-sign" and last["hookInstance"] == body["hookInstance"]
    assert "data" in last and "cards" in last and "ms" in last
    for secret in ("patient-secret-42", "1950-03-04", "Zzztest",
                   headers["Authorization"].split()[1], "ibuprofen"):
        assert secret not in log


def test_a_bad_config_file_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": {"keys": [
        {"kty": "oct", "k": "c2VjcmV0"}]}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="EC or RSA public key"):
        load_config(str(p))
    p.write_text(json.dumps({"algorithms": ["HS256"]}), encoding="utf-8")
    with pytest.raises(ValueError, match="not allowed"):
        load_config(str(p))
    p.write_text(json.dumps({"issuers": [{"iss": ISS, "jwks": _jwks()}]}), encoding="utf-8")
    with pytest.raises(ValueError, match="base_url"):
        load_config(str(p))


# -- the real server over HTTP -----------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_real_server_answers_over_http(tmp_path: Path) -> None:
    port = _free_port()
    cfg = write_config(tmp_path, base_url=f"http://127.0.0.1:{port}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "medref", "serve", "--port", str(port),
                             "--config", str(cfg), "--audit-log", str(tmp_path / "audit.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        base = f"http://127.0.0.1:{port}/cds-services"
        deadline = time.monotonic() + HANG
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        url = f"{base}/medref-order-sign"
        body = copy.deepcopy(_hook_body())
        req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={**auth(url), "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=HANG) as resp:
            assert resp.status == 200
            assert "cards" in json.loads(resp.read())
        bad = urllib.request.Request(url, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(bad, timeout=HANG)
        assert err.value.code == 401
    finally:
        proc.terminate()
        proc.wait(HANG)
    log = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(x).get("event") == "hook" for x in log)


def test_serve_without_issuers_refuses_to_start_unless_insecure(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from medref.cli import cli
    res = CliRunner().invoke(cli, ["serve", "--port", str(_free_port())])
    assert res.exit_code == 2
    assert "no issuers configured" in res.stderr


def test_accepted_feedback_needs_its_suggestions(client: TestClient) -> None:
    url = f"{BASE}/medref-order-sign/feedback"
    card = str(uuid.uuid4())
    bad = {"feedback": [{"card": card, "outcome": "accepted"}]}
    assert client.post(url, json=bad, headers=auth(url)).status_code == 400
    good = {"feedback": [{"card": card, "outcome": "accepted",
                          "acceptedSuggestions": [{"id": str(uuid.uuid4())}]}]}
    assert client.post(url, json=good, headers=auth(url)).status_code == 200
    assert client.app.state.feedback["accepted"] >= 1  # type: ignore[attr-defined]


# -- one answer through every door: the service's cards are check's findings ----------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DRUGS = [("ibuprofen", [400, 800]), ("acetaminophen", [500, 1000]), ("tramadol", [50, 100]),
         ("oxycodone", [5, 15]), ("gabapentin", [300, 1200]), ("warfarin", [5]),
         ("sertraline", [50]), ("cyclobenzaprine", [10]), ("prednisone", [20])]
ORDER = st.tuples(st.sampled_from(DRUGS), st.sampled_from([4, 6, 8, 12, 24]),
                  st.booleans(), st.integers(0, 1))


@settings(max_examples=30)
@given(orders=st.lists(ORDER, min_size=1, max_size=6), age=st.integers(20, 90))
def test_cards_are_the_findings_of_check_on_the_draft_orders(
        orders: list[tuple[tuple[str, list[int]], int, bool, int]], age: int) -> None:
    drafts, active = [], []
    for n, ((name, amounts), every, is_draft, k) in enumerate(orders):
        o = order(f"m{n}", name, amounts[k % len(amounts)], every_h=every,
                  status="draft" if is_draft else "active")
        (drafts if is_draft else active).append(o)
    if not drafts:
        return
    born = f"{2026 - age - 1}-01-01"
    body = request("order-sign", drafts, active,
                   patient={"resourceType": "Patient", "id": "p1", "birthDate": born})
    app = create_app(load_reference(), ServeConfig(), insecure=True,
                     audit=Audit(None, io.StringIO()))
    with TestClient(app) as c:
        cards = c.post(f"{BASE}/medref-order-sign", json=body).json()["cards"]
    got = sorted((card["detail"].split("**")[1], card["indicator"]) for card in cards
                 if card["indicator"] != "info")
    result = medref_check_fhir(body)
    drafted = {i for i, role in enumerate(result.summary.fhir.roles) if role == "draft"}
    want = sorted((f.code, {"error": "critical", "warning": "warning"}[f.severity])
                  for f in result.findings
                  if f.severity != "info" and drafted & set(f.lines)
                  and f.code not in ("MR002", "MR602"))
    assert got == want


def medref_check_fhir(body: dict[str, Any]) -> Any:
    import medref
    return medref.check_fhir(body)
