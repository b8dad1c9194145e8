"""Model inference in plain numpy: the serving install needs neither TensorFlow nor xgboost.

`LSTMRuntime` is the Keras LSTM(tanh/sigmoid) -> Dense(relu) -> Dense(sigmoid) forward pass from the saved weights;
`ForestRuntime` evaluates an XGBoost binary:logistic booster from its JSON model. Tests check both against the
training libraries.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class LSTMRuntime:
    def __init__(self, weights: dict[str, np.ndarray]):
        self.kernel = weights["lstm_kernel"].astype(np.float32)            # (F, 4U), gates i, f, c, o
        self.recurrent = weights["lstm_recurrent"].astype(np.float32)      # (U, 4U)
        self.bias = weights["lstm_bias"].astype(np.float32)                # (4U,)
        self.dense_w = weights["dense_kernel"].astype(np.float32)
        self.dense_b = weights["dense_bias"].astype(np.float32)
        self.out_w = weights["out_kernel"].astype(np.float32)
        self.out_b = weights["out_bias"].astype(np.float32)
        self.units = self.recurrent.shape[0]

    @classmethod
    def load(cls, path: Path) -> LSTMRuntime:
        with np.load(path) as data:
            return cls({k: data[k] for k in data.files})

    def predict(self, windows: np.ndarray) -> np.ndarray:
        """windows: (n, steps, F) scaled features -> (n,) fraud probability."""
        n, steps, _ = windows.shape
        u = self.units
        h = np.zeros((n, u), dtype=np.float32)
        c = np.zeros((n, u), dtype=np.float32)
        x_proj = windows.astype(np.float32) @ self.kernel + self.bias       # all steps at once
        for t in range(steps):
            z = x_proj[:, t, :] + h @ self.recurrent
            i = _sigmoid(z[:, :u])
            f = _sigmoid(z[:, u:2 * u])
            g = np.tanh(z[:, 2 * u:3 * u])
            o = _sigmoid(z[:, 3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
        hidden = np.maximum(h @ self.dense_w + self.dense_b, 0.0)
        return _sigmoid(hidden @ self.out_w + self.out_b)[:, 0]


class ForestRuntime:
    """All trees padded into (trees, nodes) arrays and walked level by level, vectorised over rows and trees."""

    def __init__(self, model: dict):
        learner = model["learner"]
        objective = learner["objective"]["name"]
        if objective != "binary:logistic":
            raise ValueError(f"unsupported XGBoost objective {objective}")
        base_score = float(str(learner["learner_model_param"]["base_score"]).strip("[]"))
        self.base_margin = float(np.log(base_score / (1 - base_score)))
        trees = learner["gradient_booster"]["model"]["trees"]
        n_nodes = max(len(t["left_children"]) for t in trees)
        shape = (len(trees), n_nodes)
        self.left = np.full(shape, -1, dtype=np.int32)
        self.right = np.full(shape, -1, dtype=np.int32)
        self.feature = np.zeros(shape, dtype=np.int32)
        self.threshold = np.zeros(shape, dtype=np.float32)
        self.default_left = np.zeros(shape, dtype=bool)
        for t, tree in enumerate(trees):
            k = len(tree["left_children"])
            self.left[t, :k] = tree["left_children"]
            self.right[t, :k] = tree["right_children"]
            self.feature[t, :k] = tree["split_indices"]
            self.threshold[t, :k] = tree["split_conditions"]   # the leaf value on leaves
            self.default_left[t, :k] = np.asarray(tree["default_left"], dtype=bool)
        self.is_leaf = self.left < 0
        self.depth = self._max_depth()
        self.tree_index = np.arange(len(trees))[None, :]

    def _max_depth(self) -> int:
        depth = np.zeros(self.left.shape, dtype=np.int32)
        best = 0
        for t in range(self.left.shape[0]):
            stack = [(0, 0)]
            while stack:
                node, d = stack.pop()
                best = max(best, d)
                if self.left[t, node] >= 0:
                    stack.append((int(self.left[t, node]), d + 1))
                    stack.append((int(self.right[t, node]), d + 1))
            depth[t] = best
        return best

    @classmethod
    def load(cls, path: Path) -> ForestRuntime:
        return cls(json.loads(Path(path).read_text()))

    def predict(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        node = np.zeros((x.shape[0], self.left.shape[0]), dtype=np.int32)
        rows = np.arange(x.shape[0])[:, None]
        for _ in range(self.depth):
            feat = self.feature[self.tree_index, node]
            value = x[rows, feat]
            go_left = np.where(np.isnan(value), self.default_left[self.tree_index, node],
                               value < self.threshold[self.tree_index, node])
            nxt = np.where(go_left, self.left[self.tree_index, node], self.right[self.tree_index, node])
            node = np.where(self.is_leaf[self.tree_index, node], node, nxt)
        margin = self.threshold[self.tree_index, node].sum(axis=1, dtype=np.float64) + self.base_margin
        return _sigmoid(margin)
