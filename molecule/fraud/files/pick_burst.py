#!/usr/bin/env python3
"""Pick a test-period fraud burst for verify.yml and split the card's stream around a service restart.

For each card with a fraud burst in the test period, all of the card's rows up to the end of the burst are replayed
through the app in process (fresh history store); the card whose burst gets the most alerts wins. Its rows are
written as two CSV files: part1 (replayed before the restart) and part2 (the last normal rows and the burst,
replayed after it), plus expect.json with the offline results the deployed service must reproduce.
Usage: pick_burst.py DATA.csv[.gz] MODEL_DIR OUT_DIR
"""

import csv
import gzip
import json
import sys
import tempfile
from pathlib import Path

from rocketce_fraud.app import create_app
from rocketce_fraud.client import row_to_event
from rocketce_fraud.reader import read_chunks

MAX_CANDIDATES = 8
AFTER_RESTART = 3   # normal rows of the card replayed after the restart, before the burst


def bursts(rows: list[dict], minutes, t_test: int) -> list[list[dict]]:
    out, cards = [], set()
    start = 0
    for i, row in enumerate(rows):
        key = (row["User"], row["Card"])
        if i and key != (rows[i - 1]["User"], rows[i - 1]["Card"]):
            start = i
        if row["Is Fraud?"] != "Yes" or minutes[i] < t_test or key in cards or i - start < 10:
            continue
        cards.add(key)
        last = i
        while last + 1 < len(rows) and (rows[last + 1]["User"], rows[last + 1]["Card"]) == key \
                and minutes[last + 1] - minutes[i] < 5 * 1440:
            last += 1
        out.append(rows[start:last + 1])
    out.sort(key=len)
    return out[:MAX_CANDIDATES]


def main(data: Path, model: Path, out_dir: Path) -> int:
    t_test = json.loads((model / "metrics.json").read_text())["data"]["split_minutes"][1]
    minutes = next(read_chunks(data, chunk_rows=10**8))[0].minute
    with gzip.open(data, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best = None
    for cand in bursts(rows, minutes, t_test):
        with tempfile.TemporaryDirectory() as state:
            client = create_app(model, state).test_client()
            results = [client.post("/v1/stream", json=row_to_event(r)).json for r in cand]
        labels = [r["Is Fraud?"] == "Yes" for r in cand]
        first_fraud = labels.index(True)
        hits = sum(res["fraud"] and lab for res, lab in zip(results[first_fraud:], labels[first_fraud:]))
        false_alerts = sum(res["fraud"] and not lab for res, lab in zip(results, labels))
        if best is None or (hits, -false_alerts) > best[0]:
            best = ((hits, -false_alerts), cand, results, first_fraud)
    if best is None:
        print("no test-period fraud burst on a card with history", file=sys.stderr)
        return 1
    (hits, neg_false), cand, results, first_fraud = best
    split = first_fraud - AFTER_RESTART
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, part in (("part1.csv", cand[:split]), ("part2.csv", cand[split:])):
        with open(out_dir / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(cand[0]))
            writer.writeheader()
            writer.writerows(part)
    expect = {"part1_events": split, "part2_events": len(cand) - split, "burst_frauds": len(cand) - first_fraud,
              "flagged_frauds": hits, "false_alerts": -neg_false,
              "part2_offline_alerts": sum(r["fraud"] for r in results[split:])}
    (out_dir / "expect.json").write_text(json.dumps(expect, indent=1))
    print(json.dumps(expect))
    return 0 if hits else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))
