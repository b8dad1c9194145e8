# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""hmc_output parsers over real HMC captures (quoted in /work/shared/docs/hmc-cli-facts.md, sources there)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random

import pytest

from ansible_collections.rocketce.power.plugins.module_utils.hmc_output import (
    HmcOutputError,
    as_float,
    as_int,
    as_list,
    format_pair,
    format_record,
    is_unset,
    parse_fields,
    parse_listing,
)

# ziutus/hmc_vios_aix: HMC V7 managing a POWER5 9131-52A (lssyscfg -r sys, one line, excerpt of the start/end).
SYS_V7 = (
    "name=9131-52A-6535CCG,type_model=9131-52A,serial_num=6535CCG,ipaddr=192.168.200.39,state=Operating,"
    "detailed_state=None,sys_time=10/14/2017 19:45:21,power_off_policy=1,dynamic_platform_optimization_capable=0,"
    "max_lpars=20,hca_bandwidth_capabilities=null,service_lpar_id=none,power_on_type=power on,"
    "pend_mfg_default_boot_mode=norm\n"
)

# ziutus: lssyscfg -r lpar, Polish locale (os_version=Nieznane), VIOS rows without boot_mode, empty rmc_ipaddr.
LPAR_PL = (
    'name=nim1,lpar_id=5,lpar_env=aixlinux,state=Running,resource_config=1,os_version=AIX 6.1 6100-00-01-'
    '0748,logical_serial_num=6535CCG5,default_profile=normal,curr_profile=normal,work_group_id=none,share'
    'd_proc_pool_util_auth=0,allow_perf_collection=0,power_ctrl_lpar_ids=none,boot_mode=norm,lpar_keylock'
    '=norm,auto_start=0,redundant_err_path_reporting=0,rmc_state=active,rmc_ipaddr=192.168.200.235,sync_c'
    'urr_profile=0\n'
    'name=vios2,lpar_id=3,lpar_env=vioserver,state=Running,resource_config=1,os_version=Nieznane,logical_'
    'serial_num=6535CCG3,default_profile=normal,curr_profile=normal,work_group_id=none,shared_proc_pool_u'
    'til_auth=0,allow_perf_collection=0,power_ctrl_lpar_ids=none,lpar_keylock=norm,auto_start=0,redundant'
    '_err_path_reporting=0,rmc_state=inactive,rmc_ipaddr=192.168.200.201,sync_curr_profile=0\n'
    'name=dump,lpar_id=1,lpar_env=aixlinux,state=Not Activated,resource_config=0,os_version=Nieznane,logi'
    'cal_serial_num=6535CCG1,default_profile=test_1,curr_profile=test_1,work_group_id=none,shared_proc_po'
    'ol_util_auth=0,allow_perf_collection=0,power_ctrl_lpar_ids=none,boot_mode=sms,lpar_keylock=norm,auto'
    '_start=0,redundant_err_path_reporting=0,rmc_state=inactive,rmc_ipaddr=,sync_curr_profile=0\n'
)

# ziutus: lssyscfg -r prof, quoted list pairs and doubled quotes.
PROF = (
    'name=normal,lpar_name=vios2,lpar_id=3,lpar_env=vioserver,all_resources=0,min_mem=1024,desired_mem=61'
    '44,max_mem=10240,mem_mode=ded,hpt_ratio=1:64,proc_mode=shared,min_proc_units=0.1,desired_proc_units='
    '0.3,max_proc_units=0.6,min_procs=1,desired_procs=1,max_procs=1,sharing_mode=cap,uncap_weight=0,"io_s'
    'lots=21010002/none/1,21050003/none/1",lpar_io_pool_ids=none,max_virtual_slots=200,"virtual_serial_ad'
    'apters=0/server/1/any//any/1,1/server/1/any//any/1",virtual_scsi_adapters=2/server/5/nim1/3/0,"virtu'
    'al_eth_adapters=6/0/6//2/1,8/0/8//2/1,9/0/6//0/0",hca_adapters=none,boot_mode=norm,conn_monitoring=0'
    ',auto_start=0,power_ctrl_lpar_ids=none,work_group_id=none,redundant_err_path_reporting=0\n'
    'name=test_1,lpar_name=dump,lpar_id=1,lpar_env=aixlinux,virtual_scsi_adapters=none,"virtual_eth_adapt'
    'ers=""2/1/1/3,4,5/0/1""",hca_adapters=none,boot_mode=sms\n'
)

# ziutus: lshmc -V on V7 and V8, quoted pairs spanning lines.
LSHMC_V = '''"version= Version: 7
 Release: 7.9.0
 Service Pack: 3
HMC Build level 20151216.1
","base_version=V7R7.9.0
"
'''

# ziutus: lshmcusr, a <...> value containing " = " that is not quoted.
LSHMCUSR = ("name=hscroot,taskrole=hmcsuperadmin,description=HMC Super User,pwage=99999,resourcerole=ALL:,"
            "authentication_type=local,resources=<ResourceID = ALL:><UserDefinedName = AllSystemResources>,"
            "password_encryption=md5,disabled=0\n")

# hwengineer.blogspot.com 2023/07: lsmemopt -r lpar -o calcscore on a POWER8 8286-42A.
CALCSCORE = (
    'lpar_name=s824_vios2,lpar_id=1,curr_lpar_score=100,predicted_lpar_score=100\n'
    'lpar_name=AIX7100_04_08,lpar_id=2,curr_lpar_score=0,predicted_lpar_score=90\n'
    'lpar_name=AIX72CloudVM_00,lpar_id=4,curr_lpar_score=100,predicted_lpar_score=90\n'
    'lpar_name=DB2CF01,lpar_id=5,curr_lpar_score=none,predicted_lpar_score=none\n'
)


def test_sys_listing_keeps_values_with_spaces_slashes_and_special_words():
    [system] = parse_listing(SYS_V7)
    assert system["name"] == "9131-52A-6535CCG"
    assert system["sys_time"] == "10/14/2017 19:45:21"
    assert system["power_on_type"] == "power on"
    assert system["dynamic_platform_optimization_capable"] == "0"
    assert system["hca_bandwidth_capabilities"] == "null" and is_unset(system["hca_bandwidth_capabilities"])
    assert as_int(system["max_lpars"]) == 20
    assert as_int(system["service_lpar_id"]) is None
    assert list(system)[:3] == ["name", "type_model", "serial_num"]


def test_lpar_listing_rows_keep_their_own_attributes():
    rows = parse_listing(LPAR_PL)
    assert [row["name"] for row in rows] == ["nim1", "vios2", "dump"]
    assert rows[0]["os_version"] == "AIX 6.1 6100-00-01-0748"
    assert "boot_mode" not in rows[1]
    assert rows[2]["state"] == "Not Activated"
    assert rows[2]["rmc_ipaddr"] == "" and is_unset(rows[2]["rmc_ipaddr"])
    assert rows[1]["os_version"] == "Nieznane"


def test_profile_listing_pair_quoting_and_doubled_quotes():
    vios, dump = parse_listing(PROF)
    assert vios["io_slots"] == "21010002/none/1,21050003/none/1"
    assert vios["virtual_eth_adapters"] == "6/0/6//2/1,8/0/8//2/1,9/0/6//0/0"
    assert vios["virtual_scsi_adapters"] == "2/server/5/nim1/3/0"
    assert as_list(vios["io_slots"]) == ["21010002/none/1", "21050003/none/1"]
    assert as_float(vios["desired_proc_units"]) == pytest.approx(0.3)
    assert dump["virtual_eth_adapters"] == '"2/1/1/3,4,5/0/1"'
    assert dump["virtual_scsi_adapters"] == "none" and as_list(dump["virtual_scsi_adapters"]) == []


def test_multiline_quoted_values():
    [hmc] = parse_listing(LSHMC_V)
    assert hmc["version"] == " Version: 7\n Release: 7.9.0\n Service Pack: 3\nHMC Build level 20151216.1\n"
    assert hmc["base_version"] == "V7R7.9.0\n"


def test_value_with_equals_signs_is_split_at_the_first_one():
    [user] = parse_listing(LSHMCUSR)
    assert user["resources"] == "<ResourceID = ALL:><UserDefinedName = AllSystemResources>"
    assert user["resourcerole"] == "ALL:"


def test_calcscore_capture_with_none_scores():
    rows = parse_listing(CALCSCORE)
    assert [(as_int(r["curr_lpar_score"]), as_int(r["predicted_lpar_score"])) for r in rows] == [
        (100, 100), (0, 90), (100, 90), (None, None)]


@pytest.mark.parametrize("text", ["No results were found.\n", "No results were found.",
                                  "\r\nNo results were found.\r\n", "", "\n\n"])
def test_no_results_is_an_empty_list(text):
    assert parse_listing(text) == []
    assert parse_fields(text, ["name"]) == []
    assert parse_fields(text, ["name"], header=True) == []


def test_crlf_line_endings_from_a_pty():
    rows = parse_listing("name=a,state=Running\r\nname=b,state=Not Activated\r\n")
    assert rows == [{"name": "a", "state": "Running"}, {"name": "b", "state": "Not Activated"}]


def test_error_text_is_not_mistaken_for_a_listing():
    with pytest.raises(HmcOutputError, match="not an attr=value pair"):
        parse_listing("HSCL8012 The partition named x was not found.\n")


def test_fields_with_header_live_capture():
    # hmc-mcp live capture, HMC V10R3 M1060
    text = "name,lpar_id,state,rmc_state\nlpar-c,3,Not Activated,inactive\n"
    assert parse_fields(text, ["name", "lpar_id", "state", "rmc_state"], header=True) == [
        {"name": "lpar-c", "lpar_id": "3", "state": "Not Activated", "rmc_state": "inactive"}]


def test_fields_without_header_and_quoted_value():
    text = '9131-52A-6535CCG,6535CCG,Operating\nsys2,"a,b",Power Off\n'
    assert parse_fields(text, ["name", "serial_num", "state"]) == [
        {"name": "9131-52A-6535CCG", "serial_num": "6535CCG", "state": "Operating"},
        {"name": "sys2", "serial_num": "a,b", "state": "Power Off"}]


def test_fields_colon_delimiter():
    text = "sys1:9105-42A:78C4A21:Operating:1\n"
    assert parse_fields(text, ["name", "type_model", "serial_num", "state", "dpo"], delimiter=":") == [
        {"name": "sys1", "type_model": "9105-42A", "serial_num": "78C4A21", "state": "Operating", "dpo": "1"}]


def test_fields_count_mismatch_and_wrong_header_are_errors():
    with pytest.raises(HmcOutputError, match="expected 2 values"):
        parse_fields("a,b,c\n", ["name", "state"])
    with pytest.raises(HmcOutputError, match="unexpected header"):
        parse_fields("name,state\nx,Running\n", ["name", "lpar_id"], header=True)


def test_as_int_rejects_garbage():
    with pytest.raises(HmcOutputError):
        as_int("12abc")
    assert as_int("unavailable") is None and as_float("none") is None


def test_format_pair_quotes_like_the_hmc_prints():
    assert format_pair("name", "plain") == "name=plain"
    assert format_pair("io_slots", "a,b") == '"io_slots=a,b"'
    assert format_pair("virtual_eth_adapters", '"2/1/1/3,4,5/0/1"') == '"virtual_eth_adapters=""2/1/1/3,4,5/0/1"""'
    assert format_pair("desired_procs", 12) == "desired_procs=12"
    with pytest.raises(ValueError):
        format_pair("name", "two\nlines")
    with pytest.raises(ValueError):
        format_pair("bad,key", "x")


def test_format_record_round_trips_through_parse_listing():
    # Random values over the characters that matter to the HMC's record syntax: parse(format(x)) == x.
    rng = random.Random(20261125)
    alphabet = 'ab ,="\'=;$`\\*?|&<>()'
    for _round in range(500):
        record = dict(("attr%d" % i, "".join(rng.choice(alphabet) for _char in range(rng.randint(0, 12))))
                      for i in range(rng.randint(1, 5)))
        assert parse_listing(format_record(record)) == [record]
