# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HmcClient over real SSH against the lab HMC simulator (lab/hmcsim): auth, host keys, reuse, errors, faults."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _hmc_helpers.py beside this file
import _hmc_helpers as hmc  # noqa: E402

hmc_client = hmc.collection_module("module_utils", "hmc_client")
HmcAuthenticationError, HmcClient, HmcCommandError, HmcConnectionError, HmcHostKeyError, HmcTimeoutError = (
    hmc_client.HmcAuthenticationError, hmc_client.HmcClient, hmc_client.HmcCommandError,
    hmc_client.HmcConnectionError, hmc_client.HmcHostKeyError, hmc_client.HmcTimeoutError)
hmc_argument_spec, hmc_client_from_params = hmc_client.hmc_argument_spec, hmc_client.hmc_client_from_params
parse_listing = hmc.collection_module("module_utils", "hmc_output").parse_listing
hmcsim_testing = pytest.importorskip("hmcsim.testing")


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with hmcsim_testing.running_simulator(tmp_path_factory.mktemp("hmcsim"), dpo_seconds=2) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def no_faults(sim):
    sim.clear_faults()
    yield
    sim.clear_faults()


def client(sim, **kwargs):
    options = dict(port=sim.port, key_file=str(sim.client_key), known_hosts=str(sim.known_hosts), retry_delay=0.05)
    options.update(kwargs)
    return HmcClient(sim.host, "hscroot", **options)


def new_audit(sim, before):
    return sim.audit()[before:]


def test_one_connection_for_all_commands_with_english_locale(sim):
    start = len(sim.audit())
    with client(sim) as hmc:
        systems = parse_listing(hmc.run(["lssyscfg", "-r", "sys"]))
        for system in systems:
            hmc.run(["lssyscfg", "-r", "lpar", "-m", system["name"]])
            hmc.run(["lsmemopt", "-m", system["name"]])
        assert hmc.connections_opened == 1
    entries = new_audit(sim, start)
    assert len(entries) == 1 + 2 * len(systems) >= 5
    assert len(set(entry["connection"] for entry in entries)) == 1
    assert all(entry["command"].startswith("LC_ALL=en_US ") for entry in entries)


def test_password_auth_and_wrong_password(sim):
    with client(sim, key_file=None, password=sim.password) as hmc:
        assert "p10-s1024-lab" in hmc.run(["lssyscfg", "-r", "sys"])
    wrong = client(sim, key_file=None, password="not-" + sim.password)
    with pytest.raises(HmcAuthenticationError, match="authentication to the HMC as hscroot@127.0.0.1"):
        wrong.connect()
    assert wrong.connections_opened == 0


def test_unknown_host_key_is_refused_unless_checking_is_off(sim, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(HmcHostKeyError, match="is not in known_hosts"):
        client(sim, known_hosts=str(empty)).connect()
    with client(sim, known_hosts=str(empty), host_key_checking=False) as hmc:
        assert hmc.run(["lssyscfg", "-r", "sys"])
    assert empty.read_text() == "", "an unchecked key must not be remembered"


def test_changed_host_key_is_refused(sim, tmp_path):
    other = tmp_path / "known_hosts"
    # a different, valid ed25519 key for the same [host]:port
    other.write_text(f"[{sim.host}]:{sim.port} ssh-ed25519 "
                     "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")
    with pytest.raises(HmcHostKeyError, match="does not match its known_hosts entry"):
        client(sim, known_hosts=str(other)).connect()


def test_missing_known_hosts_file(sim, tmp_path):
    with pytest.raises(HmcHostKeyError, match="cannot read the known_hosts file"):
        client(sim, known_hosts=str(tmp_path / "absent")).connect()


def test_hscl_error_is_typed_with_code_and_text(sim):
    with client(sim) as hmc:
        with pytest.raises(HmcCommandError) as error:
            hmc.run(["lssyscfg", "-r", "lpar", "-m", "no-such-system"])
    assert error.value.code == "HSCL8018"
    assert "no-such-system" in error.value.text
    assert error.value.argv == ["lssyscfg", "-r", "lpar", "-m", "no-such-system"]
    assert error.value.rc != 0


def test_hostile_argument_reaches_the_hmc_as_one_argument(sim):
    name = "x'; optmem -m p10-s1024-lab -o start -t affinity; echo \"$(id)\" `id` > /tmp/f"
    start = len(sim.audit())
    with client(sim) as hmc:
        with pytest.raises(HmcCommandError) as error:
            hmc.run(["lssyscfg", "-r", "lpar", "-m", name])
    assert name in error.value.text
    [entry] = new_audit(sim, start)
    assert entry["commands"] == [["lssyscfg", "-r", "lpar", "-m", name]]


def test_dropped_read_is_retried_on_a_new_connection(sim):
    sim.set_faults({"faults": [{"kind": "drop_connection", "match": "lsmemopt -m p10-s1024-lab$", "times": 1}]})
    with client(sim) as hmc:
        status = parse_listing(hmc.run(["lsmemopt", "-m", "p10-s1024-lab"]))
        assert status[0]["type"] == "affinity"
        assert hmc.connections_opened == 2


def test_dropped_mutating_command_is_not_resent(sim):
    sim.set_faults({"faults": [{"kind": "drop_connection", "match": "^LC_ALL=en_US chpwrmgmt", "times": 1}]})
    start = len(sim.audit())
    with client(sim) as hmc:
        with pytest.raises(HmcConnectionError) as error:
            hmc.run(["chpwrmgmt", "-m", "p10-s1024-lab", "-r", "sys", "-o", "enable", "-t", "max_perf"], mutating=True)
    assert error.value.may_have_run is True
    assert "may or may not have been executed, and it was not re-sent" in str(error.value)
    assert [e["command"] for e in new_audit(sim, start)] == [
        "LC_ALL=en_US chpwrmgmt -m p10-s1024-lab -r sys -o enable -t max_perf"]


def test_command_timeout(sim):
    sim.set_faults({"faults": [{"kind": "slow", "match": "lshwres", "delay_s": 3}]})
    with client(sim, command_timeout=1) as hmc:
        with pytest.raises(HmcTimeoutError, match="did not finish within 1s"):
            hmc.run(["lshwres", "-r", "proc", "-m", "p10-s1024-lab", "--level", "sys"])


def test_connection_refused_is_a_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hmc = HmcClient("127.0.0.1", "hscroot", port=port, host_key_checking=False, retries=1, retry_delay=0.01,
                    connect_timeout=2)
    with pytest.raises(HmcConnectionError, match=f"cannot connect to the HMC at hscroot@127.0.0.1:{port}"):
        hmc.connect()


def test_client_from_module_params_maps_every_connection_option():
    spec = hmc_argument_spec()
    assert spec["hmc_password"]["no_log"] is True
    params = {"hmc_host": "hmc1", "hmc_user": "ops", "hmc_password": "pw", "hmc_key_file": "/k", "hmc_port": 2222,
              "hmc_known_hosts": "/kh", "hmc_host_key_checking": False, "hmc_connect_timeout": 7,
              "hmc_command_timeout": 70}
    assert set(params) == set(spec)
    hmc = hmc_client_from_params(params)
    assert (hmc.host, hmc.user, hmc.port, hmc.key_file, hmc.known_hosts, hmc.host_key_checking, hmc.connect_timeout,
            hmc.command_timeout) == ("hmc1", "ops", 2222, "/k", "/kh", False, 7, 70)
    assert "pw" not in repr(hmc)
