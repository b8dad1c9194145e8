"""Dynamic Platform Optimization: progress over time, results, one run at a time, stop, failure, blocking."""

from __future__ import annotations

import re

import yaml

SYS = "p10-s1024-lab"


def scores(sim, system: str = SYS) -> dict[str, str]:
    lines = sim.lines(f"lsmemopt -m {system} -r lpar -o currscore -F lpar_name,curr_lpar_score")
    return dict(line.split(",") for line in lines)


def status(sim, system: str = SYS) -> dict[str, str]:
    line = sim.ok(f"lsmemopt -m {system}").strip()
    return dict(pair.split("=", 1) for pair in re.findall(r'"[^"]*"|[^,]+', line) for pair in [pair.strip('"')])


def test_dpo_runs_over_time_and_raises_the_requested_score(sim):
    duration = sim.store.model.dpo.duration_s
    predicted = sim.ok(f"lsmemopt -m {SYS} -r lpar -o calcscore -p ai-lpar01 -F lpar_name,predicted_lpar_score")
    before = scores(sim)
    assert sim.ok(f"optmem -m {SYS} -o start -t affinity -p ai-lpar01") == ""
    first = status(sim)
    assert (first["in_progress"], first["status"], first["opt_id"], first["progress"]) == ("1", "In Progress", "1", "0")
    assert first["requested_lpar_ids"] == "3"
    sim.clock.advance(duration * 0.52)
    middle = status(sim)
    assert middle["in_progress"] == "1" and middle["progress"] == "50", "progress moves in 5 % steps with time"
    assert scores(sim) == before, "scores change when the run finishes"
    second = sim.fail(f"optmem -m {SYS} -o start -t affinity")
    assert second.startswith("HSCLZ001 "), "one DPO per managed system at a time"
    sim.clock.advance(duration)
    done = status(sim)
    assert (done["in_progress"], done["status"], done["progress"]) == ("0", "Finished", "100")
    after = scores(sim)
    assert int(after["ai-lpar01"]) > int(before["ai-lpar01"])
    assert dict(line.split(",") for line in predicted.splitlines()) == after, "calcscore predicted the result"
    assert "3" in done["impacted_lpar_ids"].split(",")
    assert int(sim.ok(f"lsmemopt -m {SYS} -o currscore").split("=")[1]) > 70
    sim.ok(f"optmem -m {SYS} -o start -t affinity")
    assert status(sim)["opt_id"] == "2", "a new run can start once the previous one finished"


def test_stop_keeps_the_moves_done_so_far(sim):
    assert sim.fail(f"optmem -m {SYS} -o stop").startswith("HSCLZ002 ")
    sim.ok(f"optmem -m {SYS} -o start -t affinity")
    sim.clock.advance(sim.store.model.dpo.duration_s * 0.1)
    sim.ok(f"optmem -m {SYS} -o stop")
    stopped = status(sim)
    assert (stopped["in_progress"], stopped["status"], stopped["progress"]) == ("0", "Stopped", "10")
    assert stopped["impacted_lpar_ids"] == "none", "nothing had moved after 10 % of the run"
    sim.clock.advance(100)
    assert status(sim)["status"] == "Stopped"


def test_dpo_blocks_memory_dlpar_and_mobility(sim):
    sim.ok(f"optmem -m {SYS} -o start -t affinity")
    blocked = sim.fail(f"chhwres -r mem -m {SYS} -o a -p ai-lpar02 --quantity 1024")
    assert blocked.startswith("HSCLZ005 ")
    assert sim.fail(f"migrlpar -o v -m {SYS} -t e1080-lab -p ai-lpar02").startswith("HSCLZ005 ")
    sim.ok(f"chhwres -r proc -m {SYS} -o a -p ai-lpar02 --procs 1")
    sim.clock.advance(sim.store.model.dpo.duration_s + 1)
    sim.ok(f"chhwres -r mem -m {SYS} -o a -p ai-lpar02 --quantity 1024")
    assert sim.ok(f"lshwres -r mem -m {SYS} --level lpar --filter lpar_names=ai-lpar02 -F curr_mem") == "132096\n"
    sim.ok(f"migrlpar -o m -m {SYS} -t e1080-lab -p ai-lpar02")
    assert "ai-lpar02" in sim.ok("lssyscfg -r lpar -m e1080-lab -F name")


def test_failure_fault_ends_the_run_failed(sim):
    (sim.state_dir / "faults.yml").write_text(yaml.safe_dump({"faults": [{"kind": "dpo_fail", "at_progress": 40}]}))
    before = scores(sim)
    sim.ok(f"optmem -m {SYS} -o start -t affinity -p ai-lpar01")
    sim.clock.advance(sim.store.model.dpo.duration_s * 0.45)
    failed = status(sim)
    assert (failed["in_progress"], failed["status"], failed["progress"]) == ("0", "Failed", "40")
    assert scores(sim)["ai-lpar01"] in {before["ai-lpar01"], "100"}


def test_system_without_dpo_capability_refuses(write_model, sim_for):
    def disable(model):
        model["systems"][1]["capabilities"]["dynamic_platform_optimization_capable"] = 0

    other = sim_for(write_model(change=disable))
    assert other.fail("lsmemopt -m e1080-lab -r lpar -o calcscore").startswith("HSCLA012 ")
    assert other.fail("optmem -m e1080-lab -o start -t affinity").startswith("HSCLA012 ")
    assert other.ok("lssyscfg -r sys -m e1080-lab -F dynamic_platform_optimization_capable") == "0\n"


def _partition(name: str, lpar_id: int, cores: int, placement: list[dict]) -> dict:
    profile = {
        "name": "p",
        "proc_mode": "ded",
        "desired_procs": cores,
        "max_procs": 8,
        "min_mem": 4096,
        "desired_mem": 32768,
        "max_mem": 65536,
    }
    return {"name": name, "id": lpar_id, "state": "Running", "profiles": [profile], "placement": placement}


# Two 8-core chips: `big` (6 cores) is split 3+3 beside `a` and `b` (5 cores each). Making `big` whole forces
# one of the others to split: DPO optimises the requested partition at the expense of another one.
TIGHT_MODEL = {
    "dpo": {"duration_s": 10},
    "systems": [
        {
            "name": "tight",
            "type_model": "9105-42A",
            "serial": "0000001",
            "topology": {"sockets": 1, "chips_per_socket": 2, "cores_per_chip": 8},
            "memory_mb": 262144,
            "firmware_memory_mb": 0,
            "lpars": [
                _partition(
                    "big",
                    1,
                    6,
                    [{"chip": 0, "cores": 3, "memory_mb": 16384}, {"chip": 1, "cores": 3, "memory_mb": 16384}],
                ),
                _partition("a", 2, 5, [{"chip": 0, "cores": 5, "memory_mb": 32768}]),
                _partition("b", 3, 5, [{"chip": 1, "cores": 5, "memory_mb": 32768}]),
            ],
        }
    ],
}


def _calc(sim, options: str) -> dict[str, tuple[int, int]]:
    lines = sim.lines(
        f"lsmemopt -m tight -r lpar -o calcscore {options} -F lpar_name,curr_lpar_score,predicted_lpar_score"
    )
    return {name: (int(curr), int(predicted)) for name, curr, predicted in (line.split(",") for line in lines)}


def test_requested_partition_wins_others_may_lose_protection_holds(write_model, sim_for):
    tight = sim_for(write_model(TIGHT_MODEL))
    plain = _calc(tight, "-p big")
    assert plain["big"][0] < 100 and plain["big"][1] == 100
    losers = [name for name in ("a", "b") if plain[name][1] < plain[name][0]]
    assert len(losers) == 1, plain
    protected = _calc(tight, "-p big -x a,b")
    assert all(curr == predicted for curr, predicted in protected.values()), "nothing can move"
    tight.ok("optmem -m tight -o start -t affinity -p big")
    tight.clock.advance(11)
    assert {name: int(score) for name, score in scores(tight, "tight").items()} == {
        name: predicted for name, (_, predicted) in plain.items()
    }
    impacted = status(tight, "tight")["impacted_lpar_ids"].split(",")
    assert "1" in impacted and str({"a": 2, "b": 3}[losers[0]]) in impacted


def test_model_can_make_every_run_fail(write_model, sim_for):
    def failing(model):
        model["dpo"] = {"duration_s": 10, "outcome": "Failed", "fail_at_progress": 70}

    other = sim_for(write_model(change=failing))
    other.ok(f"optmem -m {SYS} -o start -t affinity")
    other.clock.advance(6)
    assert status(other)["status"] == "In Progress"
    other.clock.advance(2)
    failed = status(other)
    assert (failed["status"], failed["progress"], failed["in_progress"]) == ("Failed", "70", "0")
