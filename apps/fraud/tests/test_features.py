"""History features and windows: what the card did before, never mixing cards."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from rocketce_fraud.features import (
    FIRST_GAP,
    HISTORY_NAMES,
    WINDOW,
    CardState,
    Columns,
    error_mask,
    history_features,
    window_positions,
)

H = {name: i for i, name in enumerate(HISTORY_NAMES)}


def cols(keys, minutes, merchants, amounts=None, channel=None):
    n = len(keys)
    return Columns(
        card_key=np.array(keys, dtype=np.int64), minute=np.array(minutes, dtype=np.int64),
        amount=np.array(amounts or [10.0] * n), channel=np.array(channel or [0] * n, dtype=np.int8),
        merchant=np.array(merchants, dtype=np.int64), mcc=np.array([5411] * n, dtype=np.int32),
        city=["A|CA"] * n, foreign=np.zeros(n, dtype=bool), errors=np.zeros(n, dtype=np.uint8),
    )


def test_history_features_follow_each_card():
    c = cols(keys=[1, 1, 1, 2, 2], minutes=[0, 30, 2000, 10, 20], merchants=[7, 7, 8, 7, 9],
             amounts=[10.0, 10.0, 100.0, 5.0, 5.0], channel=[0, 2, 0, 0, 0])
    h = history_features(c)
    assert h[0, H["minutes_since_last_log"]] == pytest.approx(math.log1p(FIRST_GAP))
    assert h[1, H["minutes_since_last_log"]] == pytest.approx(math.log1p(30))
    assert h[:, H["merchant_new"]].tolist() == [1, 0, 1, 1, 1]   # card 2's merchant 7 is new to card 2
    assert h[1, H["count_1h_log"]] == pytest.approx(math.log1p(1))
    assert h[2, H["count_1h_log"]] == 0 and h[2, H["count_24h_log"]] == 0
    assert h[2, H["count_7d_log"]] == pytest.approx(math.log1p(2))
    assert h[2, H["online_24h_log"]] == 0
    assert h[2, H["amount_vs_recent"]] == pytest.approx(math.log1p(100) - math.log1p(10))
    assert h[4, H["card_count_log"]] == pytest.approx(math.log1p(1))


def test_state_carries_over_between_chunks():
    whole = cols([1] * 6, [0, 5, 70, 80, 3000, 3001], [1, 2, 1, 3, 3, 4])
    first = cols([1] * 3, [0, 5, 70], [1, 2, 1])
    second = cols([1] * 3, [80, 3000, 3001], [3, 3, 4])
    states, seen = {}, None
    from rocketce_fraud.features import SeenSets

    seen = SeenSets()
    parts = np.vstack([history_features(first, states, seen), history_features(second, states, seen)])
    assert np.allclose(parts, history_features(whole))


def test_state_round_trips_through_json():
    state = CardState()
    state.step(100, 12.5, merchant_new=True, mcc_new=True, city_new=True, online=False)
    state.push_window([0.0] * 3)
    clone = CardState.from_dict(json.loads(json.dumps(state.to_dict())))
    flags = {"merchant_new": False, "mcc_new": False, "city_new": False, "online": True}
    assert clone.step(160, 1.0, **flags) == state.step(160, 1.0, **flags)


def test_windows_never_cross_cards():
    keys = np.array([1] * 9 + [2] * 3 + [3] * 8)
    pos = window_positions(keys)
    ends = np.flatnonzero(pos >= WINDOW - 1)
    assert ends.tolist() == [6, 7, 8, 18, 19]
    for end in ends:
        assert len(set(keys[end - WINDOW + 1:end + 1])) == 1


def test_error_mask():
    assert error_mask("") == 0
    assert error_mask("Bad PIN,Insufficient Balance") == error_mask("Bad PIN") | error_mask("Insufficient Balance")
    with pytest.raises(ValueError, match="unknown error"):
        error_mask("Bad Mood")


def test_reads_the_real_tabformer_rows():
    """The real file's formats (quoted multi-error values, empty Zip, foreign states, refunds) parse as-is."""
    from pathlib import Path

    from rocketce_fraud.train import load_dataset

    user0 = Path(__file__).resolve().parents[1] / "data" / "tabformer" / "User0_credit_card_transactions.csv.gz"
    cols, labels, hist = load_dataset(user0)
    assert len(cols) == 19963 and int(labels.sum()) == 27
    assert sorted(set((cols.card_key % 16).tolist())) == [0, 1, 2, 3, 4]
    assert cols.foreign.sum() > 0 and (cols.amount < 0).sum() > 0
    assert (cols.errors > 0).sum() == 574   # rows with any `Errors?` value in user 0
    assert hist.shape == (19963, len(HISTORY_NAMES)) and np.isfinite(hist).all()
