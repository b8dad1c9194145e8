"""Preprocessing: fitted on training data only, stable codes, unknown bucket, scaling, constant columns."""

from __future__ import annotations

import numpy as np
import pytest
from rocketce_ids.data import DataFormatError, Records, load_nslkdd, records_from_rows
from rocketce_ids.preprocessing import UNKNOWN, Preprocessor
from rocketce_ids.schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES


@pytest.fixture(scope="module")
def train_data(data_dir):
    return load_nslkdd(data_dir / "KDDTrain+_20Percent.txt.gz")


@pytest.fixture(scope="module")
def fitted(train_data):
    return Preprocessor.fit(train_data.records)


def _column(pre: Preprocessor, name: str) -> int:
    return pre.output_names.index(name)


def test_load_reads_every_row_and_label(train_data):
    assert len(train_data) == 25192
    assert int(train_data.is_attack.sum()) == 11743  # published counts for KDDTrain+_20Percent
    assert train_data.records.numeric.shape == (25192, len(NUMERIC_FEATURES))


def test_short_and_non_numeric_rows_are_reported_with_their_row():
    good = ["0", "tcp", "http", "SF", *["0"] * 37, "normal", "21"]
    with pytest.raises(DataFormatError, match="row 2 has 3 fields"):
        records_from_rows([good, ["1", "2", "3"]])
    bad = list(good)
    bad[4] = "lots"
    with pytest.raises(DataFormatError, match="row 1, src_bytes='lots'"):
        records_from_rows([bad])


def test_category_codes_do_not_depend_on_the_data_being_transformed(fitted, data_dir):
    # The seed re-fitted a LabelEncoder on the test file; here the code of a value is fixed at training time.
    test = load_nslkdd(data_dir / "KDDTest-21.txt.gz").records
    codes_in_batch = fitted.category_codes(test.categorical)
    tcp_rows = np.flatnonzero(test.categorical[:, 0] == "tcp")
    alone = fitted.category_codes(test.categorical[tcp_rows[:1]])
    assert alone[0, 0] == codes_in_batch[tcp_rows[0], 0] == fitted.vocabularies["protocol_type"].index("tcp")
    reversed_codes = fitted.category_codes(test.categorical[::-1])
    np.testing.assert_array_equal(reversed_codes[::-1], codes_in_batch)


def test_unseen_and_rare_categories_go_to_the_unknown_bucket(train_data):
    pre = Preprocessor.fit(train_data.records, min_category_count=5)
    values, counts = np.unique(train_data.records.categorical[:, 1], return_counts=True)
    rare = str(values[np.argmin(counts)])
    assert counts.min() < 5 and rare not in pre.vocabularies["service"]
    sample = train_data.records.take(slice(0, 3))
    categorical = sample.categorical.copy()
    categorical[0, 1] = "never-seen-service"
    categorical[1, 1] = rare
    features = pre.transform(Records(sample.numeric, categorical))
    unknown = _column(pre, f"service={UNKNOWN}")
    assert features[0, unknown] == 1.0 and features[1, unknown] == 1.0
    known = _column(pre, f"service={categorical[2, 1]}")
    assert features[2, known] == 1.0 and features[2, unknown] == 0.0
    # exactly one hot column per categorical feature
    onehot = features[:, len(pre.kept_numeric):]
    np.testing.assert_array_equal(onehot.sum(axis=1), [len(CATEGORICAL_FEATURES)] * 3)


def test_scaling_is_fitted_on_training_rows_only(fitted, train_data, data_dir):
    train_features = fitted.transform(train_data.records)[:, : len(fitted.kept_numeric)]
    np.testing.assert_allclose(train_features.min(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(train_features.max(axis=0), 1.0, atol=1e-6)
    # Test rows are scaled with the training range: values beyond it go beyond 1 (the seed re-fitted on test).
    test = load_nslkdd(data_dir / "KDDTest+.txt.gz").records
    test_features = fitted.transform(test)[:, : len(fitted.kept_numeric)]
    assert test_features.max() > 1.0
    refit = Preprocessor.fit(test)
    assert refit.minimum != fitted.minimum or refit.span != fitted.span


def test_constant_columns_are_dropped(fitted):
    assert "num_outbound_cmds" not in fitted.kept_numeric  # always 0 in NSL-KDD
    assert len(fitted.output_names) == fitted.n_outputs


def test_saved_preprocessor_gives_identical_features(fitted, train_data, tmp_path):
    fitted.save(tmp_path / "pre.json")
    loaded = Preprocessor.load(tmp_path / "pre.json")
    np.testing.assert_array_equal(loaded.transform(train_data.records), fitted.transform(train_data.records))
