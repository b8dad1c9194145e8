# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for module_utils/micromamba.py: JSON shapes, the partial MatchSpec matcher, env files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import json

import pytest
import yaml

from ansible_collections.rocketce.power.plugins.module_utils import micromamba

with open(os.path.join(os.path.dirname(__file__), 'test_micromamba_specs.yaml')) as _handle:
    SPECS = yaml.safe_load(_handle)

ENTRY = {'base_url': 'https://conda.anaconda.org/rocketce', 'build_number': 1, 'build_string': 'py311_1',
         'channel': 'rocketce', 'dist_name': 'pytorch-cpu-2.1.2-py311_1', 'name': 'pytorch-cpu',
         'platform': 'linux-ppc64le', 'version': '2.1.2'}


@pytest.mark.parametrize('spec,expected', SPECS['cases'], ids=[case[0] for case in SPECS['cases']])
def test_spec_satisfied(spec, expected):
    assert micromamba.spec_satisfied(spec, SPECS['installed']) is expected


@pytest.mark.parametrize('text', [
    '[%s]' % json.dumps(ENTRY),
    '{"packages": [%s]}' % json.dumps(ENTRY),
    'warning  libmamba some log line\n[%s]' % json.dumps(ENTRY),
], ids=['bare-array-2.8.1', 'packages-object-after-2.8.1', 'log-line-before-json'])
def test_list_json_shapes(text):
    assert micromamba.parse_list_json(text) == {
        'pytorch-cpu': {'version': '2.1.2', 'build': 'py311_1', 'channel': 'rocketce'}}


@pytest.mark.parametrize('text,message', [
    ('', 'no JSON'),
    ('{"envs": []}', 'no "packages" key'),
    ('[{"version": "1"}]', 'without name/version'),
    ('[{"name": "x"', 'invalid JSON'),
])
def test_list_json_errors(text, message):
    with pytest.raises(micromamba.MicromambaOutputError, match=message):
        micromamba.parse_list_json(text)


def test_transaction_json_and_prediction():
    success, link, unlink, message = micromamba.parse_transaction_json(
        '{"success": true, "dry_run": true, "actions": {"LINK": [{"name": "a", "version": "2"}],'
        ' "UNLINK": [{"name": "a", "version": "1"}, {"name": "b", "version": "1"}]}}')
    assert (success, link, unlink, message) == (True, {'a': '2'}, {'a': '1', 'b': '1'}, '')
    before = {'a': {'version': '1', 'build': '0', 'channel': 'c'}, 'b': {'version': '1', 'build': '0', 'channel': 'c'},
              'c': {'version': '3', 'build': '0', 'channel': 'c'}}
    after = micromamba.apply_transaction(before, link, unlink)
    assert sorted(after) == ['a', 'c'] and after['a']['version'] == '2'
    assert micromamba.render_package_set(after) == 'a=2=(planned)\nc=3=0\n'


def test_nothing_to_do_message():
    assert micromamba.parse_transaction_json(
        '{"success": true, "message": "All requested packages already installed"}'
    ) == (True, {}, {}, 'All requested packages already installed')


@pytest.mark.parametrize('document,expected', [
    ({'name': 'x', 'channels': ['rocketce'], 'dependencies': ['python=3.11', 'pytorch-cpu']},
     ['python=3.11', 'pytorch-cpu']),
    ({'dependencies': ['python', {'pip': ['requests']}]}, None),
    ({'name': 'x'}, []),
    (['not', 'a', 'mapping'], None),
])
def test_env_file_specs(document, expected):
    assert micromamba.env_file_specs(document) == expected
