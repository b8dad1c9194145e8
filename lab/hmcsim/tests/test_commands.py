"""HMC commands in process (no SSH): output formats from the facts doc, errors, configuration changes."""

from __future__ import annotations

import re

import pytest

SYS = "p10-s1024-lab"

CALCSCORE_LINE = re.compile(r"^lpar_name=[^,]+,lpar_id=\d+,curr_lpar_score=(\d+|none),predicted_lpar_score=(\d+|none)$")
INVALID_ATTRIBUTE = (
    "An invalid attribute was entered.  The invalid attribute is {}.  "
    "Please correct your entry and retry the command.\n"
)


def test_calcscore_lines_match_the_documented_shape(sim):
    lines = sim.lines(f"lsmemopt -m {SYS} -r lpar -o calcscore")
    assert len(lines) == 6
    assert all(CALCSCORE_LINE.match(line) for line in lines), lines
    scores = {line.split(",")[0][10:]: line.split(",")[2].split("=")[1] for line in lines}
    assert int(scores["ai-lpar01"]) < 50, "ai-lpar01 starts spread over four chips"
    assert scores["sandbox01"] == "none", "a partition holding no resources has no score"


def test_lsmemopt_forms(sim):
    assert re.fullmatch(r"curr_sys_score=\d+\n", sim.ok(f"lsmemopt -m {SYS} -r sys -o currscore"))
    assert sim.ok(f"lsmemopt -m {SYS} -o currscore") == sim.ok(f"lsmemopt -m {SYS} -r sys -o currscore")
    calc = sim.ok(f"lsmemopt -m {SYS} -r sys -o calcscore --id 3 -x db-lpar01")
    assert re.fullmatch(r"curr_sys_score=\d+,predicted_sys_score=\d+,requested_lpar_ids=3,protected_lpar_ids=5\n", calc)
    several = sim.ok(f"lsmemopt -m {SYS} -o calcscore -p ai-lpar01,ai-lpar02")
    assert '"requested_lpar_ids=3,4"' in several, "a multi-id value is pair-quoted (F1)"
    assert sim.lines(f"lsmemopt -m {SYS} -r lpar -o currscore --filter lpar_names=ai-lpar01") == [
        "lpar_name=ai-lpar01,lpar_id=3,curr_lpar_score=36"
    ]
    header = sim.lines(f"lsmemopt -m {SYS} -r lpar -o calcscore -F lpar_name:predicted_lpar_score --header")
    assert header[0] == "lpar_name:predicted_lpar_score" and header[3] == "ai-lpar01:100"
    status = sim.ok(f"lsmemopt -m {SYS}")
    assert status.startswith("in_progress=0,status=Not Started,type=affinity,opt_id=0,progress=0,")


def test_unknown_names_and_attributes(sim):
    assert (
        sim.fail(f"lsmemopt -m {SYS} -r lpar -o calcscore -p nope")
        == "HSCL8012 The partition named nope was not found.\n"
    )
    assert sim.fail(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=ghost").startswith("HSCL8012 ")
    assert sim.fail("lssyscfg -r lpar -m no-such-sys").startswith("HSCL8018 ")
    assert sim.fail(f"lssyscfg -r prof -m {SYS} -F bogus_attr_xyz --header") == INVALID_ATTRIBUTE.format(
        "bogus_attr_xyz"
    )
    assert sim.fail(f"lshwres -r proc -m {SYS} --level lpar -F lpar_name,nope") == INVALID_ATTRIBUTE.format("nope")
    assert sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_ids=99") == "No results were found.\n"
    assert "invalid parameter" in sim.fail("lssyscfg -r sys -Z")
    assert "invalid filter" in sim.fail(f"lssyscfg -r lpar -m {SYS} --filter bogus=1")


def test_listing_formats(sim):
    sys_row = sim.ok(f"lssyscfg -r sys -m {SYS}")
    assert sys_row.startswith(f"name={SYS},type_model=9105-42A,serial_num=")
    assert ',"lpar_proc_compat_modes=default,POWER9_base,POWER9,Power10",' in sys_row
    assert sim.lines("lssyscfg -r sys -F name,type_model") == ["p10-s1024-lab,9105-42A", "e1080-lab,9080-HEX"]
    assert (
        sim.ok(f"lssyscfg -r lpar -m {SYS} -F 'name state' --filter lpar_names=sandbox01")
        == 'sandbox01 "Not Activated"\n'
    )
    assert sim.lines(
        f"lssyscfg -r lpar -m {SYS} --filter lpar_names=sandbox01 -F name,lpar_id,state,rmc_state --header"
    ) == [
        "name,lpar_id,state,rmc_state",
        "sandbox01,6,Not Activated,inactive",
    ]
    vios = sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=vios1")
    assert "boot_mode=" not in vios, "VIOS rows omit boot_mode"
    profile = sim.ok(f"lssyscfg -r prof -m {SYS} --filter lpar_names=vios1")
    assert '"io_slots=21010010/none/1,21010011/none/1"' in profile
    assert "min_proc_units" not in profile, "dedicated profiles have no proc units"
    dedicated = sim.ok(f"lshwres -r proc -m {SYS} --level lpar --filter lpar_names=ai-lpar02")
    assert dedicated.startswith("lpar_name=ai-lpar02,lpar_id=4,curr_proc_mode=ded,curr_min_procs=1,curr_procs=8,")
    assert "proc_units" not in dedicated
    shared = sim.ok(
        f"lshwres -r proc -m {SYS} --level lpar --filter lpar_names=ai-lpar01 -F curr_proc_mode,curr_proc_units"
    )
    assert shared == "shared,12.0\n"
    mem = sim.ok(f"lshwres -r mem -m {SYS} --level sys")
    assert mem.startswith("configurable_sys_mem=1048576,curr_avail_sys_mem=") and mem.rstrip().endswith(
        '"possible_hpt_ratios=1:32,1:64,1:128,1:256,1:512"'
    )


@pytest.mark.parametrize(
    "spec",
    ["lpar_names=vios1,db-lpar01", "'\"lpar_names=vios1,db-lpar01\",lpar_ids=1,5'", '""lpar_names=vios1,db-lpar01""'],
)
def test_multi_value_filters(sim, spec):
    assert sim.lines(f"lssyscfg -r lpar -m {SYS} --filter {spec} -F name") == ["vios1", "db-lpar01"]


def test_lshmc_version_is_multiline_quoted(sim):
    out = sim.ok("lshmc -V")
    assert out.startswith('"version= Version: 10\n Release: 3\n Service Pack: 1070\nHMC Build level 2503010000\n')
    assert out.endswith('","base_version=V10R3\n"\n')


def test_power_mode(sim):
    assert (
        sim.ok(f"lspwrmgmt -m {SYS} -r sys -F supported_power_saver_mode_types") == '"static,power_saving,max_perf"\n'
    )
    sim.ok(f"chpwrmgmt -m {SYS} -r sys -o enable -t power_saving")
    assert sim.ok(f"lspwrmgmt -m {SYS} -r sys -F curr_power_saver_mode") == "power_saving\n"
    assert sim.fail(f"chpwrmgmt -m {SYS} -r sys -o enable -t turbo").startswith("HSCL")
    sim.ok(f"chpwrmgmt -m {SYS} -r sys -o disable")
    assert sim.ok(f"lspwrmgmt -m {SYS} -r sys -F curr_power_saver_mode") == "static\n"


def test_partition_start_and_shutdown_take_time(sim):
    timing = sim.store.model.timing
    assert sim.ok(f"chsysstate -m {SYS} -r lpar -o on -n sandbox01") == ""
    state = f"lssyscfg -r lpar -m {SYS} --filter lpar_names=sandbox01 -F state,resource_config"
    assert sim.ok(state) == "Starting,1\n"
    assert sim.fail(f"chsysstate -m {SYS} -r lpar -o on -n sandbox01").startswith("HSCL"), "already starting"
    sim.clock.advance(timing.lpar_start_s + 0.01)
    assert sim.ok(state) == "Running,1\n"
    sim.ok(f"chsysstate -m {SYS} -r lpar -o osshutdown -n sandbox01")
    assert sim.ok(state) == "Shutting Down,1\n"
    sim.clock.advance(timing.lpar_shutdown_s + 0.01)
    assert sim.ok(state) == "Not Activated,1\n", "a shut down partition keeps its resources"
    assert sim.fail(f"chsysstate -m {SYS} -r lpar -o shutdown -n sandbox01").startswith("HSCL")


def test_immediate_restart_goes_through_starting(sim):
    sim.ok(f"chsysstate -m {SYS} -r lpar -o shutdown --immed --restart --id 4")
    state = f"lssyscfg -r lpar -m {SYS} --filter lpar_ids=4 -F state"
    assert sim.ok(state) == "Shutting Down\n"
    sim.clock.advance(sim.store.model.timing.lpar_immed_shutdown_s + 0.01)
    assert sim.ok(state) == "Starting\n"
    sim.clock.advance(sim.store.model.timing.lpar_start_s)
    assert sim.ok(state) == "Running\n"


def test_system_power_cycle(sim):
    sim.ok(f"chsysstate -m {SYS} -r sys -o off")
    assert sim.ok(f"lssyscfg -r sys -m {SYS} -F state,dynamic_platform_optimization_capable") == (
        "Power Off In Progress,unavailable\n"
    )
    assert sim.fail(f"chsysstate -m {SYS} -r lpar -o on -n sandbox01").startswith("HSCL")
    sim.clock.advance(sim.store.model.timing.sys_power_off_s + 0.01)
    assert sim.ok(f"lssyscfg -r lpar -m {SYS} -F state | sort -u 2>&1 || true") == "rbash: sort: command not found\n"
    assert set(sim.lines(f"lssyscfg -r lpar -m {SYS} -F state")) == {"Not Activated"}
    sim.ok(f"chsysstate -m {SYS} -r sys -o on")
    sim.clock.advance(sim.store.model.timing.sys_power_on_s + 0.01)
    assert sim.ok(f"lssyscfg -r sys -m {SYS} -F state") == "Operating\n"


def test_profile_changes_with_pair_quoting_and_list_operators(sim):
    base = f"chsyscfg -r prof -m {SYS} -i "
    sim.ok(base + "'name=default_profile,lpar_name=ai-lpar02,desired_procs=10,\"io_slots=a/none/1,b/none/1\"'")
    sim.ok(base + "'name=default_profile,lpar_name=ai-lpar02,io_slots+=c/none/1,io_slots-=a/none/1'")
    out = sim.ok(f"lssyscfg -r prof -m {SYS} --filter lpar_names=ai-lpar02 -F desired_procs,io_slots")
    assert out == '10,"b/none/1,c/none/1"\n'
    assert sim.fail(base + "name=default_profile,lpar_name=ai-lpar02,bogus=1") == INVALID_ATTRIBUTE.format("bogus")
    assert sim.fail(base + "name=default_profile,lpar_name=ai-lpar02,desired_procs=99").startswith("HSCLZ009")
    assert sim.fail(base + "name=default_profile,lpar_name=ai-lpar02,desired_procs+=1").startswith("HSCLZ017")
    assert sim.fail(base + "name=nope,lpar_name=ai-lpar02,desired_procs=4").startswith("HSCLZ013")
    # switching a profile to dedicated takes effect at the next activation with it
    sim.ok(
        base + "name=default_profile,lpar_name=sandbox01,proc_mode=ded,sharing_mode=keep_idle_procs,"
        "desired_procs=2,max_procs=2"
    )
    sim.ok(f"chsysstate -m {SYS} -r lpar -o on -n sandbox01 -f default_profile")
    assert (
        sim.ok(f"lshwres -r proc -m {SYS} --level lpar --filter lpar_names=sandbox01 -F curr_proc_mode,curr_procs")
        == "ded,2\n"
    )


def test_partition_rename_apply_and_hostile_names(sim):
    hostile = 'ai lpar;$(touch /tmp/hmcsim-pwned) "q" zażółć'
    # inside -i data a literal quote is doubled within a quoted pair (the HMC's rule, facts doc 3.5)
    doubled = hostile.replace('"', '""')
    sim.ok(f'chsyscfg -r lpar -m {SYS} -i \'"name=ai-lpar02","new_name={doubled}"\'')
    assert sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_ids=4 -F name,lpar_id") == f'"{doubled}",4\n'
    row = sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_ids=4")
    assert row.startswith('"name=ai lpar;$(touch /tmp/hmcsim-pwned) ""q"" zażółć",lpar_id=4,')
    assert sim.fail(f'chsyscfg -r lpar -m {SYS} -i \'"name=vios1","new_name=a,b"\'').startswith("HSCLZ007")
    assert sim.fail(f"chsyscfg -r lpar -m {SYS} -i 'name=vios1,new_name=vios2'").startswith("HSCLZ015")
    sim.ok(f"chsyscfg -r lpar -m {SYS} -o apply -p sandbox01 -n default_profile")
    assert (
        sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=sandbox01 -F state,resource_config")
        == "Not Activated,1\n"
    )
    assert sim.fail(f"chsyscfg -r lpar -m {SYS} -o apply -p vios1").startswith("HSCLZ011")


@pytest.mark.parametrize(
    ("line", "status", "text"),
    [
        (
            "/usr/hmcrbin/lssyscfg -r sys",
            1,
            "rbash: /usr/hmcrbin/lssyscfg: restricted: cannot specify `/' in command names\n",
        ),
        ("lssyscfg -r sys > out.txt", 1, "rbash: out.txt: restricted: cannot redirect output\n"),
        ("lssyscfg -r sys 2>/dev/null", 1, "rbash: /dev/null: restricted: cannot redirect output\n"),
        ("cd /tmp", 1, "rbash: cd: restricted\n"),
        ("PATH=/bin lssyscfg -r sys", 1, "rbash: PATH: readonly variable\n"),
        ("bash -c id", 127, "rbash: bash: command not found\n"),
        ("exec lshmc -V", 1, "rbash: exec: restricted\n"),
        ("lssyscfg -r sys | sort", 127, "rbash: sort: command not found\n"),
    ],
)
def test_restricted_shell_refusals(sim, line, status, text):
    code, out, err = sim.run(line)
    assert (code, out, err) == (status, "", text)


def test_shell_conveniences(sim):
    assert sim.ok(f"LC_ALL=en_US LANG=en_US lssyscfg -r lpar -m {SYS} -F name | grep -c lpar") == "3\n"
    assert sim.ok(f"lssyscfg -r lpar -m {SYS} --filter lpar_names=nope; echo Rc=$?") == (
        "HSCL8012 The partition named nope was not found.\nRc=1\n"
    )
    assert (
        sim.ok(f"lssyscfg -r lpar -m {SYS} -F name,state | sed -n '/ai-/s/,/=/p' | tail -n 1") == "ai-lpar02=Running\n"
    )
    status, out, _ = sim.run("lshmc -V | grep -q Release && echo yes || echo no")
    assert (status, out) == (0, "yes\n")
