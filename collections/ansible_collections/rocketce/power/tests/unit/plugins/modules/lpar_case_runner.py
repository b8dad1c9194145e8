# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs an LPAR-side module against a YAML case (community.general UTHelper style, without its dependency).

A case lists the module params, the exact argv of every command the module may run with canned rc/out/err,
files to create under a temporary directory ({tmp} in params, file names and contents is replaced by it),
and the expected result: a subset of the module's output, and optionally file contents afterwards.
Commands must be called in the listed order and all of them must be called.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import yaml
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get('msg', ''))
        self.result = result
        self.failed = failed


def load_cases(yaml_path):
    with open(yaml_path) as handle:
        cases = yaml.safe_load(handle)
    return [pytest_param(case) for case in cases]


def pytest_param(case):
    import pytest
    return pytest.param(case, id=case['id'])


def substitute(value, tmp):
    if isinstance(value, str):
        return value.replace('{tmp}', tmp)
    if isinstance(value, list):
        return [substitute(item, tmp) for item in value]
    if isinstance(value, dict):
        return dict((substitute(k, tmp), substitute(v, tmp)) for k, v in value.items())
    return value


class CommandMock(object):
    def __init__(self, expected):
        self.expected = list(expected)
        self.calls = []

    def __call__(self, module_self, args, check_rc=False, environ_update=None, **kwargs):
        argv = list(args)
        assert self.expected, 'unexpected command %r (no more commands in the case)' % (argv,)
        step = self.expected.pop(0)
        assert argv == step['command'], 'command mismatch:\n got      %r\n expected %r' % (argv, step['command'])
        self.calls.append(argv)
        rc, out, err = step.get('rc', 0), step.get('out', ''), step.get('err', '')
        if check_rc and rc != 0:
            module_self.fail_json(msg='command failed', rc=rc, stdout=out, stderr=err)
        return rc, out, err


def run_case(main, case, tmp_path, monkeypatch):
    """Run ``main`` for ``case``; returns the module result dict (with a 'failed' key)."""
    tmp = str(tmp_path)
    case = substitute(case, tmp)
    for name, content in (case.get('files') or {}).items():
        path = os.path.join(tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(content)

    bin_paths = case.get('bin_paths') or {}

    def get_bin_path(module_self, arg, required=False, opt_dirs=None):
        if arg in bin_paths:
            path = bin_paths[arg]
        elif arg.startswith('/'):
            path = arg
        else:
            path = '/usr/bin/%s' % arg
        if path is None and required:
            module_self.fail_json(msg='Failed to find required executable "%s"' % arg)
        return path

    def exit_json(module_self, **kwargs):
        raise ModuleExit(kwargs, failed=False)

    def fail_json(module_self, msg, **kwargs):
        kwargs['msg'] = msg
        raise ModuleExit(kwargs, failed=True)

    commands = CommandMock(case.get('run_command') or [])

    def run_command(module_self, args, **kwargs):
        return commands(module_self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)

    args = dict(case.get('params') or {})
    flags = case.get('flags') or {}
    args['_ansible_check_mode'] = bool(flags.get('check'))
    args['_ansible_diff'] = bool(flags.get('diff'))
    result = None
    with patch_module_args(args):
        try:
            main()
        except ModuleExit as exc:
            result = dict(exc.result, failed=exc.failed)
    assert result is not None, 'module returned without exit_json/fail_json'
    assert not commands.expected, 'commands listed in the case but never run: %r' % (commands.expected,)
    return result, tmp


def assert_case(main, case, tmp_path, monkeypatch):
    result, tmp = run_case(main, case, tmp_path, monkeypatch)
    expected = substitute(case.get('output') or {}, tmp)
    assert result['failed'] == bool(case.get('failed', False)), json.dumps(result, indent=2, default=str)
    for key, value in expected.items():
        if key == 'msg_contains':
            assert value in result.get('msg', ''), result.get('msg')
            continue
        assert key in result, 'missing %s in %s' % (key, json.dumps(result, default=str))
        assert result[key] == value, '%s: got %r, expected %r' % (key, result[key], value)
    for name, content in (substitute(case.get('files_after') or {}, tmp)).items():
        path = os.path.join(tmp, name)
        if content is None:
            assert not os.path.exists(path), '%s should not exist' % name
            continue
        with open(path) as handle:
            assert handle.read() == content, 'content of %s' % name
    return result
