"""The lab's micromamba stand-in: real solving and installation from a real (lab-built) conda channel.

The channel is built once per session with lab/standins/build_channel.py into a temporary directory and used
through file:// URLs, so the test needs no network and no lab host. The collection's own JSON parsers read the
stand-in's output, which is what the micromamba_env module does on lab hosts.
"""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STANDINS = ROOT / "lab" / "standins"
sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.rocketce.power.plugins.module_utils.micromamba import (  # noqa: E402
    parse_list_json,
    parse_transaction_json,
)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    subprocess.run([sys.executable, str(STANDINS / "build_channel.py"), "--artifacts", str(out), "--skip-wheels"],
                   check=True, capture_output=True)
    return out


@pytest.fixture
def mamba(artifacts, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    # The RocketCE layout of the guide: channels [rocketce, defaults], flexible priority; in the lab the alias and
    # default_channels point at the lab channels.
    (root / ".condarc").write_text(
        "channels: [rocketce, defaults]\nchannel_priority: flexible\n"
        f"channel_alias: file://{artifacts}/conda\ndefault_channels: [file://{artifacts}/conda/main]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAMBA_", "CONDA"))}
    env["HOME"] = str(tmp_path)

    def run(*args, stdin="", extra_env=None):
        proc = subprocess.run([sys.executable, str(STANDINS / "micromamba_standin.py"), *args], input=stdin,
                              env=dict(env, **(extra_env or {})), capture_output=True, text=True, check=False)
        return proc

    run.root = root
    return run


def installed(mamba, name="ai", shape="array"):
    proc = mamba("list", "--json", "-r", str(mamba.root), "-n", name, extra_env={"MAMBA_STANDIN_LIST_SHAPE": shape})
    assert proc.returncode == 0, proc.stderr
    return parse_list_json(proc.stdout)


def test_channel_files_have_matching_sha256(artifacts):
    packages = sorted((artifacts / "conda").glob("*/noarch/*.conda"))
    assert len(packages) == 5
    for package in packages:
        recorded = Path(str(package) + ".sha256").read_text().split()[0]
        assert recorded == hashlib.sha256(package.read_bytes()).hexdigest()
    repodata = json.loads((artifacts / "conda" / "rocketce" / "noarch" / "repodata.json").read_text())
    assert sorted(repodata["packages.conda"]) == ["lab-hello-1.0-0.conda", "lab-hello-1.1-0.conda",
                                                  "lab-tools-0.2.3-0.conda", "pytorch-cpu-2.1.2-0.conda"]


def test_published_binary_and_tampered_copy(artifacts):
    release = artifacts / "bin" / "micromamba" / "2.0.5-0" / "micromamba-linux-64"
    tampered = artifacts / "bin" / "micromamba" / "2.0.5-0-tampered" / "micromamba-linux-64"
    assert release.read_text().startswith("#!/opt/rocketce-lab/standin-venv/bin/python3\n")
    assert Path(str(release) + ".sha256").read_text().strip() == hashlib.sha256(release.read_bytes()).hexdigest()
    announced = Path(str(tampered) + ".sha256").read_text().strip()
    assert announced != hashlib.sha256(tampered.read_bytes()).hexdigest()
    assert announced != hashlib.sha256(release.read_bytes()).hexdigest()


def test_create_solves_across_rocketce_and_defaults_and_installs_real_files(mamba):
    proc = mamba("create", "-y", "--json", "-r", str(mamba.root), "-n", "ai", "lab-tools", "lab-data")
    assert proc.returncode == 0, proc.stderr
    success, link, unlink, _ = parse_transaction_json(proc.stdout)
    assert success and link == {"lab-tools": "0.2.3", "lab-hello": "1.1", "lab-data": "2024.1"} and unlink == {}
    packages = installed(mamba)
    assert {name: p["channel"] for name, p in packages.items()} == {
        "lab-tools": "rocketce", "lab-hello": "rocketce", "lab-data": "main"}
    tool = mamba.root / "envs" / "ai" / "bin" / "lab-tools"
    out = subprocess.run([str(tool)], capture_output=True, text=True, check=True).stdout
    assert out == "lab-hello 1.1 from the lab rocketce channel\nlab-tools 0.2.3\n"


def test_list_json_both_shapes_parse_the_same(mamba):
    mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-hello")
    raw = mamba("list", "--json", "-r", str(mamba.root), "-n", "ai").stdout
    assert isinstance(json.loads(raw), list)
    assert installed(mamba, shape="array") == installed(mamba, shape="object") == {
        "lab-hello": {"version": "1.1", "build": "0", "channel": "rocketce"}}


def test_install_is_idempotent_and_can_downgrade_and_update(mamba):
    mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-tools")
    again = mamba("install", "-y", "--json", "-r", str(mamba.root), "-n", "ai", "lab-tools")
    assert parse_transaction_json(again.stdout) == (True, {}, {}, "All requested packages already installed")
    down = mamba("install", "-y", "--json", "-r", str(mamba.root), "-n", "ai", "lab-hello=1.0")
    assert down.returncode == 0, down.stderr
    assert parse_transaction_json(down.stdout)[1:3] == ({"lab-hello": "1.0"}, {"lab-hello": "1.1"})
    assert installed(mamba)["lab-hello"]["version"] == "1.0"
    plan = mamba("update", "-y", "--json", "--dry-run", "-r", str(mamba.root), "-n", "ai", "lab-hello")
    assert parse_transaction_json(plan.stdout)[1] == {"lab-hello": "1.1"}
    assert installed(mamba)["lab-hello"]["version"] == "1.0"  # dry run changed nothing
    assert mamba("update", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-hello").returncode == 0
    assert installed(mamba)["lab-hello"]["version"] == "1.1"


def test_remove_keeps_what_other_packages_need(mamba):
    mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-tools", "lab-data")
    assert mamba("remove", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-data").returncode == 0
    assert sorted(installed(mamba)) == ["lab-hello", "lab-tools"]
    refused = mamba("remove", "-y", "-r", str(mamba.root), "-n", "ai", "lab-hello")
    assert refused.returncode == 1 and "depend" in refused.stderr


def test_create_over_existing_env_asks_and_with_yes_rebuilds(mamba):
    mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-tools")
    marker = mamba.root / "envs" / "ai" / "marker"
    marker.write_text("user data")
    refused = mamba("create", "-r", str(mamba.root), "-n", "ai", "lab-hello", stdin="n\n")
    assert refused.returncode == 1 and "Overwrite?" in refused.stdout and "Aborting." in refused.stderr
    assert marker.exists() and "lab-tools" in installed(mamba)
    rebuilt = mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-hello")
    assert rebuilt.returncode == 0
    assert not marker.exists() and sorted(installed(mamba)) == ["lab-hello"]


def test_refuses_non_conda_folder_and_root_prefix(mamba, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "keep").write_text("x")
    proc = mamba("create", "-y", "-r", str(mamba.root), "-p", str(folder), "lab-hello")
    assert proc.returncode == 1 and "Non-conda folder exists at prefix - aborting." in proc.stderr
    proc = mamba("create", "-y", "-r", str(mamba.root), "-p", str(mamba.root), "lab-hello")
    assert proc.returncode == 1 and "Overwriting root prefix is not permitted" in proc.stderr


def test_override_channels_ignores_rc_channels(mamba, artifacts):
    proc = mamba("create", "-y", "-r", str(mamba.root), "-n", "x", "--override-channels",
                 "-c", f"file://{artifacts}/conda/main", "lab-hello")
    assert proc.returncode == 1 and "lab-hello" in proc.stderr
    proc = mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "x", "--override-channels",
                 "-c", f"file://{artifacts}/conda/main", "lab-data")
    assert proc.returncode == 0 and sorted(installed(mamba, "x")) == ["lab-data"]


def test_env_file_env_list_and_env_remove(mamba, tmp_path):
    spec = tmp_path / "environment.yml"
    spec.write_text("name: fromfile\nchannels: [rocketce]\ndependencies:\n  - lab-hello=1.0\n")
    assert mamba("create", "-y", "-q", "-r", str(mamba.root), "-f", str(spec)).returncode == 0
    assert installed(mamba, "fromfile")["lab-hello"]["version"] == "1.0"
    envs = json.loads(mamba("env", "list", "--json", "-r", str(mamba.root)).stdout)["envs"]
    assert str(mamba.root / "envs" / "fromfile") in envs
    assert mamba("env", "remove", "-y", "-r", str(mamba.root), "-n", "fromfile").returncode == 0
    assert not (mamba.root / "envs" / "fromfile").exists()
    spec.write_text("dependencies:\n  - lab-hello\n  - pip:\n    - requests\n")
    proc = mamba("create", "-y", "-r", str(mamba.root), "-n", "p", "-f", str(spec))
    assert proc.returncode == 1 and "pip dependencies" in proc.stderr


def test_solver_failure_and_cli_errors(mamba):
    proc = mamba("create", "-y", "-r", str(mamba.root), "-n", "bad", "no-such-package")
    assert proc.returncode == 1 and "Could not solve" in proc.stderr
    assert not (mamba.root / "envs" / "bad" / "conda-meta").exists()
    assert mamba("install", "--no-such-flag").returncode == 109
    proc = mamba("install", "-y", "-r", str(mamba.root), "-n", "missing", "lab-hello")
    assert proc.returncode == 1 and "does not exist" in proc.stderr


def test_info_and_version(mamba):
    assert mamba("--version").stdout == "2.0.5\n"
    data = json.loads(mamba("info", "--json", "-r", str(mamba.root)).stdout)
    assert data["base environment"] == str(mamba.root)
    assert data["channels"][0].endswith("/conda/rocketce/linux-64")
    assert any(channel.endswith("/conda/main/noarch") for channel in data["channels"])


def test_clean_empties_the_package_cache_and_keeps_environments(mamba):
    mamba("create", "-y", "-q", "-r", str(mamba.root), "-n", "ai", "lab-tools")
    pkgs = mamba.root / "pkgs"
    assert any(pkgs.iterdir())
    proc = mamba("clean", "--all", "--yes", "--json", "-r", str(mamba.root))
    assert proc.returncode == 0 and json.loads(proc.stdout)["removed"]
    assert list(pkgs.iterdir()) == []
    tool = mamba.root / "envs" / "ai" / "bin" / "lab-tools"
    assert subprocess.run([str(tool)], capture_output=True, text=True, check=True).stdout.endswith("lab-tools 0.2.3\n")
    assert json.loads(mamba("clean", "-a", "-y", "--json", "-r", str(mamba.root)).stdout)["removed"] == []
