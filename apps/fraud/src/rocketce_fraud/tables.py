"""Lookup tables for the generator, derived from the real user-0 TabFormer rows.

`synth_tables.json` is what the generator reads; regenerate it with
`python -m rocketce_fraud.tables apps/fraud/data/tabformer/User0_credit_card_transactions.csv.gz`.
A test checks that the committed file equals a fresh derivation.
"""

from __future__ import annotations

import csv
import gzip
import json
import statistics
import sys
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path

from .schema import ONLINE, parse_amount

TABLES_FILE = "synth_tables.json"


def derive_tables(user0_csv: Path) -> dict:
    """Merchant locations (state, city, zip) and per-MCC amount medians and online shares."""
    locations: dict[tuple[str, str], int | None] = {}
    amounts: dict[int, list[float]] = defaultdict(list)
    online: dict[int, int] = defaultdict(int)
    rows: dict[int, int] = defaultdict(int)
    with gzip.open(user0_csv, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            mcc = int(row["MCC"])
            amount = parse_amount(row["Amount"])
            rows[mcc] += 1
            if amount > 0:
                amounts[mcc].append(amount)
            if row["Use Chip"] == ONLINE or row["Merchant City"] == "ONLINE":
                online[mcc] += 1
                continue
            key = (row["Merchant State"], row["Merchant City"])
            zip_code = int(float(row["Zip"])) if row["Zip"] else None
            locations.setdefault(key, zip_code)
    mccs = {}
    for mcc in sorted(amounts):
        count = rows[mcc]
        mccs[str(mcc)] = {
            "count": count,
            "median_amount": round(statistics.median(amounts[mcc]), 2),
            "online_share": round(online[mcc] / count, 4),
        }
    return {
        "source": Path(user0_csv).name,
        "locations": [[state, city, zip_code] for (state, city), zip_code in sorted(locations.items())],
        "mcc": mccs,
    }


@cache
def load_tables() -> dict:
    return json.loads(resources.files(__package__).joinpath(TABLES_FILE).read_text())


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    target = Path(__file__).with_name(TABLES_FILE)
    target.write_text(json.dumps(derive_tables(Path(sys.argv[1])), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
