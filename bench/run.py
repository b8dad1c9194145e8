#!/usr/bin/env python3
"""`make bench`: run every benchmark, write artifacts/bench/report.json + report.md, print the table.

    python bench/run.py [--out artifacts/bench] [--only NAME ...] [--bench-dir bench]

A benchmark is a bench/*.py file (not _*.py, not this one) that defines `def main(argv` and takes `--json OUT`;
each runs in a process of its own (`python FILE --json OUT`, cwd = the repository), one after another, and
writes {"bench": name, "figures": [{"name", "value", "unit", "baseline_name", "baseline_value", "ratio",
"target", "met", "notes"}]}. Extra artifacts (flame graphs) go to $BENCH_OUT, the report's directory.

The report's header says where the figures come from: machine, cores, load average before and after the run,
Python / ansible-core / torch versions. A benchmark that fails or writes no valid JSON is reported as such and
makes the exit status 1; a target not met is shown in the table, not an error (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = ROOT / "artifacts" / "bench"
FIGURE_KEYS = ("name", "value", "unit", "baseline_name", "baseline_value", "ratio", "target", "met", "notes")
MAIN = re.compile(r"^def main\(argv\b", re.MULTILINE)


def discover(bench_dir: Path) -> list[Path]:
    """The benchmarks of bench_dir: *.py with `def main(argv` and a --json option, sorted by name."""
    found = []
    for path in sorted(bench_dir.glob("*.py")):
        if path.name.startswith("_") or path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        if MAIN.search(text) and "--json" in text:
            found.append(path)
    return found


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.split(":")[0].strip() in ("model name", "cpu"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"host": platform.node(), "platform": platform.platform(), "arch": platform.machine(), "cpu": cpu_model,
            "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0))}


def versions() -> dict:
    return {"python": platform.python_version(), "ansible-core": _version("ansible-core"), "torch": _version("torch"),
            "numpy": _version("numpy"), "flask": _version("flask"), "gunicorn": _version("gunicorn")}


def validate(result: object, name: str) -> list[str]:
    """What is wrong with a benchmark's JSON against the contract (empty = valid)."""
    if not isinstance(result, dict):
        return [f"{name}: JSON is not an object"]
    problems = []
    if not isinstance(result.get("bench"), str):
        problems.append(f"{name}: no \"bench\" name")
    figures = result.get("figures")
    if not isinstance(figures, list) or not figures:
        return [*problems, f"{name}: no \"figures\" list"]
    for i, fig in enumerate(figures):
        missing = [k for k in FIGURE_KEYS if not isinstance(fig, dict) or k not in fig]
        if missing:
            problems.append(f"{name}: figure {i} lacks {', '.join(missing)}")
        elif not isinstance(fig["value"], (int, float)) or isinstance(fig["value"], bool):
            problems.append(f"{name}: figure {fig['name']!r} value {fig['value']!r} is not a number")
    return problems


def run_one(path: Path, out: Path, timeout: float) -> dict:
    json_out = out / f"{path.stem}.json"
    json_out.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_OUT": str(out)}
    started = time.monotonic()
    print(f"=== bench {path.name}", flush=True)
    try:
        proc = subprocess.run([sys.executable, str(path), "--json", str(json_out)], cwd=ROOT, env=env,
                              timeout=timeout, check=False)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        rc = None
    entry = {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
             "returncode": rc, "seconds": round(time.monotonic() - started, 1), "figures": [], "errors": []}
    if rc is None:
        entry["errors"].append(f"{path.name}: timed out after {timeout:g} s")
    elif rc != 0:
        entry["errors"].append(f"{path.name}: exit status {rc}")
    if json_out.exists():
        try:
            result = json.loads(json_out.read_text(encoding="utf-8"))
        except ValueError as exc:
            entry["errors"].append(f"{path.name}: invalid JSON ({exc})")
        else:
            problems = validate(result, path.name)
            entry["errors"] += problems
            if not problems:
                entry["bench"] = result["bench"]
                entry["figures"] = result["figures"]
    elif rc == 0:
        entry["errors"].append(f"{path.name}: wrote no {json_out.name}")
    entry.setdefault("bench", path.stem)
    return entry


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value).replace("|", "\\|")


def markdown(report: dict) -> str:
    h = report["header"]
    m, v = h["machine"], h["versions"]
    lines = [
        "# Benchmark report (`make bench`)", "",
        f"- started {h['started']}, finished {h['finished']}",
        f"- machine: {m['host']}, {m['arch']}, {m['cpu'] or 'unknown CPU'}, {m['platform']}",
        f"- cores: {m['cores']} (usable by this run: {m['affinity']})",
        f"- load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in h['load_before'])}, "
        f"after: {' '.join(f'{x:.2f}' for x in h['load_after'])}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val), "",
        "| bench | figure | value | unit | baseline | baseline value | ratio | target | met |",
        "|---|---|---:|---|---|---:|---:|---|---|",
    ]
    for entry in report["benches"]:
        for f in entry["figures"]:
            lines.append("| " + " | ".join(_cell(x) for x in (
                entry["bench"], f["name"], f["value"], f["unit"], f["baseline_name"], f["baseline_value"],
                None if f["ratio"] is None else f"{f['ratio']:g}x", f["target"], f["met"])) + " |")
        if not entry["figures"]:
            lines.append(f"| {entry['bench']} | (no figures) | | | | | | | |")
    notes = [(e["bench"], f["name"], f["notes"]) for e in report["benches"] for f in e["figures"] if f["notes"]]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {b} / {n}: {text}" for b, n, text in notes]
    errors = [err for e in report["benches"] for err in e["errors"]]
    if errors:
        lines += ["", "Failures:", ""] + [f"- {err}" for err in errors]
    return "\n".join(lines) + "\n"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report directory (default artifacts/bench)")
    parser.add_argument("--bench-dir", type=Path, default=BENCH_DIR, help="where the benchmarks are")
    parser.add_argument("--only", action="append", default=[], help="run only this benchmark (file stem); repeat")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    args = parser.parse_args(argv)

    benches = discover(args.bench_dir)
    if args.only:
        unknown = set(args.only) - {p.stem for p in benches}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))} in {args.bench_dir}")
        benches = [p for p in benches if p.stem in args.only]
    if not benches:
        parser.error(f"no benchmark (def main(argv) + --json) in {args.bench_dir}")
    args.out.mkdir(parents=True, exist_ok=True)
    header = {"started": _now(), "machine": machine(), "versions": versions(), "load_before": list(os.getloadavg())}
    entries = [run_one(path, args.out, args.timeout) for path in benches]
    header.update(finished=_now(), load_after=list(os.getloadavg()))
    report = {"header": header, "benches": entries}
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    text = markdown(report)
    (args.out / "report.md").write_text(text, encoding="utf-8")
    print(text, end="")
    print(f"report: {args.out / 'report.md'}, {args.out / 'report.json'}")
    return 1 if any(e["errors"] for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
