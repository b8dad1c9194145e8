"""The guide's IDS server (shared/seed, "Deployment" of the intrusion detection app), rebuilt faithfully.

    python bench/baselines/guide_ids.py --model artifacts/models/ids --port 24201

Per request it does what the guide's Flask server does, in the same order: `request.get_json()`, a one-row pandas
DataFrame with columns feature_0..feature_40, the saved sklearn LabelEncoders on feature_1..3 (an unknown value is
a 400, as in the guide), the saved StandardScaler on `input_df.values`, a torch tensor, the torch autoencoder
(`torch.nn.Linear`/`ReLU`, state dict loaded with `torch.load`), `torch.mean(...).item()` and `jsonify`, on the
Flask development server (`app.run`, threaded as Flask's default).

Same model as the project: scaler.pkl, label_encoders.pkl and autoencoder.pth are written at start from the
project's model directory (its vocabularies, min/span scaling and autoencoder weights), so both servers give the
same reconstruction error (bench/ids_serve_bench.py checks that before timing anything). Two small numpy steps
adapt the guide's 41 label-encoded columns to the project's input layout: log1p on the heavy-tailed columns
before the scaler, and the one-hot columns of the three category codes after it. They make the baseline slightly
*faster* than the guide (the guide has no such steps but the same DataFrame/sklearn/torch calls), never slower.
The threshold is the model's (the guide hand-copied one; that defect stays fixed).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

N = 41
CATEGORICAL = (1, 2, 3)  # protocol_type, service, flag: the guide's feature_1..feature_3


def export_guide_artifacts(model_dir: Path, out: Path) -> dict:
    """Write the guide's scaler.pkl, label_encoders.pkl and autoencoder.pth for the project's model."""
    import joblib
    import torch
    from rocketce_ids.model import IdsModel
    from rocketce_ids.schema import CATEGORICAL_FEATURES, FEATURE_NAMES
    from sklearn.preprocessing import LabelEncoder, StandardScaler

    model = IdsModel.load(model_dir)
    pre = model.preprocessor
    encoders = {}
    for i, name in zip(CATEGORICAL, CATEGORICAL_FEATURES):
        encoder = LabelEncoder()
        encoder.fit(pre.vocabularies[name])  # sorted vocabulary: code = position, as in the project
        encoders[f"feature_{i}"] = encoder
    # StandardScaler over all 41 columns: (x - mean_) / scale_ = the project's (x - min) / span on the kept numeric
    # columns; identity on the category codes and on the columns the project drops (constant in training).
    mean, scale = np.zeros(N), np.ones(N)
    kept = [FEATURE_NAMES.index(n) for n in pre.kept_numeric]
    mean[kept], scale[kept] = pre.minimum, pre.span
    scaler = StandardScaler()
    scaler.fit(np.zeros((2, N)))  # sets n_features_in_ and the fitted attributes, overwritten next
    scaler.mean_, scaler.scale_, scaler.var_ = mean, scale, scale ** 2
    joblib.dump(scaler, out / "scaler.pkl")
    joblib.dump(encoders, out / "label_encoders.pkl")
    sizes = [model.autoencoder.weights[0].shape[0], *(w.shape[1] for w in model.autoencoder.weights)]
    net = build_autoencoder(torch, sizes)
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        for layer, w, b in zip(linear, model.autoencoder.weights, model.autoencoder.biases):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
            layer.bias.copy_(torch.from_numpy(b))
    torch.save(net.state_dict(), out / "autoencoder.pth")
    glue = {
        "sizes": sizes,
        "log_columns": [FEATURE_NAMES.index(n) for n, log in zip(pre.kept_numeric, pre.log_scaled) if log],
        "kept": kept,
        "onehot_offsets": [int(x) for x in pre._offsets],  # noqa: SLF001 - the layout the networks were trained on
        "width": pre.n_outputs,
        "threshold": model.ae_threshold,
    }
    (out / "glue.json").write_text(json.dumps(glue), encoding="utf-8")
    return glue


def build_autoencoder(torch, sizes: list[int]):
    """The guide's Autoencoder (Linear + ReLU, linear output), at the project's layer sizes."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def create_app(artifacts: Path):
    # ---- from here on, the guide's server (comments mark the two adaptation steps) ----
    import joblib
    import pandas as pd
    import torch
    from flask import Flask, jsonify, request

    scaler = joblib.load(artifacts / "scaler.pkl")
    label_encoders = joblib.load(artifacts / "label_encoders.pkl")
    glue = json.loads((artifacts / "glue.json").read_text(encoding="utf-8"))
    model = build_autoencoder(torch, glue["sizes"])
    model.load_state_dict(torch.load(artifacts / "autoencoder.pth"))
    model.eval()
    threshold = glue["threshold"]
    log_columns = np.array(glue["log_columns"])
    kept = np.array(glue["kept"])
    offsets = np.array(glue["onehot_offsets"]) + len(kept)
    width = glue["width"]

    app = Flask(__name__)

    @app.route("/predict", methods=["POST"])
    def predict():
        data = request.get_json()
        features = data.get("features")

        if not features or len(features) != N:
            return jsonify({"error": "Must provide 41 raw features"}), 400

        input_df = pd.DataFrame([features], columns=[f"feature_{i}" for i in range(N)])

        for col in ["feature_1", "feature_2", "feature_3"]:
            le = label_encoders.get(col)
            if le:
                try:
                    input_df[col] = le.transform(input_df[col])
                except ValueError as e:
                    return jsonify({"error": f"Invalid value for {col}: {e}"}), 400
            else:
                return jsonify({"error": f"Missing label encoder for {col}"}), 500

        try:
            values = input_df.values.astype(np.float64)
            values[:, log_columns] = np.log1p(np.maximum(values[:, log_columns], 0.0))  # adaptation 1: log1p
            X_scaled = scaler.transform(values)
        except Exception as e:  # noqa: BLE001 - the guide's handler
            return jsonify({"error": f"Scaling failed: {str(e)}"}), 500

        # adaptation 2: the project's network input (kept numeric columns, then one-hot category codes)
        x = np.zeros((1, width), dtype=np.float32)
        x[0, : len(kept)] = np.clip(X_scaled[0, kept], -1e3, 1e3)
        x[0, offsets + X_scaled[0, list(CATEGORICAL)].astype(int)] = 1.0

        X_tensor = torch.tensor(x, dtype=torch.float32)
        with torch.no_grad():
            reconstructed = model(X_tensor)
            error = torch.mean((X_tensor - reconstructed) ** 2).item()

        is_anomaly = error > threshold

        return jsonify({"reconstruction_error": error, "anomaly": is_anomaly})

    return app


def main_server(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="the project's IDS model directory")
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="guide-ids-") as tmp:
        export_guide_artifacts(args.model, Path(tmp))
        app = create_app(Path(tmp))
        app.run(host="127.0.0.1", port=args.port)  # the guide: app.run(host="0.0.0.0", port=8000); loopback here
    return 0


if __name__ == "__main__":
    sys.exit(main_server(sys.argv[1:]))
