"""Transaction features shared by training and serving (one implementation, so both compute the same numbers).

* Static features: the transaction alone, through encoders fitted on training rows only (unseen values fall back
  to a prior or zero).
* History features: what the card did before (time since its last transaction, merchant/MCC/city new for the card,
  amount against its recent amounts, counts in the last hour/day/week). They are computed by `CardState.step`,
  which training runs over the whole file in order and the server runs against its SQLite store.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .schema import ERROR_FLAGS, US_STATES

MINUTES_PER_DAY = 1440
WINDOW = 7
STATIC_NAMES = [
    "amount_log", "is_refund", "hour_sin", "hour_cos", "dow_sin", "dow_cos", "swipe", "chip", "online", "foreign",
    *[f"error_{flag.lower().replace(' ', '_')}" for flag in ERROR_FLAGS],
    "mcc_fraud_rate_log", "mcc_freq_log", "merchant_freq_log", "city_freq_log",
]
HISTORY_NAMES = [
    "minutes_since_last_log", "merchant_new", "mcc_new", "city_new", "amount_vs_recent", "count_1h_log",
    "count_24h_log", "count_7d_log", "new_merchants_24h_log", "online_24h_log", "card_count_log",
]
FEATURE_NAMES = STATIC_NAMES + HISTORY_NAMES
FIRST_GAP = 30 * MINUTES_PER_DAY   # a card's first transaction looks like one after a long pause
RECENT_AMOUNTS = 10
RECENT_EVENTS_CAP = 500            # bounded state even for very busy cards


def error_mask(errors: str) -> int:
    """`Errors?` text -> bit mask over ERROR_FLAGS (an unknown reason raises ValueError)."""
    if not errors:
        return 0
    mask = 0
    for raw in errors.split(","):
        part = raw.strip()
        if part not in ERROR_FLAGS:
            raise ValueError(f"unknown error reason {part!r}")
        mask |= 1 << ERROR_FLAGS.index(part)
    return mask


def city_key(city: str, state: str) -> str:
    return "ONLINE" if city == "ONLINE" else f"{city}|{state}"


def is_foreign(city: str, state: str) -> bool:
    return city != "ONLINE" and bool(state) and state not in US_STATES


@dataclass
class Columns:
    """Transactions in canonical columnar form (both the CSV reader and the API produce this)."""

    card_key: np.ndarray   # int64: user * 16 + card
    minute: np.ndarray     # int64 minutes since 1970-01-01
    amount: np.ndarray     # float64
    channel: np.ndarray    # int8 index into schema.CHANNELS
    merchant: np.ndarray   # int64 merchant id
    mcc: np.ndarray        # int32
    city: list[str]        # city_key()
    foreign: np.ndarray    # bool
    errors: np.ndarray     # uint8 bit mask over ERROR_FLAGS

    def __len__(self) -> int:
        return len(self.minute)


def card_key(user: int, card: int) -> int:
    return int(user) * 16 + int(card)


# ------------------------------------------------------------------ static features
@dataclass
class StaticEncoder:
    """Encoders fitted on training rows only; lookups of unseen values fall back to the prior or zero."""

    mcc_rate: dict[str, float] = field(default_factory=dict)
    mcc_prior: float = 0.0
    mcc_freq: dict[str, float] = field(default_factory=dict)
    merchant_freq: dict[str, float] = field(default_factory=dict)
    city_freq: dict[str, float] = field(default_factory=dict)

    SMOOTHING = 200.0   # pseudo-rows of the global rate in each MCC's fraud rate

    @classmethod
    def fit(cls, cols: Columns, labels: np.ndarray) -> StaticEncoder:
        prior = float(labels.mean()) if len(labels) else 0.0
        mcc_total = Counter(cols.mcc.tolist())
        mcc_fraud = Counter(cols.mcc[labels.astype(bool)].tolist())
        mcc_rate = {
            str(m): math.log((mcc_fraud[m] + cls.SMOOTHING * prior) / (n + cls.SMOOTHING) + 1e-6)
            for m, n in mcc_total.items()
        }
        return cls(
            mcc_rate=mcc_rate,
            mcc_prior=math.log(prior + 1e-6),
            mcc_freq={str(m): math.log1p(n) for m, n in mcc_total.items()},
            merchant_freq={str(m): math.log1p(n) for m, n in Counter(cols.merchant.tolist()).items()},
            city_freq={c: math.log1p(n) for c, n in Counter(cols.city).items()},
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("mcc_rate", "mcc_prior", "mcc_freq", "merchant_freq", "city_freq")}

    @classmethod
    def from_dict(cls, data: dict) -> StaticEncoder:
        return cls(**data)

    def transform(self, cols: Columns) -> np.ndarray:
        n = len(cols)
        out = np.zeros((n, len(STATIC_NAMES)), dtype=np.float32)
        amount = cols.amount
        out[:, 0] = np.sign(amount) * np.log1p(np.abs(amount))
        out[:, 1] = amount < 0
        day = cols.minute // MINUTES_PER_DAY
        hour = (cols.minute - day * MINUTES_PER_DAY) / 60.0
        dow = (day + 3) % 7   # 1970-01-01 was a Thursday; Monday = 0
        out[:, 2] = np.sin(2 * np.pi * hour / 24)
        out[:, 3] = np.cos(2 * np.pi * hour / 24)
        out[:, 4] = np.sin(2 * np.pi * dow / 7)
        out[:, 5] = np.cos(2 * np.pi * dow / 7)
        out[np.arange(n), 6 + cols.channel.astype(np.int64)] = 1.0
        out[:, 9] = cols.foreign
        for bit in range(len(ERROR_FLAGS)):
            out[:, 10 + bit] = (cols.errors >> bit) & 1
        base = 10 + len(ERROR_FLAGS)
        mccs = [str(m) for m in cols.mcc.tolist()]
        out[:, base] = [self.mcc_rate.get(m, self.mcc_prior) for m in mccs]
        out[:, base + 1] = [self.mcc_freq.get(m, 0.0) for m in mccs]
        out[:, base + 2] = [self.merchant_freq.get(str(m), 0.0) for m in cols.merchant.tolist()]
        out[:, base + 3] = [self.city_freq.get(c, 0.0) for c in cols.city]
        return out


# ------------------------------------------------------------------ history features
@dataclass
class CardState:
    """What the scorer remembers about a card (serialisable to JSON for the SQLite store)."""

    last_minute: int | None = None
    count: int = 0
    recent: list[list[int]] = field(default_factory=list)      # [minute, merchant_new, online] within 7 days
    amounts: list[float] = field(default_factory=list)         # log1p(|amount|) of the last transactions
    window: list[list[float]] = field(default_factory=list)    # feature rows of the last WINDOW-1 transactions

    def to_dict(self) -> dict:
        return {"last_minute": self.last_minute, "count": self.count, "recent": self.recent,
                "amounts": self.amounts, "window": self.window}

    @classmethod
    def from_dict(cls, data: dict) -> CardState:
        return cls(last_minute=data["last_minute"], count=data["count"], recent=[list(e) for e in data["recent"]],
                   amounts=list(data["amounts"]), window=[list(r) for r in data["window"]])

    def step(self, minute: int, amount: float, *, merchant_new: bool, mcc_new: bool, city_new: bool,
             online: bool) -> list[float]:
        """History features of the next transaction, then fold it into the state."""
        gap = FIRST_GAP if self.last_minute is None else max(minute - self.last_minute, 0)
        week_ago = minute - 7 * MINUTES_PER_DAY
        recent = self.recent
        drop = 0
        while drop < len(recent) and recent[drop][0] < week_ago:
            drop += 1
        if drop:
            del recent[:drop]
        hour_ago, day_ago = minute - 60, minute - MINUTES_PER_DAY
        n_1h = n_24h = new_24h = online_24h = 0
        for event_minute, was_new, was_online in recent:
            if event_minute >= day_ago:
                n_24h += 1
                new_24h += was_new
                online_24h += was_online
                if event_minute >= hour_ago:
                    n_1h += 1
        log_amount = math.log1p(abs(amount))
        amount_vs_recent = log_amount - sum(self.amounts) / len(self.amounts) if self.amounts else 0.0
        features = [
            math.log1p(gap), float(merchant_new), float(mcc_new), float(city_new), amount_vs_recent,
            math.log1p(n_1h), math.log1p(n_24h), math.log1p(len(recent)), math.log1p(new_24h),
            math.log1p(online_24h), math.log1p(min(self.count, 1000)),
        ]
        recent.append([int(minute), int(merchant_new), int(online)])
        if len(recent) > RECENT_EVENTS_CAP:
            del recent[0]
        self.amounts.append(log_amount)
        if len(self.amounts) > RECENT_AMOUNTS:
            del self.amounts[0]
        self.last_minute = int(minute)
        self.count += 1
        return features

    def push_window(self, row: list[float]) -> None:
        self.window.append(row)
        if len(self.window) > WINDOW - 1:
            del self.window[0]


class SeenSets:
    """Merchants, MCCs and cities each card has used (in-memory; the server keeps them in SQLite)."""

    def __init__(self) -> None:
        self._seen: dict[int, tuple[set, set, set]] = {}

    def check_and_add(self, key: int, merchant: int, mcc: int, city: str) -> tuple[bool, bool, bool]:
        sets = self._seen.get(key)
        if sets is None:
            sets = self._seen[key] = (set(), set(), set())
        flags = (merchant not in sets[0], mcc not in sets[1], city not in sets[2])
        sets[0].add(merchant)
        sets[1].add(mcc)
        sets[2].add(city)
        return flags


def history_features(cols: Columns, states: dict[int, CardState] | None = None,
                     seen: SeenSets | None = None) -> np.ndarray:
    """History features for rows in file order (per card chronological); states carry over between chunks."""
    states = {} if states is None else states
    seen = SeenSets() if seen is None else seen
    out = np.zeros((len(cols), len(HISTORY_NAMES)), dtype=np.float32)
    keys, minutes, amounts = cols.card_key.tolist(), cols.minute.tolist(), cols.amount.tolist()
    merchants, mccs, online = cols.merchant.tolist(), cols.mcc.tolist(), (cols.channel == 2).tolist()
    for i, key in enumerate(keys):
        state = states.get(key)
        if state is None:
            state = states[key] = CardState()
        new_merchant, new_mcc, new_city = seen.check_and_add(key, merchants[i], mccs[i], cols.city[i])
        out[i] = state.step(minutes[i], amounts[i], merchant_new=new_merchant, mcc_new=new_mcc, city_new=new_city,
                            online=online[i])
    return out


@dataclass
class Scaler:
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Scaler:
        std = x.std(axis=0)
        return cls(x.mean(axis=0).astype(np.float32), np.where(std > 1e-6, std, 1.0).astype(np.float32))

    def transform(self, x: np.ndarray, inplace: bool = False) -> np.ndarray:
        if inplace and x.dtype == np.float32:
            x -= self.mean
            x /= self.std
            return x
        return ((x - self.mean) / self.std).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        return cls(np.asarray(data["mean"], dtype=np.float32), np.asarray(data["std"], dtype=np.float32))


def window_positions(card_key: np.ndarray) -> np.ndarray:
    """Index of each row within its card's run of rows (rows are grouped by card, chronological)."""
    n = len(card_key)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[True, card_key[1:] != card_key[:-1]]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    return np.arange(n) - run_start


def gather_windows(x: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(len(ends), WINDOW, F) windows of rows ends-6..ends; callers only pass rows with position >= 6."""
    return x[ends[:, None] + np.arange(-WINDOW + 1, 1)[None, :]]
