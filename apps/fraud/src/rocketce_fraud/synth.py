"""Synthetic card transactions in the exact TabFormer card_transaction.v1.csv schema and formats.

Behaviour follows ../shared/data/README.md and dataset_facts.json: every user has a home area, habitual merchants
and MCCs, habitual hours and trips; each card has an activity window and, from 2015, chip transactions; refunds
follow purchases at the same merchant; fraud (~0.12% of rows) arrives in per-card bursts over hours to days, mostly
online, at merchants new to the card with rarely used MCCs and mildly higher amounts; refunds inside a burst are
labelled fraud; `Errors?` is independent of fraud. Rows are ordered by user, card, time.

Generation is vectorised per card; a user's rows depend only on (seed, user), so the output is reproducible.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .schema import CHANNELS, CHIP, ERROR_VALUES, HEADER, ONLINE, SWIPE, US_STATES
from .tables import load_tables

MINUTES_PER_DAY = 1440
EPOCH_DAY = np.datetime64("1970-01-01", "D")
FIRST_MINUTE = int((np.datetime64("1991-01-02", "D") - EPOCH_DAY).astype(int)) * MINUTES_PER_DAY
LAST_MINUTE = int((np.datetime64("2020-02-28", "D") - EPOCH_DAY).astype(int) + 1) * MINUTES_PER_DAY - 1
FIRST_FRAUD_MINUTE = int((np.datetime64("1996-07-05", "D") - EPOCH_DAY).astype(int)) * MINUTES_PER_DAY
CHIP_ERA_MINUTE = int((np.datetime64("2015-01-01", "D") - EPOCH_DAY).astype(int)) * MINUTES_PER_DAY

FRAUD_RATE = 0.00122           # dataset_facts.json fraud_rate
MEAN_BURST_SIZE = 8.0          # user 0: bursts of 13, 2, 10, 2 (+ refunds)
ONLINE_BURST_SHARE = 0.62      # 18,349 of 29,757 frauds are online
REFUND_RATE = {SWIPE: 0.056, CHIP: 0.054, ONLINE: 0.005}   # negative_share_by_channel
ERROR_RATE = 0.016             # 1 - 23,998,469 / 24,386,900 rows have an error
MERCHANTS_PER_LOCATION = 40
ONLINE_MERCHANTS = 4000

# Relative frequency of each `Errors?` value: single causes dominate, combinations are rare.
_SINGLE_ERROR_WEIGHT = {
    "Insufficient Balance": 60.0, "Bad PIN": 10.0, "Technical Glitch": 10.0, "Bad Card Number": 5.5,
    "Bad Expiration": 4.0, "Bad CVV": 4.0, "Bad Zipcode": 1.0,
}
ERROR_WEIGHTS = np.array([_SINGLE_ERROR_WEIGHT.get(value, 0.25) for value in ERROR_VALUES])
ERROR_WEIGHTS /= ERROR_WEIGHTS.sum()


@dataclass
class Universe:
    """Merchants shared by all users: a pool per merchant location and a pool of online merchants."""

    loc_state: list[str]
    loc_city: list[str]
    loc_zip: list[int | None]
    home_states: list[str]
    state_locations: dict[str, np.ndarray]
    foreign_locations: np.ndarray
    merchant_id: np.ndarray       # int64 per merchant; location-pool merchants first, then online ones
    merchant_mcc: np.ndarray
    merchant_loc: np.ndarray      # -1 for online merchants
    merchant_scale: np.ndarray    # typical amount
    online_ids: np.ndarray        # indices of online merchants
    online_fraud_p: np.ndarray    # fraud prefers rarely used MCCs
    mcc_codes: np.ndarray

    def location_merchants(self, loc: int) -> np.ndarray:
        start = loc * MERCHANTS_PER_LOCATION
        return np.arange(start, start + MERCHANTS_PER_LOCATION)


def build_universe(seed: int) -> Universe:
    tables = load_tables()
    rng = np.random.default_rng([seed, 0xC0FFEE])
    locations = tables["locations"]
    loc_state = [loc[0] for loc in locations]
    loc_city = [loc[1] for loc in locations]
    loc_zip = [loc[2] for loc in locations]
    state_locations: dict[str, list[int]] = {}
    for index, state in enumerate(loc_state):
        state_locations.setdefault(state, []).append(index)
    foreign = np.array([i for i, state in enumerate(loc_state) if state not in US_STATES])
    home_states = sorted(s for s, locs in state_locations.items() if s in US_STATES and len(locs) >= 2)

    mcc_codes = np.array([int(code) for code in tables["mcc"]])
    counts = np.array([tables["mcc"][str(code)]["count"] for code in mcc_codes], dtype=float)
    online_share = np.array([tables["mcc"][str(code)]["online_share"] for code in mcc_codes])
    medians = np.array([tables["mcc"][str(code)]["median_amount"] for code in mcc_codes])
    # Small smoothing so every MCC can appear in both channels, as in the full file.
    offline_p = counts * (1 - online_share) + 0.5
    online_p = counts * online_share + 0.5
    offline_p /= offline_p.sum()
    online_p /= online_p.sum()

    n_loc = len(locations)
    n_offline = n_loc * MERCHANTS_PER_LOCATION
    mcc_index = np.concatenate([
        rng.choice(len(mcc_codes), size=n_offline, p=offline_p),
        rng.choice(len(mcc_codes), size=ONLINE_MERCHANTS, p=online_p),
    ])
    n_total = n_offline + ONLINE_MERCHANTS
    merchant_id = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=n_total, dtype=np.int64)
    merchant_loc = np.concatenate([np.repeat(np.arange(n_loc), MERCHANTS_PER_LOCATION), np.full(ONLINE_MERCHANTS, -1)])
    scale = medians[mcc_index] * rng.lognormal(0.0, 0.25, size=n_total)
    online_ids = np.arange(n_offline, n_total)
    rarity = 1.0 / np.sqrt(counts[mcc_index[online_ids]])
    return Universe(
        loc_state=loc_state, loc_city=loc_city, loc_zip=loc_zip, home_states=home_states,
        state_locations={s: np.array(v) for s, v in state_locations.items()}, foreign_locations=foreign,
        merchant_id=merchant_id, merchant_mcc=mcc_codes[mcc_index], merchant_loc=merchant_loc,
        merchant_scale=scale, online_ids=online_ids, online_fraud_p=rarity / rarity.sum(), mcc_codes=mcc_codes,
    )


@dataclass
class CardRows:
    minute: np.ndarray
    amount: np.ndarray
    channel: np.ndarray   # index into CHANNELS
    merchant: np.ndarray  # index into the universe
    error: np.ndarray     # index into ERROR_VALUES or -1
    fraud: np.ndarray     # bool

    @staticmethod
    def concat(parts: list[CardRows]) -> CardRows:
        return CardRows(*(np.concatenate([getattr(p, f) for p in parts]) for f in CardRows.__dataclass_fields__))

    def take(self, order: np.ndarray) -> CardRows:
        return CardRows(*(getattr(self, f)[order] for f in CardRows.__dataclass_fields__))


class UserModel:
    """One user's habits: home area, merchant pool, hours, cards."""

    def __init__(self, uni: Universe, rng: np.random.Generator, start: int, end: int):
        self.uni, self.rng = uni, rng
        self.home_state = uni.home_states[rng.integers(len(uni.home_states))]
        home_locs = uni.state_locations[self.home_state]
        home_locs = rng.permutation(home_locs)[: rng.integers(3, 9)]
        self.home_locs = home_locs
        loc_weight = 1.0 / np.arange(1, len(home_locs) + 1) ** 1.2
        # Habitual merchants: local ones around home plus a few online ones; Zipf-like use.
        n_local = int(rng.integers(25, 110))
        locs = rng.choice(home_locs, size=n_local, p=loc_weight / loc_weight.sum())
        local = locs * MERCHANTS_PER_LOCATION + rng.integers(0, MERCHANTS_PER_LOCATION, size=n_local)
        local = np.unique(local)
        online = rng.choice(uni.online_ids, size=int(rng.integers(3, 20)), replace=False)
        self.pool = np.concatenate([rng.permutation(local), online])
        weights_local = 1.0 / np.arange(1, len(local) + 1) ** 1.15
        weights_online = 1.0 / np.arange(1, len(online) + 1) ** 1.0
        online_share = rng.beta(2.0, 16.0)
        self.pool_p = np.concatenate([
            weights_local / weights_local.sum() * (1 - online_share),
            weights_online / weights_online.sum() * online_share,
        ])
        # Habitual hours: a few strong peaks on a daytime background (user 0: 46% of rows at 06:xx).
        background = np.where((np.arange(24) >= 6) & (np.arange(24) <= 22), 1.0, 0.08)
        peaks = np.zeros(24)
        n_peaks = int(rng.integers(2, 5))
        peaks[rng.choice(np.arange(5, 22), size=n_peaks, replace=False)] = rng.dirichlet(np.ones(n_peaks))
        hours_p = background / background.sum() + peaks * rng.uniform(1.0, 3.0)
        self.hours_p = hours_p / hours_p.sum()
        self.chip_p = rng.uniform(0.4, 0.8)
        self.error_rate = ERROR_RATE * rng.lognormal(0.0, 0.5)
        self.start, self.end = start, end

    def cards(self) -> list[tuple[int, int, int, float, int]]:
        """(card index, first minute, last minute, transactions per day, chip minute) per card."""
        rng = self.rng
        n_cards = 1 + min(8, int(rng.poisson(2.07)))
        out = []
        for card in range(n_cards):
            opened = int(rng.integers(FIRST_MINUTE, LAST_MINUTE - 180 * MINUTES_PER_DAY))
            if rng.random() < 0.85:
                closed = LAST_MINUTE
            else:
                closed = min(LAST_MINUTE, opened + int(rng.exponential(3 * 365) * MINUTES_PER_DAY) + MINUTES_PER_DAY)
            first, last = max(opened, self.start), min(closed, self.end)
            if last - first < MINUTES_PER_DAY:
                continue
            rate = float(rng.lognormal(np.log(0.75), 0.6))
            chip_minute = max(opened, CHIP_ERA_MINUTE + int(rng.integers(0, 540)) * MINUTES_PER_DAY)
            out.append((card, first, last, rate, chip_minute))
        return out

    def _minutes(self, first: int, last: int, n: int) -> np.ndarray:
        rng = self.rng
        days = rng.integers(first // MINUTES_PER_DAY, last // MINUTES_PER_DAY + 1, size=n)
        minute_of_day = rng.choice(24, size=n, p=self.hours_p) * 60 + rng.integers(0, 60, size=n)
        minutes = np.clip(days * MINUTES_PER_DAY + minute_of_day, first, last)
        return np.sort(minutes)

    def _channels(self, merchants: np.ndarray, minutes: np.ndarray, chip_minute: int, chip_p: float) -> np.ndarray:
        online = self.uni.merchant_loc[merchants] < 0
        chip = (minutes >= chip_minute) & (self.rng.random(len(minutes)) < chip_p)
        return np.where(online, 2, np.where(chip, 1, 0))

    def _errors(self, n: int) -> np.ndarray:
        rng = self.rng
        has_error = rng.random(n) < self.error_rate
        return np.where(has_error, rng.choice(len(ERROR_VALUES), size=n, p=ERROR_WEIGHTS), -1)

    def normal_rows(self, first: int, last: int, rate: float, chip_minute: int) -> CardRows:
        rng, uni = self.rng, self.uni
        n = int(rng.poisson(rate * (last - first) / MINUTES_PER_DAY))
        minutes = self._minutes(first, last, n)
        merchants = self.pool[rng.choice(len(self.pool), size=n, p=self.pool_p)]
        # Occasional one-off local merchants, and trips (other states, abroad) where card-present use moves.
        one_off = rng.random(n) < 0.03
        if one_off.any():
            locs = rng.choice(self.home_locs, size=int(one_off.sum()))
            merchants[one_off] = locs * MERCHANTS_PER_LOCATION + rng.integers(0, MERCHANTS_PER_LOCATION, len(locs))
        n_trips = int(rng.poisson(0.4 * (last - first) / MINUTES_PER_DAY / 365))
        for _ in range(n_trips):
            begin = int(rng.integers(first, last))
            stop = begin + int(rng.integers(2, 9)) * MINUTES_PER_DAY
            if rng.random() < 0.3 and len(uni.foreign_locations):
                loc = int(rng.choice(uni.foreign_locations))
            else:
                loc = int(rng.integers(len(uni.loc_state)))
            on_trip = (minutes >= begin) & (minutes <= stop) & (uni.merchant_loc[merchants] >= 0)
            merchants[on_trip] = loc * MERCHANTS_PER_LOCATION + rng.integers(0, 8, size=int(on_trip.sum()))
        channel = self._channels(merchants, minutes, chip_minute, self.chip_p)
        amount = np.round(uni.merchant_scale[merchants] * rng.lognormal(0.0, 0.55, size=n), 2)
        # Refunds: a whole-dollar credit of an earlier purchase at the same merchant, shortly after it.
        source_all = np.arange(n) - np.minimum(rng.integers(1, 5, size=n), np.arange(n))
        refund = rng.random(n) < np.array([REFUND_RATE[c] for c in CHANNELS])[channel[source_all]]
        refund[0:1] = False
        idx = np.flatnonzero(refund)
        if len(idx):
            source = source_all[idx]
            merchants[idx] = merchants[source]
            channel[idx] = channel[source]
            amount[idx] = -np.minimum(np.round(np.abs(amount[source])), 500.0)
        return CardRows(minutes, amount, channel, merchants, self._errors(n), np.zeros(n, dtype=bool))

    def burst_rows(self, first: int, last: int, chip_minute: int) -> CardRows:
        """One fraud episode on a card: hours to days, new merchants, rarely used MCCs, maybe a refund."""
        rng, uni = self.rng, self.uni
        size = int(rng.geometric(1.0 / (MEAN_BURST_SIZE - 0.3)))
        start = int(rng.integers(first, last))
        duration = float(rng.lognormal(np.log(1.5 * MINUTES_PER_DAY), 0.9))
        minutes = np.sort(start + (rng.beta(0.7, 1.5, size=size) * duration).astype(np.int64))
        if rng.random() < ONLINE_BURST_SHARE:
            merchants = rng.choice(uni.online_ids, size=size, p=uni.online_fraud_p)
        else:
            if rng.random() < 0.6:
                loc = int(rng.choice(uni.state_locations[self.home_state]))
            else:
                loc = int(rng.integers(len(uni.loc_state)))
            merchants = uni.location_merchants(loc)[rng.integers(0, MERCHANTS_PER_LOCATION, size=size)]
        # Fraudsters often hit the same merchant twice in a row.
        repeat = np.flatnonzero(rng.random(size) < 0.2)
        repeat = repeat[repeat > 0]
        merchants[repeat] = merchants[repeat - 1]
        channel = self._channels(merchants, minutes, chip_minute, 0.8)
        amount = np.round(uni.merchant_scale[merchants] * rng.lognormal(0.1, 0.6, size=size), 2)
        rows = CardRows(minutes, amount, channel, merchants, self._errors(size), np.ones(size, dtype=bool))
        if rng.random() < 0.35:
            source = int(rng.integers(size))
            refund = CardRows(
                np.array([minutes[-1] + int(rng.integers(5, 3 * MINUTES_PER_DAY))]),
                np.array([-min(round(abs(amount[source])), 500.0)]), channel[source:source + 1],
                merchants[source:source + 1], self._errors(1), np.ones(1, dtype=bool),
            )
            rows = CardRows.concat([rows, refund])
        return rows

    def card_rows(self, first: int, last: int, rate: float, chip_minute: int) -> CardRows:
        rows = self.normal_rows(first, last, rate, chip_minute)
        parts = [rows]
        fraud_first = max(first, FIRST_FRAUD_MINUTE)
        if fraud_first < last - MINUTES_PER_DAY:
            eligible = int(np.count_nonzero(rows.minute >= fraud_first))
            for _ in range(int(self.rng.poisson(FRAUD_RATE * eligible / MEAN_BURST_SIZE))):
                parts.append(self.burst_rows(fraud_first, last - MINUTES_PER_DAY, chip_minute))
        rows = CardRows.concat(parts)
        rows.minute = np.clip(rows.minute, first, last)
        return rows.take(np.argsort(rows.minute, kind="stable"))


def generate_user(uni: Universe, seed: int, user: int, start: int, end: int) -> list[tuple[int, CardRows]]:
    rng = np.random.default_rng([seed, user])
    model = UserModel(uni, rng, start, end)
    return [(card, model.card_rows(first, last, rate, chip)) for card, first, last, rate, chip in model.cards()]


def format_rows(uni: Universe, user: int, card: int, rows: CardRows) -> list[str]:
    days = rows.minute // MINUTES_PER_DAY
    dates = (EPOCH_DAY + days.astype("timedelta64[D]")).astype(str)
    minute_of_day = rows.minute - days * MINUTES_PER_DAY
    loc = uni.merchant_loc[rows.merchant]
    out = []
    prefix = f"{user},{card},"
    for i in range(len(rows.minute)):
        year, month, day = dates[i].split("-")
        location = loc[i]
        if rows.channel[i] == 2 or location < 0:
            place = "ONLINE,,"
        else:
            zip_code = uni.loc_zip[location]
            place = f"{uni.loc_city[location]},{uni.loc_state[location]},{'' if zip_code is None else f'{zip_code}.0'}"
        error = rows.error[i]
        error_text = "" if error < 0 else ERROR_VALUES[error]
        if "," in error_text:
            error_text = f'"{error_text}"'
        mod = int(minute_of_day[i])
        out.append(
            f"{prefix}{int(year)},{int(month)},{int(day)},{mod // 60:02d}:{mod % 60:02d},${rows.amount[i]:.2f},"
            f"{CHANNELS[rows.channel[i]]},{uni.merchant_id[rows.merchant[i]]},{place},"
            f"{uni.merchant_mcc[rows.merchant[i]]},{error_text},{'Yes' if rows.fraud[i] else 'No'}\n"
        )
    return out


def year_bounds(start_year: int | None, end_year: int | None) -> tuple[int, int]:
    start = FIRST_MINUTE
    end = LAST_MINUTE
    if start_year is not None:
        start = max(start, int((np.datetime64(f"{start_year}-01-01", "D") - EPOCH_DAY).astype(int)) * MINUTES_PER_DAY)
    if end_year is not None:
        end = min(end, int((np.datetime64(f"{end_year + 1}-01-01", "D") - EPOCH_DAY).astype(int)) * MINUTES_PER_DAY - 1)
    if end <= start:
        raise ValueError("the year range is empty")
    return start, end


def synthesize(out: Path, users: int, seed: int, *, start_year: int | None = None, end_year: int | None = None,
               first_user: int = 0, progress: bool = False) -> dict:
    """Write users [first_user, first_user+users) to `out` (.csv or .csv.gz). Returns row and fraud counts."""
    if users < 1:
        raise ValueError("users must be >= 1")
    start, end = year_bounds(start_year, end_year)
    uni = build_universe(seed)
    opener = gzip.open if str(out).endswith(".gz") else open
    rows = frauds = 0
    user_iter = range(first_user, first_user + users)
    if progress:
        try:
            from tqdm import tqdm
            user_iter = tqdm(user_iter, desc="users", unit="user")
        except ImportError:  # serving installs have no tqdm; progress is optional
            pass
    out.parent.mkdir(parents=True, exist_ok=True)
    with opener(out, "wt", newline="") as handle:
        handle.write(",".join(HEADER) + "\n")
        for user in user_iter:
            for card, card_rows in generate_user(uni, seed, user, start, end):
                handle.writelines(format_rows(uni, user, card, card_rows))
                rows += len(card_rows.minute)
                frauds += int(card_rows.fraud.sum())
    return {"rows": rows, "fraud_rows": frauds, "fraud_rate": frauds / max(rows, 1), "out": str(out)}
