# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs an HMC module against a YAML case: params -> expected HMC argv sequence -> canned output -> result.

A case (one list item of test_<module>.yaml)::

    - id: starts-dpo-when-worth-it
      params: {system: sys1, lpars: [ai-lpar01]}      # connection options are added (hmc_host: hmc.test)
      flags: {check: false, diff: true}
      hmc:                                            # every command, in order; all must be run
        - argv: [lssyscfg, -r, sys]
          out: "name=sys1,..."
        - argv: [optmem, -m, sys1, -o, start, -t, affinity, --id, "3"]
          mutating: true                              # run(..., mutating=True) expected
        - argv: [lsmemopt, -m, sys1]
          rc: 1                                       # HmcCommandError (code = first HSCLxxxx in out)
          out: "HSCLZ001 ..."
        - argv: [lsmemopt, -m, sys1]
          drop: true                                  # the connection drops during this command
      expect:                                         # subset of the module result (dicts: subset, lists: per item)
        changed: true
        failed: false
      msg_contains: [may still be running]

The fake HMC also keeps a clock that advances only through ``sleep`` (the module's polling), so waits and
timeouts are deterministic; ``advance: N`` on a step adds N seconds while that command runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rocketce.power.plugins.module_utils import hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcCommandError, HmcConnectionError

DEFAULT_CONNECTION = {"hmc_host": "hmc.test", "hmc_user": "hscroot", "hmc_password": "s3cret-pw"}


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


class FakeHmc:
    """Scripted HmcClient stand-in: checks each argv against the case and answers its canned output."""

    def __init__(self, steps, start=1000.0):
        self.steps = list(steps)
        self.calls = []
        self.now = start
        self.slept = 0.0
        self.connections = 0

    def __enter__(self):
        self.connections += 1
        return self

    def __exit__(self, *exc_info):
        return False

    def run(self, argv, mutating=False):
        argv = [str(piece) for piece in argv]
        assert self.steps, "unexpected HMC command (the case has no more): %r" % (argv,)
        step = self.steps.pop(0)
        expected = [str(piece) for piece in step["argv"]]
        assert argv == expected, "HMC command mismatch:\n got      %r\n expected %r" % (argv, expected)
        want = step.get("mutating", False)
        assert mutating == want, "%r: mutating=%r, expected %r" % (argv, mutating, want)
        self.calls.append(argv)
        self.now += step.get("advance", 0)
        if step.get("drop"):
            raise HmcConnectionError("the connection to the HMC hmc.test dropped (test)", may_have_run=mutating)
        out = step.get("out", "")
        if step.get("rc", 0) != 0:
            raise HmcCommandError(out, argv, step["rc"])
        return out

    def clock(self):
        return self.now

    def sleep(self, seconds):
        assert seconds > 0, "sleep(%r)" % seconds
        self.now += seconds
        self.slept += seconds


def load_cases(yaml_path):
    """Cases of a YAML file: a list, or ``{outputs: {...anchors...}, cases: [...]}`` to share canned outputs."""
    with open(yaml_path) as handle:
        cases = yaml.safe_load(handle)
    if isinstance(cases, dict):
        cases = cases["cases"]
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids in %s" % yaml_path
    return [pytest.param(case, id=case["id"]) for case in cases]


def run_module(module, params, steps, monkeypatch, check=False, diff=False, fake=None):
    """Run ``module.main()`` with ``params`` against a FakeHmc (or ``fake``); returns (result, fake)."""
    fake = fake if fake is not None else FakeHmc(steps)
    args = dict(DEFAULT_CONNECTION)
    args.update(params)
    args["_ansible_check_mode"] = check
    args["_ansible_diff"] = diff

    def exit_json(self, **kwargs):
        kwargs.setdefault("failed", False)
        raise ModuleExit(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs.update(failed=True, msg=msg)
        raise ModuleExit(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(hmc_module, "hmc_client_from_module", lambda ansible_module: fake)
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as exit_info:
            module.main()
    return exit_info.value.result, fake


def assert_subset(actual, expected, path="result"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), "%s: expected a dict, got %r" % (path, actual)
        for key, value in expected.items():
            assert key in actual, "%s: missing key %r (has %s)" % (path, key, sorted(actual))
            assert_subset(actual[key], value, "%s.%s" % (path, key))
    elif isinstance(expected, list):
        assert isinstance(actual, list), "%s: expected a list, got %r" % (path, actual)
        assert len(actual) == len(expected), ("%s: %d items, expected %d: %r"
                                              % (path, len(actual), len(expected), actual))
        for index, (got, want) in enumerate(zip(actual, expected)):
            assert_subset(got, want, "%s[%d]" % (path, index))
    else:
        assert actual == expected, "%s: %r != expected %r" % (path, actual, expected)


def assert_case(module, case, monkeypatch):
    flags = case.get("flags") or {}
    result, fake = run_module(module, case.get("params") or {}, case.get("hmc") or [], monkeypatch,
                              check=flags.get("check", False), diff=flags.get("diff", False))
    assert_subset(result, case.get("expect") or {})
    for text in case.get("msg_contains") or []:
        assert text in result.get("msg", ""), "msg %r does not contain %r" % (result.get("msg"), text)
    if "diff" in case:
        assert_subset(result.get("diff"), case["diff"], "diff")
    assert not fake.steps, "HMC commands expected but not run: %r" % ([s["argv"] for s in fake.steps],)
    assert fake.connections <= 1, "the module opened %d HMC connections" % fake.connections
    # Keys async_status owns: a module returning them could never be waited for with async/poll: 0.
    assert not set(result) & {"started", "finished", "ansible_job_id", "results_file"}, sorted(result)
    # Secrets never appear in what a module returns (Ansible logs results).
    assert DEFAULT_CONNECTION["hmc_password"] not in json.dumps(result, default=str)
    return result, fake
