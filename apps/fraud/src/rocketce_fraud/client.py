"""`rocketce-fraud client`: replay a TabFormer CSV against /v1/stream and report alerts and latency."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

FIELDS = {"User": "user", "Card": "card", "Year": "year", "Month": "month", "Day": "day", "Time": "time",
          "Amount": "amount", "Use Chip": "use_chip", "Merchant Name": "merchant_name",
          "Merchant City": "merchant_city", "Merchant State": "merchant_state", "Zip": "zip", "MCC": "mcc",
          "Errors?": "errors"}


def row_to_event(row: dict) -> dict:
    event = {FIELDS[k]: v for k, v in row.items() if k in FIELDS}
    for key in ("user", "card", "year", "month", "day", "mcc"):
        event[key] = int(event[key])
    return event


def post(url: str, payload: dict, timeout: float = 10.0) -> tuple[int, dict]:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"--url must be http:// or https://, got {url!r}")
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (scheme checked above)
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()
        try:
            return exc.code, json.loads(body or b"{}")
        except ValueError:
            return exc.code, {"error": body[:200].decode(errors="replace")}


def replay(url: str | list[str], path: Path, limit: int | None = None, *, show: int = 20,
           as_user: int | None = None, event_ids: bool = False) -> dict:
    """Post each row in file order; `as_user` replays the rows under another user id (a fresh history).

    Several URLs take the events in turn (instance 1 gets the first event, instance 2 the second, ...), as a load
    balancer would. `event_ids` sends `r<row number>` as each event's id (a retried or duplicated event counts once).
    `answers_sha256` digests every answer (score, fraud, model, card history) in order: equal digests, equal scores.
    """
    urls = [url] if isinstance(url, str) else list(url)
    opener = gzip.open if str(path).endswith(".gz") else open
    latencies, alerts, rejected, answers = [], [], 0, []
    tp = fp = fn = 0
    endpoints = [u.rstrip("/") + "/v1/stream" for u in urls]
    with opener(path, "rt", newline="") as handle:
        for n, row in enumerate(csv.DictReader(handle)):
            if limit is not None and n >= limit:
                break
            event = row_to_event(row)
            if as_user is not None:
                event["user"] = as_user
            if event_ids:
                event["event_id"] = f"r{n}"
            started = time.perf_counter()
            code, body = post(endpoints[n % len(endpoints)], event)
            latencies.append(time.perf_counter() - started)
            if code != 200:
                rejected += 1
                if rejected <= 3:
                    print(f"row {n}: HTTP {code} {body}", file=sys.stderr)
                answers.append({"status": code})
                continue
            answers.append({k: body[k] for k in ("score", "fraud", "model", "card_history")})
            label = row.get("Is Fraud?") == "Yes"
            if body["fraud"]:
                alerts.append({"row": n, "user": row["User"], "card": row["Card"], "score": body["score"],
                               "labelled_fraud": label})
            tp += body["fraud"] and label
            fp += body["fraud"] and not label
            fn += (not body["fraud"]) and label
    lat = sorted(latencies) or [0.0]
    scored = [a for a in answers if "score" in a]
    report = {
        "events": len(latencies), "rejected": rejected, "alerts": len(alerts), "instances": len(urls),
        "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
        "first_answer": _short(scored[0]) if scored else None, "last_answer": _short(scored[-1]) if scored else None,
        "answers_sha256": hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest(),
        "labelled_fraud_alerts": sum(a["labelled_fraud"] for a in alerts),
        "first_alerts": alerts[:show],
    }
    return report


def _short(answer: dict) -> dict:
    return {"card_history": answer["card_history"], "model": answer["model"]}


def replay_concurrently(urls: list[str], path: Path, limit: int | None = None, as_user: int | None = None) -> dict:
    """Every URL replays the whole file at the same moment (with event ids): each must see one replay's answers."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        reports = list(pool.map(lambda u: replay(u, path, limit, as_user=as_user, event_ids=True), urls))
    return {"concurrent": len(urls), "reports": reports,
            "same_answers": len({r["answers_sha256"] for r in reports}) == 1,
            "answers_sha256": reports[0]["answers_sha256"], "rejected": sum(r["rejected"] for r in reports)}
