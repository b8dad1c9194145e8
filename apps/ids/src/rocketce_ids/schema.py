"""The NSL-KDD record layout: 41 raw features, then `label` and `difficulty` in the data files."""

from __future__ import annotations

FEATURE_NAMES: tuple[str, ...] = (
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes", "land", "wrong_fragment",
    "urgent", "hot", "num_failed_logins", "logged_in", "num_compromised", "root_shell", "su_attempted",
    "num_root", "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds", "is_host_login",
    "is_guest_login", "count", "srv_count", "serror_rate", "srv_serror_rate", "rerror_rate", "srv_rerror_rate",
    "same_srv_rate", "diff_srv_rate", "srv_diff_host_rate", "dst_host_count", "dst_host_srv_count",
    "dst_host_same_srv_rate", "dst_host_diff_srv_rate", "dst_host_same_src_port_rate",
    "dst_host_srv_diff_host_rate", "dst_host_serror_rate", "dst_host_srv_serror_rate", "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate",
)
CATEGORICAL_FEATURES: tuple[str, ...] = ("protocol_type", "service", "flag")
NUMERIC_FEATURES: tuple[str, ...] = tuple(n for n in FEATURE_NAMES if n not in CATEGORICAL_FEATURES)
CATEGORICAL_INDEX: tuple[int, ...] = tuple(FEATURE_NAMES.index(n) for n in CATEGORICAL_FEATURES)
NUMERIC_INDEX: tuple[int, ...] = tuple(FEATURE_NAMES.index(n) for n in NUMERIC_FEATURES)
N_FEATURES = len(FEATURE_NAMES)
NORMAL_LABEL = "normal"
