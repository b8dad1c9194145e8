"""The numpy runtimes must give what TensorFlow/Keras and xgboost give for the same models."""

from __future__ import annotations

import numpy as np
from rocketce_fraud.runtime import ForestRuntime, LSTMRuntime
from rocketce_fraud.train import lstm_weights


def test_forest_runtime_matches_xgboost(tmp_path):
    import xgboost as xgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 12)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 3] * x[:, 5] + rng.normal(scale=0.5, size=3000) > 1.2).astype(int)
    x[rng.random(x.shape) < 0.02] = np.nan   # missing values follow each split's default direction
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 5, "eta": 0.3, "nthread": 1},
                        xgb.DMatrix(x, label=y), num_boost_round=40)
    booster.save_model(tmp_path / "m.json")
    expected = booster.predict(xgb.DMatrix(x))
    got = ForestRuntime.load(tmp_path / "m.json").predict(x)
    assert np.max(np.abs(got - expected)) < 1e-5


def test_lstm_runtime_matches_keras():
    import keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input(shape=(7, 9)),
        keras.layers.LSTM(8, name="lstm"),
        keras.layers.Dense(4, activation="relu", name="dense"),
        keras.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    # Non-trivial biases so every gate and the ReLU matter.
    for layer in model.layers:
        layer.set_weights([w + np.random.default_rng(2).normal(scale=0.3, size=w.shape) for w in layer.get_weights()])
    windows = np.random.default_rng(3).normal(size=(64, 7, 9)).astype(np.float32)
    expected = model.predict(windows, verbose=0)[:, 0]
    got = LSTMRuntime(lstm_weights(model)).predict(windows)
    assert np.max(np.abs(got - expected)) < 1e-5
    assert np.std(expected) > 0.01
