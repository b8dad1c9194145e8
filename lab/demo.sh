#!/usr/bin/env bash
# `make demo`'s main job (the Makefile has already run `setup` and `lab-up`): train the models on the bundled data
# when they are missing or were trained from other inputs, run site.yml on the lab exactly as a customer does, and
# print a summary. A second run trains nothing and site.yml reports changed=0.
# DEMO_EXPECT_UNCHANGED=1: fail (exit 3) unless site.yml changed nothing (CI's rerun check). The machine-readable
# result is artifacts/demo-result.json and the summary's last line ("demo result: ... changed=N failed=N").
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts=artifacts
mkdir -p "$artifacts/models" "$artifacts/data"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
timed() { local t0=$SECONDS; "$@"; echo "demo: $1 ${2:-} took $((SECONDS - t0))s"; }

# The models are a cache of training: kept only while the hash of what trained them is the same.
inputs_key() { lab/models_key.sh "$@"; }
fresh() {  # DIR KEY -> true when DIR holds a complete model trained from KEY
  [ -f "$1/manifest.json" ] && [ "$(cat "$1/.inputs" 2>/dev/null)" = "$2" ]
}

ids_data=apps/ids/data/nsl-kdd
ids_args=(--train "$ids_data/KDDTrain+.txt.gz" --test "$ids_data/KDDTest+.txt.gz" --test "$ids_data/KDDTest-21.txt.gz")
ids_key=$(inputs_key ids "${ids_args[@]}")
if ! fresh "$artifacts/models/ids" "$ids_key"; then
  step "training the intrusion detection models (PyTorch MLP + autoencoder) on NSL-KDD KDDTrain+"
  rm -rf "$artifacts/models/ids.tmp"
  timed rocketce-ids train "${ids_args[@]}" --out "$artifacts/models/ids.tmp"
  echo "$ids_key" > "$artifacts/models/ids.tmp/.inputs"
  rm -rf "$artifacts/models/ids" && mv "$artifacts/models/ids.tmp" "$artifacts/models/ids"
else
  step "intrusion detection models already trained from the same inputs ($artifacts/models/ids, $ids_key)"
fi

fraud_synth=(--users 500 --seed 42 --start-year 2018)
fraud_key=$(inputs_key fraud "${fraud_synth[@]}")
if ! fresh "$artifacts/models/fraud" "$fraud_key"; then
  step "generating TabFormer-schema transactions and training the fraud models (LSTM + XGBoost)"
  rm -rf "$artifacts/models/fraud.tmp"
  timed rocketce-fraud synth "${fraud_synth[@]}" --out "$artifacts/data/fraud.csv"
  timed rocketce-fraud train --data "$artifacts/data/fraud.csv" --out "$artifacts/models/fraud.tmp"
  echo "$fraud_key" > "$artifacts/models/fraud.tmp/.inputs"
  rm -rf "$artifacts/models/fraud" && mv "$artifacts/models/fraud.tmp" "$artifacts/models/fraud"
else
  step "fraud models already trained from the same inputs ($artifacts/models/fraud, $fraud_key)"
fi

step "ansible-playbook site.yml -i inventories/lab/hosts.yml"
summary="$PWD/$artifacts/demo-summary.json"
timing="$PWD/$artifacts/demo-timing.json"
rm -f "$summary" "$timing"
# Per-task wall time (lab/callback_plugins/rocketce_timing.py): the slowest tasks at the end of the log and all of
# them in $timing. Enabled here, for the demo only: site.yml and the roles know nothing of it.
export ANSIBLE_CALLBACK_PLUGINS="$PWD/lab/callback_plugins" ANSIBLE_CALLBACKS_ENABLED=rocketce_timing \
  ROCKETCE_TIMING_FILE="$timing"
t0=$(date +%s.%N)
ANSIBLE_FORCE_COLOR=1 ansible-playbook site.yml -i inventories/lab/hosts.yml -e "rocketce_summary_file=$summary" \
  | tee "$artifacts/demo-site.log"
wall=$(python -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$t0")
echo "demo: site.yml took ${wall}s"

step "summary"
expect=()
[ "${DEMO_EXPECT_UNCHANGED:-}" = 1 ] && expect=(--expect-unchanged)
python lab/demo_summary.py --summary "$summary" --log "$artifacts/demo-site.log" --models "$artifacts/models" \
  --timing "$timing" --wall "$wall" --result "$artifacts/demo-result.json" "${expect[@]}"
