"""Read TabFormer-format CSV (plain or .gz) in chunks into canonical columns (training side; needs pandas)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .features import Columns, error_mask
from .schema import CHANNELS, HEADER, US_STATES

CHUNK_ROWS = 250_000
_CHANNEL_CODE = {name: i for i, name in enumerate(CHANNELS)}


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[Columns, np.ndarray]]:
    """Yield (columns, is_fraud) per chunk; memory stays bounded by the chunk size."""
    import pandas as pd

    dtypes = {"Merchant City": str, "Merchant State": str, "Zip": str, "Errors?": str, "Amount": str,
              "Time": str, "Use Chip": str, "Is Fraud?": str}
    with pd.read_csv(path, dtype=dtypes, keep_default_na=False, chunksize=chunk_rows) as reader:
        for frame in reader:
            missing = [c for c in HEADER if c not in frame.columns]
            if missing:
                raise ValueError(f"{path}: not a TabFormer file, missing columns {missing}")
            yield frame_to_columns(frame), (frame["Is Fraud?"].to_numpy() == "Yes")


def frame_to_columns(frame) -> Columns:
    import pandas as pd

    dates = pd.to_datetime(
        {"year": frame["Year"], "month": frame["Month"], "day": frame["Day"]}, errors="raise"
    ).to_numpy().astype("datetime64[D]").astype(np.int64)
    hhmm = frame["Time"].str.split(":", n=1, expand=True).astype(np.int64)
    minute = dates * 1440 + hhmm[0].to_numpy() * 60 + hhmm[1].to_numpy()
    amount = frame["Amount"].str.replace("$", "", regex=False).astype(np.float64).to_numpy()
    unknown = set(frame["Use Chip"].unique()) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown Use Chip values {sorted(unknown)}")
    channel = frame["Use Chip"].map(_CHANNEL_CODE).to_numpy().astype(np.int8)
    city_col, state_col = frame["Merchant City"].to_numpy(), frame["Merchant State"].to_numpy()
    # Interned: ~13k distinct cities in 24M rows, so rows share one string each instead of holding a copy.
    city = [sys.intern("ONLINE" if c == "ONLINE" else f"{c}|{s}") for c, s in zip(city_col, state_col)]
    foreign = np.array([c != "ONLINE" and s != "" and s not in US_STATES for c, s in zip(city_col, state_col)])
    errors_unique = {e: error_mask(e) for e in frame["Errors?"].unique()}
    return Columns(
        card_key=frame["User"].to_numpy(np.int64) * 16 + frame["Card"].to_numpy(np.int64),
        minute=minute.astype(np.int64),
        amount=amount,
        channel=channel,
        merchant=frame["Merchant Name"].to_numpy(np.int64),
        mcc=frame["MCC"].to_numpy(np.int32),
        city=city,
        foreign=foreign.astype(bool),
        errors=frame["Errors?"].map(errors_unique).to_numpy().astype(np.uint8),
    )
