"""The generator against the TabFormer format, dataset_facts.json and the real user-0 rows."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rocketce_fraud.schema import ERROR_VALUES, HEADER, US_STATES
from rocketce_fraud.synth import synthesize
from rocketce_fraud.tables import TABLES_FILE, derive_tables

DATA = Path(__file__).resolve().parents[1] / "data" / "tabformer"
USER0 = DATA / "User0_credit_card_transactions.csv.gz"
FACTS = DATA / "dataset_facts.json"
AMOUNT = re.compile(r"^\$-?\d+\.\d\d$")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ZIP = re.compile(r"^\d{3,5}\.0$")


def load(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"Zip": str, "Errors?": str, "Merchant State": str}, keep_default_na=False)
    frame["amt"] = frame["Amount"].str.replace("$", "", regex=False).astype(float)
    frame["fraud"] = frame["Is Fraud?"] == "Yes"
    frame["ts"] = (pd.to_datetime({"year": frame.Year, "month": frame.Month, "day": frame.Day})
                   + pd.to_timedelta(frame.Time.str[:2].astype(int) * 60 + frame.Time.str[3:].astype(int), unit="m"))
    return frame


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return load(USER0)


@pytest.fixture(scope="module")
def synth(synth_full) -> pd.DataFrame:
    return load(synth_full)


@pytest.fixture(scope="module")
def facts() -> dict:
    return json.loads(FACTS.read_text())


def test_vendored_user0_is_the_documented_file():
    with gzip.open(USER0, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert digest == "61c4ed49a98bf924c5df0a740e1c415b91624c83821f8415bd8db34c2d6a0d3c"


def test_committed_tables_derive_from_user0():
    committed = json.loads((Path(__import__("rocketce_fraud").__file__).parent / TABLES_FILE).read_text())
    assert committed == json.loads(json.dumps(derive_tables(USER0)))


def test_header_and_value_formats(synth_full, synth):
    with open(synth_full, newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == HEADER
        rows = [next(reader) for _ in range(20000)]
    assert all(AMOUNT.match(r[6]) for r in rows)
    assert all(TIME.match(r[5]) for r in rows)
    online = synth["Use Chip"] == "Online Transaction"
    assert (synth.loc[online, "Merchant City"] == "ONLINE").all()
    assert (synth.loc[online, ["Merchant State", "Zip"]] == "").all().all()
    offline = synth.loc[~online]
    us = offline["Merchant State"].isin(US_STATES)
    assert offline.loc[us, "Zip"].str.match(ZIP).all()
    foreign = offline.loc[~us]
    assert len(foreign) > 0 and (foreign["Zip"] == "").all()
    assert set(synth["Errors?"]) - {""} <= set(ERROR_VALUES)
    assert synth["Merchant Name"].dtype == np.int64


def test_rows_ordered_by_user_card_time(synth):
    keys = synth[["User", "Card"]].to_numpy()
    order = np.lexsort((synth["ts"].to_numpy(), keys[:, 1], keys[:, 0]))
    assert (order == np.arange(len(synth))).all()


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    synthesize(a, users=3, seed=1, start_year=2018)
    synthesize(b, users=3, seed=1, start_year=2018)
    synthesize(c, users=3, seed=2, start_year=2018)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_marginals_match_the_facts(synth, facts):
    rate = synth["fraud"].mean()
    assert 0.7 * facts["fraud_rate"] < rate < 1.5 * facts["fraud_rate"]
    by_channel = synth.groupby("Use Chip")["fraud"].mean()
    real_rates = {k: v["fraud_rate"] for k, v in facts["use_chip"].items()}
    # Same ordering and magnitude as the full file: online >> chip > swipe.
    assert by_channel["Online Transaction"] > 5 * by_channel["Chip Transaction"]
    assert by_channel["Chip Transaction"] > by_channel["Swipe Transaction"]
    for channel, real_rate in real_rates.items():
        assert real_rate / 2.5 < by_channel[channel] < real_rate * 2.5, channel
    negative = synth.groupby("Use Chip")["amt"].apply(lambda s: (s < 0).mean())
    for channel, share in facts["amount"]["negative_share_by_channel"].items():
        assert abs(negative[channel] - share) < 0.02, channel
    error_share = (synth["Errors?"] != "").mean()
    real_error_share = 1 - facts["missing"]["Errors?"] / facts["rows"]
    assert real_error_share / 2 < error_share < real_error_share * 2
    assert synth["amt"].min() >= facts["amount"]["min"]
    assert synth.ts.min() >= pd.Timestamp(facts["first_timestamp"])
    assert synth.ts.max() <= pd.Timestamp(facts["last_timestamp"]) + pd.Timedelta(minutes=1)
    assert synth.loc[synth.fraud, "ts"].min() >= pd.Timestamp(facts["first_fraud_date"])
    cards_per_user = synth.groupby("User")["Card"].nunique().mean()
    assert 2.0 < cards_per_user < 4.5   # full file: 6,139 cards / 2,000 users


def _card_behaviour(frame: pd.DataFrame) -> dict:
    frame = frame.copy()
    frame["new_merchant"] = ~frame.duplicated(["User", "Card", "Merchant Name"])
    mcc_share = frame.groupby(["User", "Card", "MCC"]).size() / frame.groupby(["User", "Card"]).size()
    frame["mcc_share"] = mcc_share.reindex(pd.MultiIndex.from_frame(frame[["User", "Card", "MCC"]])).to_numpy()
    fraud = frame[frame.fraud]
    gaps = fraud.groupby(["User", "Card"])["ts"].apply(
        lambda s: np.minimum(s.diff().dt.total_seconds().fillna(1e12).to_numpy(),
                             (-s.diff(-1)).dt.total_seconds().fillna(1e12).to_numpy()))
    positive = frame["amt"] > 0
    return {
        "burst_share": float((np.concatenate(gaps.to_list()) <= 3 * 86400).mean()),
        "new_merchant_fraud": float(fraud["new_merchant"].mean()),
        "new_merchant_normal": float(frame.loc[~frame.fraud, "new_merchant"].mean()),
        "mcc_share_fraud": float(fraud["mcc_share"].median()),
        "mcc_share_normal": float(frame.loc[~frame.fraud, "mcc_share"].median()),
        "amount_ratio": float(frame.loc[frame.fraud & positive, "amt"].median()
                              / frame.loc[~frame.fraud & positive, "amt"].median()),
        "refund_whole_dollars": float((frame.loc[frame.amt < 0, "amt"] % 1 == 0).mean()),
        "fraud_refunds": int((fraud["amt"] < 0).sum()),
        "error_fraud_gap": abs(float((fraud["Errors?"] != "").mean() - (frame["Errors?"] != "").mean())),
        "median_amount": float(frame.loc[positive, "amt"].median()),
        "top_hour_share": float(frame.groupby("User")["Time"].apply(
            lambda t: t.str[:2].value_counts(normalize=True).iloc[0]).median()),
        "rows_per_user": len(frame) / frame["User"].nunique(),
    }


def test_behaviour_resembles_the_real_user0_rows(real, synth):
    r, s = _card_behaviour(real), _card_behaviour(synth)
    # Fraud comes in per-card bursts (user 0: every fraud has another one on its card within 3 days).
    assert r["burst_share"] > 0.9 and s["burst_share"] > 0.9
    # Fraud hits merchants new to the card far more often than normal use does, and rarely used MCCs.
    assert r["new_merchant_fraud"] > 4 * r["new_merchant_normal"]
    assert s["new_merchant_fraud"] > 4 * s["new_merchant_normal"]
    assert s["mcc_share_fraud"] < s["mcc_share_normal"] and r["mcc_share_fraud"] < r["mcc_share_normal"]
    # Fraud amounts only mildly higher (user 0: 1.33x the median).
    assert 1.0 < s["amount_ratio"] < 2.0
    # Refunds are whole-dollar credits, and refunds inside bursts are labelled fraud.
    assert r["refund_whole_dollars"] == 1.0 and s["refund_whole_dollars"] == 1.0
    assert r["fraud_refunds"] > 0 and s["fraud_refunds"] > 0
    # Errors? is not a fraud marker.
    assert s["error_fraud_gap"] < 0.02
    # Amount level, habitual hours and activity in the same range as user 0.
    assert 0.6 < s["median_amount"] / r["median_amount"] < 1.6
    assert s["top_hour_share"] > 0.2 and r["top_hour_share"] > 0.2   # habitual hours (user 0: 46% at 06:xx)
    assert 0.3 < s["rows_per_user"] / r["rows_per_user"] < 2.0


def test_rejects_empty_year_range(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        synthesize(tmp_path / "x.csv", users=1, seed=0, start_year=2019, end_year=2018)
