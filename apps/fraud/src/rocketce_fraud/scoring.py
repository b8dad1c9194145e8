"""Scoring against stored card history: stream events update it, batches only read it."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np

from .bundle import ModelBundle
from .features import WINDOW, CardState, Columns
from .store import HistoryStore


class OutOfOrderError(ValueError):
    """A stream event older than the newest event stored for its card."""


@dataclass
class Result:
    score: float
    fraud: bool
    model: str
    card_history: int


class Scorer:
    def __init__(self, bundle: ModelBundle, store: HistoryStore):
        self.bundle, self.store = bundle, store

    def _row(self, static: np.ndarray, state: CardState, cols: Columns, i: int, flags: tuple[bool, bool, bool]):
        hist = state.step(int(cols.minute[i]), float(cols.amount[i]), merchant_new=flags[0], mcc_new=flags[1],
                          city_new=flags[2], online=bool(cols.channel[i] == 2))
        row = np.concatenate([static, np.asarray(hist, dtype=np.float32)])
        window = np.asarray(state.window + [row.tolist()], dtype=np.float32) if len(state.window) == WINDOW - 1 \
            else None
        state.push_window(row.tolist())
        return row, window

    def stream(self, cols: Columns, event_id: str | None = None) -> Result:
        """Score one event and fold it into its card's history in one transaction holding the card's lock.

        With an `event_id`, an event the card already has answers its stored result (a client retrying on another
        instance after a timeout gets the same score, and the history counts the event once).
        """
        key = int(cols.card_key[0])
        static = self.bundle.encoder.transform(cols)[0]
        with self.store.card(key) as session:
            state = session.load_state(key, for_update=True)   # the lock: checked and scored on this history
            if event_id is not None:
                stored = session.find_event(key, event_id)
                if stored is not None:
                    return Result(**stored)
            if state.last_minute is not None and int(cols.minute[0]) < state.last_minute:
                raise OutOfOrderError("event is older than the newest stored event of this card")
            known = state.count
            merchant, mcc, city = int(cols.merchant[0]), int(cols.mcc[0]), cols.city[0]
            seen = session.seen(key, merchant, mcc, city)
            row, window = self._row(static, state, cols, 0, tuple(not s for s in seen))
            scores, models = self.bundle.score(row[None, :], [window])
            score = float(scores[0])
            result = Result(score, bool(score >= self.bundle.threshold), models[0], known)
            session.add_seen(key, merchant, mcc, city)
            session.save_state(key, state)
            if event_id is not None:
                session.save_event(key, event_id, asdict(result))
        return result

    def batch(self, cols: Columns) -> list[Result]:
        """Score a batch in its own order per card, on top of (a copy of) the stored history."""
        n = len(cols)
        order = np.lexsort((np.arange(n), cols.minute, cols.card_key))
        static = self.bundle.encoder.transform(cols)
        rows = np.zeros((n, len(self.bundle.scaler.mean)), dtype=np.float32)
        windows: list[np.ndarray | None] = [None] * n
        known = [0] * n
        states: dict[int, CardState] = {}
        batch_seen: dict[int, tuple[set, set, set]] = {}
        with self.store.reader() as session:
            for i in order.tolist():
                key = int(cols.card_key[i])
                if key not in states:
                    states[key] = copy.deepcopy(session.load_state(key))
                    batch_seen[key] = (set(), set(), set())
                state, extra = states[key], batch_seen[key]
                merchant, mcc, city = int(cols.merchant[i]), int(cols.mcc[i]), cols.city[i]
                stored = session.seen(key, merchant, mcc, city)
                flags = (not (stored[0] or merchant in extra[0]), not (stored[1] or mcc in extra[1]),
                         not (stored[2] or city in extra[2]))
                extra[0].add(merchant)
                extra[1].add(mcc)
                extra[2].add(city)
                known[i] = state.count
                rows[i], windows[i] = self._row(static[i], state, cols, i, flags)
        scores, models = self.bundle.score(rows, windows)
        threshold = self.bundle.threshold
        return [Result(float(s), bool(s >= threshold), m, k) for s, m, k in zip(scores, models, known)]
