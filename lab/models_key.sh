#!/usr/bin/env bash
# models_key.sh APP [TRAINING ARGS...] : the hash of what a model of apps/APP is trained from (the app's sources,
# its bundled data, its pyproject.toml and the training arguments). A trained model is kept only while its
# .inputs file holds this hash (lab/demo.sh, molecule/default/create.yml), so a changed trainer retrains.
set -euo pipefail
cd "$(dirname "$0")/.."
app=${1:?usage: models_key.sh APP [TRAINING ARGS...]}
shift
{ find "apps/$app/src" "apps/$app/data" "apps/$app/pyproject.toml" -type f ! -name '*.pyc' -print0 | sort -z \
    | xargs -0 sha256sum; echo "$*"; } | sha256sum | cut -c1-16
