"""The shared PostgreSQL history store against a real server (a throwaway cluster of Debian's postgresql package).

Two app instances on one store must score a card exactly as one instance replaying its events in time order: the
real user-0 card-0 rows around its 2015 fraud burst, alternating between the instances, and both instances
replaying the whole card at once (event ids). A stopped store gives 503 on scoring and /readyz; started again,
the same instances recover without a restart and the card's history continues.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import threading
from pathlib import Path

import pytest
from rocketce_fraud.app import create_app
from rocketce_fraud.client import row_to_event
from rocketce_fraud.store import PostgresStore, SQLiteStore

USER0 = Path(__file__).resolve().parents[1] / "data" / "tabformer" / "User0_credit_card_transactions.csv.gz"
PORTS = (24150, 24169)   # this suite's PostgreSQL clusters (the bench takes 24170-24179)


def user0_burst(first: int = 4058, last: int = 4114) -> list[dict]:
    """Card 0 of the real user 0: 43 normal rows, then its Nov 2015 online fraud burst (13 rows, one refund)."""
    with gzip.open(USER0, "rt", newline="") as handle:
        rows = [row for i, row in enumerate(csv.DictReader(handle)) if first <= i <= last]
    assert {(r["User"], r["Card"]) for r in rows} == {("0", "0")}
    assert sum(r["Is Fraud?"] == "Yes" for r in rows) == 13
    return rows


def events(rows: list[dict], user: int, ids: bool = False) -> list[dict]:
    out = []
    for i, row in enumerate(rows):
        event = dict(row_to_event(row), user=user)
        if ids:
            event["event_id"] = f"u0c0-{i}"
        out.append(event)
    return out


def answer(body: dict) -> dict:
    return {k: body[k] for k in ("score", "fraud", "model", "card_history")}


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("pg_testing", Path(__file__).parents[2] / "pg_testing.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cluster = module.Cluster(PORTS).init()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="module")
def reference(trained, tmp_path_factory):
    """One instance on the embedded SQLite store replaying the card in time order."""
    client = create_app(trained["model"], tmp_path_factory.mktemp("single")).test_client()
    answers = []
    for event in events(user0_burst(), user=0):
        response = client.post("/v1/stream", json=event)
        assert response.status_code == 200, response.json
        answers.append(answer(response.json))
    return answers


def two_instances(trained, pg, tmp_path):
    return [create_app(trained["model"], tmp_path / f"i{n}", store=PostgresStore(pg.conninfo())).test_client()
            for n in (1, 2)]


def test_store_is_selected_by_environment_and_keeps_the_password_out(trained, pg, tmp_path, monkeypatch):
    monkeypatch.setenv("ROCKETCE_FRAUD_STORE", "postgresql")
    monkeypatch.setenv("ROCKETCE_FRAUD_STORE_DSN_FILE", str(pg.dsn_file(tmp_path / "dsn")))
    ready = create_app(trained["model"], tmp_path / "state").test_client().get("/readyz")
    assert ready.status_code == 200, ready.json
    assert ready.json["store"] == f"postgresql host=127.0.0.1 port={pg.port} dbname=fraud user=fraud sslmode=disable"
    assert pg.password not in ready.get_data(as_text=True)
    monkeypatch.delenv("ROCKETCE_FRAUD_STORE_DSN_FILE")
    missing = create_app(trained["model"], tmp_path / "state").test_client().get("/readyz")
    assert missing.status_code == 503 and "ROCKETCE_FRAUD_STORE_DSN_FILE" in missing.json["reason"]
    monkeypatch.setenv("ROCKETCE_FRAUD_STORE", "sqlite")
    assert create_app(trained["model"], tmp_path / "s").test_client().get("/readyz").json["store"].startswith("sqlite")


def test_alternating_instances_score_like_one(trained, pg, reference, tmp_path):
    first, second = two_instances(trained, pg, tmp_path)
    answers = []
    for i, event in enumerate(events(user0_burst(), user=101)):
        response = (first, second)[i % 2].post("/v1/stream", json=event)
        assert response.status_code == 200, response.json
        answers.append(answer(response.json))
    assert answers == reference
    assert [a["card_history"] for a in answers] == list(range(len(reference)))
    assert answers.count(answers[-1]) == 1 and {a["model"] for a in answers} == {"xgboost", "ensemble"}
    # Out of order against the shared history: 409 from either instance, nothing stored.
    late = first.post("/v1/stream", json=events(user0_burst(), user=101)[0])
    assert late.status_code == 409 and "older" in late.json["error"]
    batch = second.post("/v1/score", json={"transactions": events(user0_burst(), user=101)[:2]})
    assert batch.status_code == 200
    again = second.post("/v1/stream", json=dict(events(user0_burst(), user=101)[-1], event_id="last-again"))
    assert again.json["card_history"] == len(reference)


def test_concurrent_replay_of_one_card_from_both_instances(trained, pg, reference, tmp_path):
    """Both instances replay the whole card at the same moment; the row lock and event ids make it one replay."""
    clients = two_instances(trained, pg, tmp_path)
    stream = events(user0_burst(), user=102, ids=True)
    results: list[list] = [[], []]
    start = threading.Barrier(2)

    def run(n: int) -> None:
        start.wait()
        for event in stream:
            response = clients[n].post("/v1/stream", json=event)
            results[n].append((response.status_code, answer(response.json) if response.status_code == 200 else
                               response.json))

    threads = [threading.Thread(target=run, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in (0, 1):
        assert [code for code, _ in results[n]] == [200] * len(stream), results[n]
        assert [body for _, body in results[n]] == reference
    # Counted once: the next event of the card sees exactly the card's rows.
    follow = clients[0].post("/v1/stream", json=dict(stream[-1], event_id="next"))
    assert follow.json["card_history"] == len(stream)
    count = pg.sql(f"SELECT count(*) FROM card_event WHERE card_key = {102 * 16}", dbname="fraud").strip()
    assert count == str(len(stream) + 1)


def test_interleaved_cards_on_two_threads_keep_each_card_exact(trained, pg, reference, tmp_path):
    """Two instances, each streaming other cards at the same time: per-card locks, no lost update."""
    clients = two_instances(trained, pg, tmp_path)
    outcome: dict[int, list] = {}

    def run(n: int, user: int) -> None:
        outcome[user] = [answer(clients[n].post("/v1/stream", json=e).json) for e in events(user0_burst(), user)]

    threads = [threading.Thread(target=run, args=(n % 2, 200 + n)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(outcome[200 + n] == reference for n in range(4))


def test_store_down_gives_503_and_recovers_without_restart(trained, pg, reference, tmp_path):
    first, second = two_instances(trained, pg, tmp_path)
    stream = events(user0_burst(), user=103)
    half = len(stream) // 2
    for i, event in enumerate(stream[:half]):
        assert (first, second)[i % 2].post("/v1/stream", json=event).status_code == 200
    pg.stop()
    try:
        for client in (first, second):
            down = client.post("/v1/stream", json=stream[half])
            assert down.status_code == 503, down.json
            assert down.json["error"] == "history store unavailable" and "postgresql" in down.json["reason"]
            assert pg.password not in down.get_data(as_text=True)
            batch = client.post("/v1/score", json={"transactions": stream[half:half + 2]})
            assert batch.status_code == 503
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json["reason"].startswith("history store unavailable")
            assert client.get("/livez").status_code == 200
    finally:
        pg.start()
    assert first.get("/readyz").status_code == 200 and second.get("/readyz").status_code == 200
    answers = [answer((first, second)[i % 2].post("/v1/stream", json=e).json) for i, e in enumerate(stream[half:])]
    assert answers == reference[half:]   # nothing acknowledged was lost, nothing half-written was kept


def test_event_ids_on_the_sqlite_store(trained, tmp_path):
    client = create_app(trained["model"], tmp_path, store=SQLiteStore(tmp_path / "h.sqlite3")).test_client()
    stream = events(user0_burst(), user=104, ids=True)[:3]
    first = [client.post("/v1/stream", json=e).json for e in stream]
    repeat = client.post("/v1/stream", json=stream[0])   # older than the newest, but a known id: its answer
    assert repeat.status_code == 200 and answer(repeat.json) == answer(first[0])
    assert client.post("/v1/stream", json=dict(stream[0], event_id="new")).status_code == 409
    assert client.post("/v1/stream", json=dict(stream[0], event_id="bad id")).status_code == 422
