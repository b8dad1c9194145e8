# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one runner of module unit cases, for HMC and LPAR modules alike (shaped like community.general's UTHelper).

``test_<module>.yaml`` holds the cases of ``plugins/modules/<module>.py``: a list, or ``{outputs: {...}, cases:
[...]}`` where ``outputs`` only holds YAML anchors of canned outputs shared by several cases. A case::

    - id: starts-dpo-when-worth-it
      input: {system: sys1, lpars: [ai-lpar01]}     # module options (HMC modules get hmc_host... added)
      flags: {check: false, diff: true}
      mocks:
        hmc:                                        # HMC modules: every HMC command, in order; all must run
          - command: [lssyscfg, -r, sys]
            out: "name=sys1,..."
          - command: [optmem, -m, sys1, -o, start, -t, affinity, --id, "3"]
            mutating: true                          # client.run(..., mutating=True) expected
          - command: [lsmemopt, -m, sys1]
            rc: 1                                   # HmcCommandError with the codes of out
            out: "HSCLZ001 ..."
            advance: 30                             # seconds the fake clock moves while it runs
          - command: [lsmemopt, -m, sys1]
            drop: true                              # the connection drops during this command
        run_command:                                # LPAR modules: every run_command call, in order
          - {command: [/usr/sbin/ppc64_cpu, --smt, -n], rc: 0, out: "SMT=8\\n", err: ""}
        bin_paths: {ppc64_cpu: /usr/sbin/ppc64_cpu} # get_bin_path answers (null: not found)
        files: {etc/x.conf: "..."}                  # files created under {tmp} before the run
      output:                                       # the result: dicts compared as subsets, lists item by item
        changed: true
        failed: false                               # always compared (default false)
      msg_contains: [may still be running]
      files_after: {etc/x.conf: "...", gone: null}  # file contents after the run (null: must not exist)

``{tmp}`` anywhere in a case is the case's temporary directory. The fake HMC keeps a clock that moves only
through ``sleep`` (the module's polling) and ``advance``, so waits and timeouts are exact and instant.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import json
import os

import pytest
import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.rocketce.power.plugins.module_utils import hmc_module
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcCommandError, HmcConnectionError

HMC_CONNECTION = {"hmc_host": "hmc.test", "hmc_user": "hscroot", "hmc_password": "s3cret-pw"}
CASE_KEYS = frozenset(("id", "input", "flags", "mocks", "output", "msg_contains", "files_after"))
MOCK_KEYS = frozenset(("hmc", "run_command", "bin_paths", "files"))
# Keys async_status owns: a module returning them could never be waited for with async/poll: 0.
ASYNC_KEYS = frozenset(("started", "finished", "ansible_job_id", "results_file"))


class ModuleExit(Exception):
    """exit_json/fail_json of a module under test: ``result`` is what it returned (with ``failed``)."""

    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


def _exit_json(module_self, **kwargs):
    kwargs.setdefault("failed", False)
    raise ModuleExit(kwargs)


def _fail_json(module_self, msg, **kwargs):
    kwargs.update(failed=True, msg=msg)
    raise ModuleExit(kwargs)


def call_module(module, args, monkeypatch):
    """Run ``module.main()`` with ``args`` (options plus ``_ansible_*``); returns the result dict."""
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)
    with patch_module_args(args):
        with pytest.raises(ModuleExit) as exit_info:
            module.main()
    return exit_info.value.result


class FakeHmc:
    """Scripted HmcClient stand-in: checks each argv against the case and answers its canned output."""

    def __init__(self, steps, start=1000.0):
        self.steps = list(steps)
        self.calls = []
        self.now = start
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
        expected = [str(piece) for piece in step["command"]]
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


class CommandMock:
    """AnsibleModule.run_command stand-in: checks each argv against the case and answers its rc/out/err."""

    def __init__(self, steps):
        self.steps = list(steps)

    def __call__(self, module_self, args, check_rc=False, **kwargs):
        argv = list(args)
        assert self.steps, "unexpected command %r (the case has no more)" % (argv,)
        step = self.steps.pop(0)
        assert argv == step["command"], "command mismatch:\n got      %r\n expected %r" % (argv, step["command"])
        rc, out, err = step.get("rc", 0), step.get("out", ""), step.get("err", "")
        if check_rc and rc != 0:
            module_self.fail_json(msg="command failed", rc=rc, stdout=out, stderr=err)
        return rc, out, err


def _get_bin_path(bin_paths):
    def get_bin_path(module_self, arg, required=False, opt_dirs=None):
        path = bin_paths[arg] if arg in bin_paths else (arg if arg.startswith("/") else "/usr/bin/%s" % arg)
        if path is None and required:
            module_self.fail_json(msg='Failed to find required executable "%s"' % arg)
        return path
    return get_bin_path


def substitute(value, tmp):
    if isinstance(value, str):
        return value.replace("{tmp}", tmp)
    if isinstance(value, list):
        return [substitute(item, tmp) for item in value]
    if isinstance(value, dict):
        return dict((substitute(key, tmp), substitute(item, tmp)) for key, item in value.items())
    return value


def load_cases(yaml_path):
    """pytest params of the cases of one YAML file, each checked against the schema."""
    with open(yaml_path) as handle:
        cases = yaml.safe_load(handle)
    if isinstance(cases, dict):
        cases = cases["cases"]
    ids = [case["id"] for case in cases]
    assert len(ids) == len(set(ids)), "duplicate case ids in %s" % yaml_path
    for case in cases:
        assert set(case) <= CASE_KEYS, "%s: unknown case keys %s" % (case["id"], sorted(set(case) - CASE_KEYS))
        mocks = case.get("mocks") or {}
        assert set(mocks) <= MOCK_KEYS, "%s: unknown mocks %s" % (case["id"], sorted(set(mocks) - MOCK_KEYS))
    return [pytest.param(case, id=case["id"]) for case in cases]


def module_case_files(directory):
    """``(module name, yaml path)`` of every ``test_<module>.yaml`` beside this runner."""
    return sorted((name[len("test_"):-len(".yaml")], os.path.join(directory, name))
                  for name in os.listdir(directory) if name.startswith("test_") and name.endswith(".yaml"))


def import_module(name):
    return importlib.import_module("ansible_collections.rocketce.power.plugins.modules.%s" % name)


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


def run_case(module, case, tmp_path, monkeypatch):
    """Run one case against ``module``; returns the result (every assertion of the case has passed)."""
    tmp = str(tmp_path)
    case = substitute(case, tmp)
    mocks = case.get("mocks") or {}
    for name, content in (mocks.get("files") or {}).items():
        path = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(content)
    fake_hmc = FakeHmc(mocks.get("hmc") or [])
    commands = CommandMock(mocks.get("run_command") or [])
    monkeypatch.setattr(hmc_module, "hmc_client_from_module", lambda ansible_module: fake_hmc)

    def run_command(module_self, args, **kwargs):  # a plain function, so AnsibleModule binds it as a method
        return commands(module_self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", _get_bin_path(mocks.get("bin_paths") or {}))

    # HMC modules need the connection options; LPAR modules would reject them as unsupported.
    args = dict(HMC_CONNECTION) if getattr(module, "run_hmc_module", None) is hmc_module.run_hmc_module else {}
    args.update(case.get("input") or {})
    flags = case.get("flags") or {}
    args["_ansible_check_mode"] = bool(flags.get("check"))
    args["_ansible_diff"] = bool(flags.get("diff"))
    result = call_module(module, args, monkeypatch)

    expected = dict(case.get("output") or {})
    expected.setdefault("failed", False)
    assert_subset(result, expected)
    for text in case.get("msg_contains") or []:
        assert text in result.get("msg", ""), "msg %r does not contain %r" % (result.get("msg"), text)
    for name, content in (case.get("files_after") or {}).items():
        path = os.path.join(tmp, name)
        if content is None:
            assert not os.path.exists(path), "%s should not exist" % name
            continue
        with open(path) as handle:
            assert handle.read() == content, "content of %s" % name
    assert not fake_hmc.steps, "HMC commands expected but not run: %r" % ([s["command"] for s in fake_hmc.steps],)
    assert not commands.steps, "commands expected but not run: %r" % ([s["command"] for s in commands.steps],)
    assert fake_hmc.connections <= 1, "the module opened %d HMC connections" % fake_hmc.connections
    assert not set(result) & ASYNC_KEYS, sorted(result)
    # Secrets never appear in what a module returns (Ansible logs results).
    assert HMC_CONNECTION["hmc_password"] not in json.dumps(result, default=str)
    return result
