"""bench/run.py (`make bench`): which files it runs, the report it writes from their figures, and that a broken
benchmark is reported and fails the run. Fake benchmarks in tmp_path, each well under a second."""

import importlib.util
import json
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runner():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GOOD = '''
import argparse, json, os, sys
from pathlib import Path

def main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    Path(os.environ["BENCH_OUT"], "fast_extra.txt").write_text("flame")
    figures = [{"name": "speed", "value": 3200.5, "unit": "req/s", "baseline_name": "guide", "baseline_value": 200.0,
                "ratio": 16.0, "target": ">= 15x", "met": True, "notes": "median of 2"},
               {"name": "p99", "value": 6.2, "unit": "ms", "baseline_name": None, "baseline_value": None,
                "ratio": None, "target": "<= 5 ms", "met": False, "notes": ""}]
    args.json.write_text(json.dumps({"bench": "fast", "figures": figures}))
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''

BROKEN = '''
import sys
from pathlib import Path

def main(argv):
    Path(argv[argv.index("--json") + 1]).write_text('{"bench": "broken", "figures": [{"name": "x"}]}')
    return 3

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
'''


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture()
def bench_dir(tmp_path):
    d = tmp_path / "bench"
    d.mkdir()
    _write(d, "fast_bench.py", GOOD)
    _write(d, "_helpers.py", GOOD)  # a helper module, not a benchmark
    _write(d, "old_style.py", "def main():\n    print('no argv, no json')\n")
    return d


def test_discover_runs_only_files_with_main_argv_and_json(runner, bench_dir):
    _write(bench_dir, "zz_broken.py", BROKEN.replace("--json", "--out"))  # main(argv) but no --json option
    assert [p.name for p in runner.discover(bench_dir)] == ["fast_bench.py"]
    assert "ids_serve_bench.py" in [p.name for p in runner.discover(REPO / "bench")]
    assert "run.py" not in [p.name for p in runner.discover(REPO / "bench")]


def test_report_has_header_and_one_row_per_figure(runner, bench_dir, tmp_path):
    out = tmp_path / "out"
    assert runner.main(["--bench-dir", str(bench_dir), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    header = report["header"]
    assert header["machine"]["cores"] >= 1
    assert len(header["load_before"]) == 3 and len(header["load_after"]) == 3
    assert header["versions"]["python"].count(".") == 2
    assert set(header["versions"]) >= {"python", "ansible-core", "torch"}
    [entry] = report["benches"]
    assert entry["bench"] == "fast" and entry["returncode"] == 0 and entry["errors"] == []
    assert [f["name"] for f in entry["figures"]] == ["speed", "p99"]
    assert (out / "fast_extra.txt").read_text() == "flame"  # BENCH_OUT is the report's directory

    md = (out / "report.md").read_text()
    assert "load average" in md and "cores:" in md and "torch" in md
    rows = [line for line in md.splitlines() if line.startswith("| fast |")]
    assert rows == ["| fast | speed | 3,200.5 | req/s | guide | 200.0 | 16x | >= 15x | yes |",
                    "| fast | p99 | 6.2 | ms |  |  |  | <= 5 ms | **no** |"]
    assert "fast / speed: median of 2" in md


def test_a_failing_or_invalid_benchmark_is_reported_and_fails_the_run(runner, bench_dir, tmp_path):
    _write(bench_dir, "zz_broken.py", BROKEN)
    out = tmp_path / "out"
    assert runner.main(["--bench-dir", str(bench_dir), "--out", str(out)]) == 1
    report = json.loads((out / "report.json").read_text())
    broken = [e for e in report["benches"] if e["file"].endswith("zz_broken.py")][0]
    assert broken["returncode"] == 3 and broken["figures"] == []
    assert "zz_broken.py: exit status 3" in broken["errors"]
    assert any("figure 0 lacks value" in err for err in broken["errors"])
    md = (out / "report.md").read_text()
    assert "Failures:" in md and "| fast | speed |" in md  # the good benchmark is still in the table


def test_only_selects_and_rejects_unknown_names(runner, bench_dir, tmp_path):
    _write(bench_dir, "zz_broken.py", BROKEN)
    out = tmp_path / "out"
    assert runner.main(["--bench-dir", str(bench_dir), "--out", str(out), "--only", "fast_bench"]) == 0
    with pytest.raises(SystemExit):
        runner.main(["--bench-dir", str(bench_dir), "--out", str(out), "--only", "nope"])
