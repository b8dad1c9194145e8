#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: micromamba_env
short_description: Manage a conda environment with micromamba (for example from the RocketCE channel)
version_added: 0.1.0
description:
  - Creates, converges, updates or removes a conda environment with C(micromamba), from a list of package
    specs and/or an environment file.
  - Idempotent. The installed packages are read with C(micromamba list --json) (both the bare array of
    micromamba <= 2.8.1 and the newer C(packages) object are understood); when every requested
    spec is already met no solver runs. C(changed) compares the package sets before and after.
  - Never runs C(micromamba create -y) over an existing environment (that would delete and rebuild it);
    existing environments are converged with C(micromamba install -y).
  - In check mode the transaction is planned with C(--dry-run) and, with C(--diff), the package set
    before and after is shown.
author:
  - rocketce-power engineers (@rocketce-power)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    support: full
    platforms: posix
options:
  name:
    description:
      - Name of the environment, created as O(root_prefix)C(/envs/)O(name).
      - Letters, digits, C(.), C(_) and C(-) only.
      - Exactly one of O(name) and O(prefix) is required.
    type: str
  prefix:
    description:
      - Absolute path of the environment. Exactly one of O(name) and O(prefix) is required.
    type: path
  root_prefix:
    description:
      - The micromamba root prefix (package cache in C(pkgs/), named environments in C(envs/)).
    type: path
    default: /opt/micromamba
  packages:
    description:
      - Package specs (MatchSpec strings such as V(python=3.11), V(pytorch-cpu), V(rocketce::onnxruntime)).
    type: list
    elements: str
    default: []
  file:
    description:
      - An environment file on the target (C(name), C(channels), C(dependencies)) passed as C(-f).
    type: path
  channels:
    description:
      - Channels passed as C(-c), in priority order. Without them the C(.condarc) channels apply.
    type: list
    elements: str
    default: []
  override_channels:
    description:
      - Pass C(--override-channels) so that only O(channels) are used (rc file channels are ignored).
    type: bool
    default: false
  state:
    description:
      - V(present) creates the environment or installs the specs missing from it.
      - V(latest) also updates the named packages to their newest versions (C(micromamba update)); needs O(packages).
      - V(absent) removes the whole environment.
    type: str
    choices: [present, latest, absent]
    default: present
  executable:
    description:
      - Path or name of the micromamba binary.
    type: str
    default: micromamba
notes:
  - O(packages) and the dependencies of O(file) are checked against the installed set with a partial MatchSpec
    matcher; specs it cannot judge (brackets, pip sections) always go to the solver, which is then authoritative.
seealso:
  - name: micromamba documentation
    description: Configuration, rc files and CLI of micromamba.
    link: https://mamba.readthedocs.io/en/latest/user_guide/micromamba.html
'''

EXAMPLES = r'''
- name: A RocketCE environment for PyTorch on CPU
  rocketce.power.micromamba_env:
    name: ai
    root_prefix: /opt/micromamba
    packages:
      - python=3.11
      - pytorch-cpu
      - onnxruntime
    channels: [rocketce, defaults]

- name: An environment from a file
  rocketce.power.micromamba_env:
    prefix: /opt/ai/env
    file: /opt/ai/environment.yml

- name: Keep transformers at the newest version
  rocketce.power.micromamba_env:
    name: ai
    packages: [transformers]
    state: latest

- name: Remove an environment
  rocketce.power.micromamba_env:
    name: scratch
    state: absent
'''

RETURN = r'''
prefix:
  description: Path of the environment.
  returned: always
  type: str
  sample: /opt/micromamba/envs/ai
packages:
  description: The installed packages after the module ran (planned ones in check mode), by name.
  returned: always
  type: dict
  sample: {"python": {"version": "3.11.8", "build": "h8d86120_0", "channel": "rocketce"}}
added:
  description: Names of packages that were (or would be) installed.
  returned: always
  type: list
  elements: str
  sample: [pytorch-cpu]
removed:
  description: Names of packages that were (or would be) removed.
  returned: always
  type: list
  elements: str
  sample: []
updated:
  description: Names of packages whose version or build changed (or would change).
  returned: always
  type: list
  elements: str
  sample: [transformers]
cmd:
  description: The micromamba command that changed the environment (or planned it in check mode); absent when none ran.
  returned: when a transaction ran
  type: list
  elements: str
  sample: [micromamba, install, -y, --json, -r, /opt/micromamba, -p, /opt/micromamba/envs/ai, pytorch-cpu]
'''

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.rocketce.power.plugins.module_utils.micromamba import (
    MicromambaOutputError,
    apply_transaction,
    env_file_specs,
    parse_list_json,
    parse_transaction_json,
    render_package_set,
    spec_satisfied,
)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # the solver then decides whether an environment file is satisfied
    HAS_YAML = False

ENV_NAME_RE = re.compile(r'^[A-Za-z0-9._-]+$')


class MicromambaEnv(object):
    def __init__(self, module):
        self.module = module
        params = module.params
        self.executable = module.get_bin_path(params['executable'], opt_dirs=['/usr/local/bin'])
        self.root_prefix = params['root_prefix']
        self.prefix = params['prefix'] or os.path.join(self.root_prefix, 'envs', params['name'])
        self.ran = None

    def base_argv(self, *command):
        return [self.executable] + list(command) + ['-r', self.root_prefix, '-p', self.prefix]

    def solve_argv(self, *command):
        params = self.module.params
        argv = self.base_argv(*command)
        for channel in params['channels']:
            argv += ['-c', channel]
        if params['override_channels']:
            argv.append('--override-channels')
        if params['file']:
            argv += ['-f', params['file']]
        return argv + list(params['packages'])

    def run(self, argv):
        rc, out, err = self.module.run_command(argv, environ_update={'LC_ALL': 'C.UTF-8'})
        if rc != 0:
            self.module.fail_json(msg='%s failed (rc=%d): %s' % (' '.join(argv[:2]), rc, (err or out).strip()[-2000:]),
                                  rc=rc, stdout=out, stderr=err, cmd=argv)
        return out

    def exists(self):
        if os.path.isdir(os.path.join(self.prefix, 'conda-meta')):
            return True
        if os.path.isdir(self.prefix) and os.listdir(self.prefix):
            self.module.fail_json(msg='%s exists and is not a conda environment (no conda-meta); refusing to '
                                      'touch it' % self.prefix)
        return False

    def installed(self):
        try:
            return parse_list_json(self.run(self.base_argv('list', '--json')))
        except MicromambaOutputError as exc:
            self.module.fail_json(msg=to_native(exc))

    def transaction(self, argv, before):
        """Run (or, in check mode, plan) a transaction; returns the package set after it."""
        if self.module.check_mode:
            argv = argv + ['--dry-run']
        self.ran = argv
        out = self.run(argv)
        if not self.module.check_mode:
            return self.installed()
        try:
            success, link, unlink, message = parse_transaction_json(out)
        except MicromambaOutputError as exc:
            self.module.fail_json(msg=to_native(exc))
        if not success:
            self.module.fail_json(msg='micromamba planned no successful transaction: %s' % message, stdout=out)
        return apply_transaction(before, link, unlink)

    def wanted_specs(self):
        """Specs to check before deciding to run the solver; None when only the solver can tell."""
        specs = list(self.module.params['packages'])
        path = self.module.params['file']
        if path:
            if not HAS_YAML:
                return None
            try:
                with open(path) as handle:
                    file_specs = env_file_specs(yaml.safe_load(handle))
            except (IOError, OSError, yaml.YAMLError) as exc:
                self.module.fail_json(msg='cannot read environment file %s: %s' % (path, to_native(exc)))
            if file_specs is None:
                return None
            specs += file_specs
        return specs


def all_satisfied(specs, packages):
    return specs is not None and all(spec_satisfied(spec, packages) is True for spec in specs)


def compare(before, after):
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    updated = sorted(name for name in set(before) & set(after)
                     if (before[name]['version'], before[name]['build'])
                     != (after[name]['version'], after[name]['build']))
    return added, removed, updated


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type='str'),
            prefix=dict(type='path'),
            root_prefix=dict(type='path', default='/opt/micromamba'),
            packages=dict(type='list', elements='str', default=[]),
            file=dict(type='path'),
            channels=dict(type='list', elements='str', default=[]),
            override_channels=dict(type='bool', default=False),
            state=dict(type='str', default='present', choices=['present', 'latest', 'absent']),
            executable=dict(type='str', default='micromamba'),
        ),
        required_one_of=[('name', 'prefix')],
        mutually_exclusive=[('name', 'prefix')],
        supports_check_mode=True,
    )
    params = module.params
    if params['name'] is not None and not ENV_NAME_RE.match(params['name']):
        module.fail_json(msg='name %r may only contain letters, digits, ".", "_" and "-"' % params['name'])
    if params['prefix'] is not None and not os.path.isabs(params['prefix']):
        module.fail_json(msg='prefix must be an absolute path, got %r' % params['prefix'])
    if params['state'] == 'latest' and not params['packages']:
        module.fail_json(msg='state=latest needs packages (the names to update)')
    if params['state'] != 'absent' and not params['packages'] and not params['file']:
        module.fail_json(msg='state=%s needs packages or file' % params['state'])
    if params['file'] and not os.path.isfile(params['file']):
        module.fail_json(msg='environment file %s does not exist on the target' % params['file'])

    env = MicromambaEnv(module)
    if env.executable is None:
        # In a check-mode run of a whole playbook micromamba itself may not be installed yet: report the planned
        # creation (nothing can be planned in detail without it); a real run needs the binary.
        if module.check_mode and not os.path.isdir(os.path.join(env.prefix, 'conda-meta')):
            module.exit_json(changed=params['state'] != 'absent', prefix=env.prefix, packages={}, added=[],
                             removed=[], updated=[], msg='micromamba is not installed yet; the environment would be '
                                                         'created once it is')
        module.fail_json(msg='micromamba executable %r not found (install it with the rocketce.power micromamba '
                             'role)' % params['executable'])
    if os.path.normpath(env.prefix) == os.path.normpath(env.root_prefix):
        module.fail_json(msg='the environment prefix is the root prefix %s; micromamba does not allow that'
                             % env.root_prefix)
    exists = env.exists()
    before = env.installed() if exists else {}

    if params['state'] == 'absent':
        after = before
        if exists:
            after = {}
            env.ran = env.base_argv('env', 'remove', '-y', '--json')
            if not module.check_mode:
                env.run(env.ran)
    elif not exists:
        # The only place `create` runs: the prefix holds no conda environment yet.
        after = env.transaction(env.solve_argv('create', '-y', '--json'), before)
    else:
        after = before
        if not all_satisfied(env.wanted_specs(), before):
            after = env.transaction(env.solve_argv('install', '-y', '--json'), before)
        if params['state'] == 'latest':
            update = [env.executable, 'update', '-y', '--json', '-r', env.root_prefix, '-p', env.prefix]
            for channel in params['channels']:
                update += ['-c', channel]
            if params['override_channels']:
                update.append('--override-channels')
            after = env.transaction(update + list(params['packages']), after)

    added, removed, updated = compare(before, after)
    changed = bool(added or removed or updated) or (exists != (params['state'] != 'absent'))
    result = dict(changed=changed, prefix=env.prefix, packages=after, added=added, removed=removed, updated=updated)
    if env.ran:
        result['cmd'] = env.ran
    if module._diff:
        result['diff'] = dict(before=render_package_set(before), after=render_package_set(after),
                              before_header='%s (installed)' % env.prefix, after_header='%s (wanted)' % env.prefix)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
