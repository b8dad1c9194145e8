#!/usr/bin/env bash
# `make demo`'s main job (the Makefile has already run `setup` and `lab-up`): train the models on the bundled data
# when they are not there yet, run site.yml on the lab, and print a summary. A second run trains nothing and
# site.yml reports changed=0.
set -euo pipefail
cd "$(dirname "$0")/.."
artifacts=artifacts
mkdir -p "$artifacts/models" "$artifacts/data"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ ! -f "$artifacts/models/ids/manifest.json" ]; then
  step "training the intrusion detection models (PyTorch MLP + autoencoder) on NSL-KDD KDDTrain+"
  data=apps/ids/data/nsl-kdd
  rocketce-ids train --train "$data/KDDTrain+.txt.gz" --test "$data/KDDTest+.txt.gz" --test "$data/KDDTest-21.txt.gz" \
    --out "$artifacts/models/ids.tmp"
  rm -rf "$artifacts/models/ids" && mv "$artifacts/models/ids.tmp" "$artifacts/models/ids"
else
  step "intrusion detection models already trained ($artifacts/models/ids)"
fi

if [ ! -f "$artifacts/models/fraud/manifest.json" ]; then
  step "generating TabFormer-schema transactions and training the fraud models (LSTM + XGBoost)"
  [ -f "$artifacts/data/fraud.csv" ] || \
    rocketce-fraud synth --users 500 --seed 42 --start-year 2018 --out "$artifacts/data/fraud.csv"
  rocketce-fraud train --data "$artifacts/data/fraud.csv" --out "$artifacts/models/fraud.tmp"
  rm -rf "$artifacts/models/fraud" && mv "$artifacts/models/fraud.tmp" "$artifacts/models/fraud"
else
  step "fraud models already trained ($artifacts/models/fraud)"
fi

step "ansible-playbook site.yml -i inventories/lab/hosts.yml"
summary="$PWD/$artifacts/demo-summary.json"
rm -f "$summary"
ANSIBLE_FORCE_COLOR=1 ansible-playbook site.yml -i inventories/lab/hosts.yml -e "rocketce_summary_file=$summary" \
  | tee "$artifacts/demo-site.log"

step "summary"
python lab/demo_summary.py --summary "$summary" --log "$artifacts/demo-site.log" --models "$artifacts/models"
