"""The shared simulator fixture (conftest.py) gives a simulator an HMC client can use: key auth with the host key
checked against known_hosts, on the port it reports, starting from the model, and gone after the test."""

import subprocess

from labctl import procs


def ssh(sim, command):
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={sim.known_hosts}", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
            "-i", str(sim.client_key), "-p", str(sim.port), f"hscroot@{sim.host}", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def test_a_client_with_checked_host_keys_reaches_the_model(hmc_simulator):
    res = ssh(hmc_simulator, "lssyscfg -r sys -F name")
    assert res.returncode == 0, res.stderr
    assert "p10-s1024-lab" in res.stdout.split()
    assert hmc_simulator.port > 1024
    assert [entry["command"] for entry in hmc_simulator.audit()][-1] == "lssyscfg -r sys -F name"
    assert hmc_simulator.inventory_vars()["hmc_port"] == hmc_simulator.port


def test_the_simulator_is_stopped_after_its_test(tmp_path):
    from labctl.hmc import simulator

    with simulator(tmp_path / "sim") as sim:
        pid, port = sim.pid(), sim.port
        assert pid is not None and procs.wait_port(port, timeout=1)
    assert not procs.is_running(pid)
    assert procs.port_free(port)
