#!/usr/bin/env python3
"""Prints the end of `make demo`: what site.yml did on the lab, read from what it wrote and logged.

The last line is machine-checkable: `demo result: hosts=N changed=N failed=N dpo_started=N wall_s=S`, the same in
--result (JSON, with the slowest tasks from --timing, lab/callback_plugins/rocketce_timing.py's file). Exit status:
1 if a host failed or was unreachable, 3 with --expect-unchanged if anything changed.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ANSI = re.compile(r"\x1b\[[0-9;]*m")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


def recap(log: Path) -> dict[str, dict[str, int]]:
    hosts = {}
    for line in ANSI.sub("", log.read_text(encoding="utf-8", errors="replace")).splitlines():
        match = RECAP.match(line)
        if match:
            host, ok, changed, unreachable, failed = match.groups()
            hosts[host] = {"ok": int(ok), "changed": int(changed), "unreachable": int(unreachable),
                           "failed": int(failed)}
    return hosts


def metric(value) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


def ids_metrics(path: Path) -> list[str]:
    if not path.exists():
        return ["  (no metrics.json)"]
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for test_file, detectors in data.items():
        if not isinstance(detectors, dict) or test_file == "validation":
            continue
        for name, values in detectors.items():
            if isinstance(values, dict) and "accuracy" in values:
                lines.append(f"  {test_file:<14} {name:<12} accuracy {metric(values.get('accuracy'))}  "
                             f"F1 {metric(values.get('f1'))}  ROC-AUC {metric(values.get('roc_auc'))}")
    return lines or [f"  see {path}"]


def fraud_metrics(path: Path) -> list[str]:
    if not path.exists():
        return ["  (no metrics.json)"]
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = []
    for name, key in (("ensemble", "test"), ("xgboost", "test"), ("lstm", "test_windows")):
        test = (data.get(name) or {}).get(key) or {}
        best = (test.get("at_threshold") or {}).get("best_f1") or {}
        if "pr_auc" in test:
            lines.append(f"  test period  {name:<10} PR-AUC {metric(test.get('pr_auc'))}  "
                         f"ROC-AUC {metric(test.get('roc_auc'))}  F1 {metric(best.get('f1'))}")
    seed = (data.get("seed_baseline") or {}).get("test", {}).get("pr_auc")
    if seed is not None:
        lines.append(f"  seed-style pipeline on the same split: PR-AUC {metric(seed)}")
    return lines or [f"  see {path}"]


def slowest(path: Path | None, top: int = 10) -> list[dict]:
    if path is None or not path.exists():
        return []
    tasks = json.loads(path.read_text(encoding="utf-8")).get("tasks", [])
    return [{k: t.get(k) for k in ("play", "task", "seconds", "runs")} for t in tasks[:top]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--timing", type=Path, help="per-task times (lab/callback_plugins/rocketce_timing.py)")
    parser.add_argument("--wall", type=float, help="site.yml's wall time in seconds")
    parser.add_argument("--result", type=Path, help="write the result (hosts, changed, failed, ...) as JSON here")
    parser.add_argument("--expect-unchanged", action="store_true", help="exit 3 unless site.yml changed nothing")
    args = parser.parse_args()

    summary = json.loads(args.summary.read_text(encoding="utf-8")) if args.summary.exists() else {}
    out = ["", "rocketce-power demo on the lab"]
    out.append("\nAffinity (HMC simulator):")
    for system in summary.get("affinity", []):
        dpo = system.get("dpo") or {}
        started = f"DPO {dpo.get('opt_id')} {dpo.get('status')}" if system.get("dpo_started") else "no DPO"
        out.append(f"  {system['system']}: {started} ({system.get('reason')})")
        for lpar in system.get("lpars", []):
            after = lpar.get("after") if lpar.get("after") is not None else lpar.get("before")
            out.append(f"    {lpar['name']:<12} before {lpar.get('before')}  predicted {lpar.get('predicted')}  "
                       f"after {after}")
    out.append("\nLPARs (lab hosts):")
    for lpar in summary.get("lpars", []):
        out.append(f"  {lpar['lpar']:<12} affinity {lpar.get('affinity_score')}  SMT {lpar.get('smt') or '?'}  "
                   f"NUMA CPU nodes {lpar.get('numa_cpu_nodes')} {lpar.get('numa_node_ids')}")
        attack, normal = lpar.get("ids_attack_verdict") or {}, lpar.get("ids_normal_verdict") or {}
        out.append(f"    IDS   known attack -> attack={attack.get('attack')}  known normal -> attack="
                   f"{normal.get('attack')}  (model {lpar.get('ids_model_version')})")
        burst = lpar.get("fraud_burst") or {}
        if burst:
            out.append(f"    fraud burst replay (real TabFormer rows) -> {burst.get('fraud_alerts', '?')} of "
                       f"{burst.get('frauds', '?')} fraud rows flagged, {burst.get('alerts', '?')} alerts in all")
        for name, url in sorted((lpar.get("urls") or {}).items()):
            out.append(f"    {name:<10} {url}")
    out.append("\nModels:")
    out.append(" intrusion detection (NSL-KDD):")
    out += ids_metrics(args.models / "ids" / "metrics.json")
    out.append(" card fraud (TabFormer schema, chronological split):")
    out += fraud_metrics(args.models / "fraud" / "metrics.json")
    hosts = recap(args.log)
    changed = sum(h["changed"] for h in hosts.values())
    failed = sum(h["failed"] + h["unreachable"] for h in hosts.values())
    out.append(f"\nsite.yml: {len(hosts)} hosts, changed={changed}, failed={failed}"
               + ("  (a rerun changes nothing)" if changed == 0 and failed == 0 else "")
               + (f", wall time {args.wall:.1f}s" if args.wall is not None else ""))
    tasks = slowest(args.timing)
    if tasks:
        out.append("slowest tasks:")
        out += [f"  {t['seconds']:7.2f}s  {t['play']} : {t['task']}" + (f" x{t['runs']}" if t["runs"] > 1 else "")
                for t in tasks]
    result = {"hosts": len(hosts), "changed": changed, "failed": failed,
              "dpo_started": sum(1 for s in summary.get("affinity", []) if s.get("dpo_started")),
              "wall_s": args.wall, "slowest_tasks": tasks,
              "changed_per_host": {name: h["changed"] for name, h in sorted(hosts.items())}}
    status = 1 if failed or not hosts else 3 if args.expect_unchanged and changed else 0
    result["status"] = status
    if args.result:
        args.result.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    out.append("demo result: " + " ".join(f"{k}={result[k]}" for k in ("hosts", "changed", "failed", "dpo_started")
                                       + (("wall_s",) if args.wall is not None else ()))
               + ("  FAILED: --expect-unchanged, but site.yml changed something" if status == 3 else ""))
    print("\n".join(out))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
