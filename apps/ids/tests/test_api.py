"""The HTTP contract: single and batch scoring, both record forms, 4xx with reasons, readiness, metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from rocketce_ids.client import record_values
from rocketce_ids.data import load_nslkdd
from rocketce_ids.model import IdsModel
from rocketce_ids.schema import FEATURE_NAMES
from rocketce_ids.server import create_app


@pytest.fixture(scope="module")
def slice_data(test_slice):
    return load_nslkdd(test_slice).take(slice(0, 200))


@pytest.fixture(scope="module")
def records(slice_data):
    return [record_values(n, c) for n, c in zip(slice_data.records.numeric, slice_data.records.categorical)]


@pytest.fixture(scope="module")
def client(trained):
    return create_app(trained[0]).test_client()


def test_probes_and_openapi(client, trained):
    assert client.get("/livez").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["model_version"] == IdsModel.load(trained[0]).version
    spec = client.get("/openapi.json").json
    assert "/v1/predict" in spec["paths"] and "PredictRequest" in spec["components"]["schemas"]
    request = spec["components"]["schemas"]["PredictRequest"]
    assert request["oneOf"] == [{"required": ["record"]}, {"required": ["records"]}]
    assert request["additionalProperties"] is False
    assert set(spec["paths"]["/v1/predict"]["post"]["responses"]) == {"200", "400", "413", "415", "422", "503"}


def test_batch_verdicts_equal_the_model_scores(client, trained, records, slice_data):
    response = client.post("/v1/predict", json={"records": records})
    assert response.status_code == 200
    body = response.json
    model = IdsModel.load(trained[0])
    scores = model.score(slice_data.records)
    assert body["count"] == len(records) == len(body["results"])
    assert body["model_version"] == model.version and body["autoencoder_threshold"] == model.ae_threshold
    np.testing.assert_allclose([r["reconstruction_error"] for r in body["results"]], scores.reconstruction_error,
                               rtol=1e-6)
    assert [r["attack"] for r in body["results"]] == scores.attack.tolist()
    assert [r["autoencoder_attack"] for r in body["results"]] == scores.autoencoder_attack.tolist()
    # attacks are flagged far more often than normal traffic, even by the small test model
    flagged = np.array([r["attack"] for r in body["results"]])
    truth = slice_data.is_attack.astype(bool)
    assert flagged[truth].mean() > flagged[~truth].mean() + 0.3


def test_single_record_as_list_or_object_gives_the_same_answer(client, records):
    as_list = client.post("/v1/predict", json={"record": records[3]})
    as_object = client.post("/v1/predict", json={"record": dict(zip(FEATURE_NAMES, records[3]))})
    assert as_list.status_code == as_object.status_code == 200
    assert as_list.json == as_object.json
    assert as_list.json["count"] == 1
    batch = client.post("/v1/predict", json={"records": [records[3], dict(zip(FEATURE_NAMES, records[3]))]})
    first, second = batch.json["results"]
    single = as_list.json["results"][0]
    # float32 BLAS may sum in a different order for a batch than for one row: equal up to rounding
    for key, value in single.items():
        assert first[key] == pytest.approx(value, rel=1e-5) and second[key] == pytest.approx(value, rel=1e-5)


def _bad(record: list, position: int, value) -> list:
    changed = list(record)
    changed[position] = value
    return changed


@pytest.mark.parametrize(
    ("make_body", "status", "reason"),
    [
        (lambda r: {"record": _bad(r, 1, 6)}, 422, "protocol_type"),  # category given as a number
        (lambda r: {"record": _bad(r, 4, -5)}, 422, "src_bytes"),  # negative byte count
        (lambda r: {"record": _bad(r, 0, "12")}, 422, "duration"),  # number given as a string
        (lambda r: {"record": _bad(r, 6, False)}, 422, "land"),  # a boolean is not a number (lax JSON would say 0)
        (lambda r: {"record": {**dict(zip(FEATURE_NAMES, r)), "urgent": True}}, 422, "urgent"),
        (lambda r: {"record": None}, 422, "record"),  # present but null: neither a list nor an object
        (lambda r: {"record": _bad(r, 24, 1.5)}, 422, "serror_rate"),  # a rate above 1
        (lambda r: {"record": r[:40]}, 422, "dst_host_srv_rerror_rate"),  # one feature short
        (lambda r: {"record": [*r, 1]}, 422, "at most 41"),
        (lambda r: {"record": {**dict(zip(FEATURE_NAMES, r)), "extra": 1}}, 422, "extra"),
        (lambda r: {"record": r, "records": [r]}, 422, "exactly one"),
        (lambda r: {"records": []}, 422, "at least 1"),
        (lambda r: {}, 422, "exactly one"),
        (lambda r: [r], 422, "object"),
    ],
)
def test_malformed_records_get_422_with_the_reason(client, records, make_body, status, reason):
    response = client.post("/v1/predict", json=make_body(records[0]))
    assert response.status_code == status
    assert reason in json.dumps(response.json)


def test_non_json_and_wrong_content_type(client):
    broken = client.post("/v1/predict", data=b'{"record": [1,', content_type="application/json")
    assert broken.status_code == 400 and "not valid JSON" in broken.json["error"]
    assert client.post("/v1/predict", data=b"", content_type="application/json").status_code == 400
    assert client.post("/v1/predict", data=b"0,tcp", content_type="text/csv").status_code == 415
    not_allowed = client.get("/v1/predict")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "OPTIONS, POST"
    assert client.delete("/readyz").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_oversized_body_gets_413(trained, records):
    small = create_app(trained[0], max_body_bytes=2000).test_client()
    assert small.post("/v1/predict", json={"record": records[0]}).status_code == 200
    response = small.post("/v1/predict", json={"records": records[:20]})
    assert response.status_code == 413 and "2000 bytes" in response.json["error"]


def _reject_constant(name: str):
    raise AssertionError(f"response contains {name}")


def test_garbage_never_causes_a_5xx(client, records):
    rng = np.random.default_rng(7)
    bodies = [b"null", b"[]", b"{}", b"1e999", b'"x"', b'{"record": null}', b'{"records": [[]]}',
              b'{"records": {"a": 1}}', b'{"record": [NaN]}', b"\xff\xfe", b'{"record": ' + b"[" * 2000]
    values = [None, True, "", "x" * 100, 1e308, -0.0, [], {}, float("inf")]
    for _ in range(60):
        record = list(records[int(rng.integers(len(records)))])
        record[int(rng.integers(41))] = values[int(rng.integers(len(values)))]
        bodies.append(json.dumps({"record": record}).encode())
    for body in bodies:
        response = client.post("/v1/predict", data=body, content_type="application/json")
        assert 200 <= response.status_code < 500, (body[:80], response.status_code)
        json.loads(response.get_data(), parse_constant=_reject_constant)  # strict JSON: no NaN/Infinity


def test_extreme_but_valid_values_are_flagged_not_crashing(client, records):
    record = _bad(records[0], 4, 1e308)  # src_bytes: valid type, absurd size
    response = client.post("/v1/predict", json={"record": record})
    assert response.status_code == 200
    result = response.json["results"][0]
    assert result["autoencoder_attack"] is True and np.isfinite(result["reconstruction_error"])


def _metric(text: str, prefix: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_count_scored_records_requests_and_errors(client, records, trained):
    def metrics() -> str:
        return client.get("/metrics").get_data(as_text=True)

    ok = 'ids_http_requests_total{method="POST",route="/v1/predict",status="200"}'
    rejected = 'ids_http_requests_total{method="POST",route="/v1/predict",status="422"}'
    unknown = 'ids_http_requests_total{method="GET",route="unmatched",status="404"}'
    before = metrics()
    client.post("/v1/predict", json={"records": records[:7]})
    client.post("/v1/predict", json={"record": [True] * 41})
    client.get("/no/such/path")
    after = metrics()
    assert _metric(after, "ids_records_scored_total") == _metric(before, "ids_records_scored_total") + 7
    for series in (ok, rejected, unknown):
        assert _metric(after, series) == _metric(before, series) + 1, series
    # the latency histogram includes the rejected request (errors cost time too)
    count = 'ids_http_request_duration_seconds_count{method="POST",route="/v1/predict"}'
    assert _metric(after, count) == _metric(before, count) + 2
    model = IdsModel.load(trained[0])
    assert f'ids_model_info{{verdict_rule="{model.verdict_rule}",version="{model.version}"}} 1.0' in after


@pytest.mark.parametrize("damage", ["tamper", "delete", "manifest"])
def test_damaged_model_is_never_ready(model_copy, records, damage):
    if damage == "tamper":
        with open(model_copy / "autoencoder.npz", "r+b") as handle:
            handle.seek(200)
            byte = handle.read(1)
            handle.seek(200)
            handle.write(bytes([byte[0] ^ 0xFF]))
        expected = "autoencoder.npz has sha256"
    elif damage == "delete":
        (model_copy / "mlp.npz").unlink()
        expected = "mlp.npz is missing"
    else:
        (model_copy / "manifest.json").write_text("{")
        expected = "not a valid manifest"
    client = create_app(model_copy).test_client()
    assert client.get("/livez").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and expected in ready.json["error"]
    predict = client.post("/v1/predict", json={"record": records[0]})
    assert predict.status_code == 503 and expected in predict.json["error"]


def test_a_server_bug_is_a_json_500_without_internals(trained, records, monkeypatch):
    app = create_app(trained[0])
    state = app.extensions["rocketce_ids"]

    def broken(_records):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(state, "model", type("Broken", (), {"score": staticmethod(broken)})())
    response = app.test_client().post("/v1/predict", json={"record": records[0]})
    assert response.status_code == 500
    assert response.json["error"].startswith("internal error") and "secret" not in response.get_data(as_text=True)
