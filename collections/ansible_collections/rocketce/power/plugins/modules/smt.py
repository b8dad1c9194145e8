#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: smt
short_description: Set the SMT level of a Linux on Power LPAR and make it persistent
version_added: 0.1.0
description:
  - Reads the current simultaneous multithreading (SMT) level with C(ppc64_cpu --smt -n) and sets it with
    C(ppc64_cpu --smt=N) only when it differs (a mixed state, where cores run different levels, always differs).
  - Makes the level persistent with the powerpc-utils C(smtstate) mechanism (the C(SMT_VALUE=) line of
    C(/var/lib/powerpc-utils/smt.state) plus an enabled C(smtstate.service)), or with the C(smt-enabled=)
    kernel argument through C(grubby). Only one mechanism should be used; they would fight each other.
  - A machine that is not SMT capable (one thread per core) accepts only O(level=1).
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
  level:
    description:
      - The SMT level (threads per core) to set, between 1 and the machine's threads per core (8 on POWER9/10).
    type: int
    required: true
  persist:
    description:
      - How the level survives a reboot.
      - V(smtstate) writes C(SMT_VALUE=<level>) to O(state_file) and enables O(service) (powerpc-utils >= 1.3.7).
      - V(kernel_arg) adds C(smt-enabled=<level>) to every boot entry with C(grubby); it takes effect at the next
        boot. If O(service) is enabled too it restores the state file's value after boot, so a warning is returned.
      - V(none) only changes the running system.
    type: str
    choices: [smtstate, kernel_arg, none]
    default: smtstate
  ppc64_cpu_path:
    description:
      - Path or name of the C(ppc64_cpu) command (searched in C(/usr/sbin) and C(PATH)).
      - The lab points it at a stand-in.
    type: str
    default: ppc64_cpu
  state_file:
    description:
      - The powerpc-utils SMT state file read by C(smtstate --load).
    type: path
    default: /var/lib/powerpc-utils/smt.state
  service:
    description:
      - The systemd unit that runs C(smtstate --load) at boot.
    type: str
    default: smtstate.service
  grubby_path:
    description:
      - Path or name of C(grubby), used when O(persist=kernel_arg).
    type: str
    default: grubby
notes:
  - Setting SMT needs root (it writes C(/sys/devices/system/cpu/smt/control) or the per-thread C(online) files).
  - C(ppc64_cpu) is part of the C(powerpc-utils) package (RHEL) or C(powerpc-ibm-utils) (Debian).
seealso:
  - module: rocketce.power.numa_info
'''

EXAMPLES = r'''
- name: SMT 2 now and after every reboot (smtstate.service)
  rocketce.power.smt:
    level: 2

- name: SMT 4 through the kernel command line instead
  rocketce.power.smt:
    level: 4
    persist: kernel_arg

- name: Only report what would change
  rocketce.power.smt:
    level: 2
  check_mode: true
  diff: true
  register: smt_plan
'''

RETURN = r'''
level:
  description: The SMT level after the module ran (the requested level, also in check mode when it would be set).
  returned: always
  type: int
  sample: 2
level_before:
  description: The uniform SMT level found before the module ran; null when the cores were in a mixed state.
  returned: always
  type: int
  sample: 8
mixed_before:
  description: Whether cores ran different SMT levels before the module ran.
  returned: always
  type: bool
  sample: false
levels_before:
  description: Map of each SMT level found before the module ran to the core index list running it.
  returned: always
  type: dict
  sample: {"8": "all"}
smt_capable:
  description: Whether the machine has more than one thread per core.
  returned: always
  type: bool
  sample: true
threads_per_core:
  description: Threads per core of the machine (the highest valid level).
  returned: always
  type: int
  sample: 8
persist:
  description: The persistence mechanism used.
  returned: always
  type: str
  sample: smtstate
reboot_required:
  description: True when a kernel argument was changed; it applies at the next boot.
  returned: always
  type: bool
  sample: false
'''

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.rocketce.power.plugins.module_utils.ppc64_cpu import (
    SmtParseError,
    kernel_args_smt_values,
    parse_smt_state,
    parse_threads_per_core,
    set_smt_state_file_value,
)

SBIN_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin']
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}


class SmtController(object):
    """Reads and changes SMT through ppc64_cpu, and its persistence (state file, service, kernel args)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.ppc64_cpu = module.get_bin_path(self.params['ppc64_cpu_path'], required=True, opt_dirs=SBIN_DIRS)
        self.changed = False
        self.before = {}
        self.after = {}

    def run(self, argv, check_rc=True):
        rc, out, err = self.module.run_command(argv, environ_update=C_LOCALE)
        if check_rc and rc != 0:
            self.module.fail_json(msg='%s failed (rc=%d): %s' % (' '.join(argv), rc, (err or out).strip()),
                                  rc=rc, stdout=out, stderr=err, cmd=argv)
        return rc, out, err

    def read_state(self):
        rc, out, err = self.run([self.ppc64_cpu, '--smt', '-n'], check_rc=False)
        try:
            return parse_smt_state(out, err, rc)
        except SmtParseError as exc:
            self.module.fail_json(msg=to_native(exc), rc=rc, stdout=out, stderr=err)

    def threads_per_core(self):
        out = self.run([self.ppc64_cpu, '--threads-per-core'])[1]
        try:
            return parse_threads_per_core(out)
        except SmtParseError as exc:
            self.module.fail_json(msg=to_native(exc), stdout=out)

    def apply_level(self, state, level):
        if not state['mixed'] and state['level'] == level:
            return
        self.changed = True
        if self.module.check_mode:
            return
        self.run([self.ppc64_cpu, '--smt=%d' % level])
        now = self.read_state()
        if now['mixed'] or now['level'] != level:
            self.module.fail_json(msg='ppc64_cpu --smt=%d returned 0 but the machine now reports %s'
                                  % (level, describe(now)), levels=now['levels'])

    def persist_smtstate(self, level):
        path = self.params['state_file']
        content = read_text(path)
        wanted = set_smt_state_file_value(content, level)
        self.before['state_file'] = content
        self.after['state_file'] = wanted
        if content != wanted:
            self.changed = True
            if not self.module.check_mode:
                write_text_atomic(self.module, path, wanted)
        enabled = self.service_enabled()
        self.before['service'] = 'enabled' if enabled else 'disabled'
        self.after['service'] = 'enabled'
        if not enabled:
            self.changed = True
            if not self.module.check_mode:
                self.run([self.systemctl(), 'enable', self.params['service']])

    def persist_kernel_arg(self, level):
        grubby = self.module.get_bin_path(self.params['grubby_path'], required=True, opt_dirs=SBIN_DIRS)
        values = kernel_args_smt_values(self.run([grubby, '--info=ALL'])[1])
        if not values:
            self.module.fail_json(msg='grubby --info=ALL listed no boot entries with args=')
        self.before['kernel_args'] = ['smt-enabled=%s' % v if v else '(unset)' for v in values]
        self.after['kernel_args'] = ['smt-enabled=%d' % level] * len(values)
        reboot_required = any(value != str(level) for value in values)
        if reboot_required:
            self.changed = True
            if not self.module.check_mode:
                self.run([grubby, '--update-kernel=ALL', '--args=smt-enabled=%d' % level])
        if self.service_enabled(missing_ok=True):
            self.module.warn('%s is enabled and restores the SMT level of %s after boot, overriding smt-enabled=; '
                             'use one mechanism only' % (self.params['service'], self.params['state_file']))
        return reboot_required

    def systemctl(self):
        return self.module.get_bin_path('systemctl', required=True)

    def service_enabled(self, missing_ok=False):
        rc, out, err = self.run([self.systemctl(), 'is-enabled', self.params['service']], check_rc=False)
        status = out.strip()
        if status == 'not-found' or 'No such file' in err or 'not found' in err:
            if missing_ok:
                return False
            self.module.fail_json(msg='%s does not exist; smtstate.service comes with powerpc-utils >= 1.3.7 '
                                      '(install it, or use persist=kernel_arg)' % self.params['service'])
        return rc == 0 and status in ('enabled', 'enabled-runtime', 'static', 'alias', 'indirect', 'generated')


def describe(state):
    if state['mixed']:
        return 'a mixed state (%s)' % ', '.join('SMT=%s: %s' % item for item in sorted(state['levels'].items()))
    return 'SMT=%d' % state['level']


def read_text(path):
    if not os.path.exists(path):
        return ''
    with open(path) as handle:
        return handle.read()


def write_text_atomic(module, path, content):
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    tmp_path = '%s.ansible-tmp' % path
    with open(tmp_path, 'w') as handle:
        handle.write(content)
    os.chmod(tmp_path, 0o644)
    module.atomic_move(tmp_path, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            level=dict(type='int', required=True),
            persist=dict(type='str', default='smtstate', choices=['smtstate', 'kernel_arg', 'none']),
            ppc64_cpu_path=dict(type='str', default='ppc64_cpu'),
            state_file=dict(type='path', default='/var/lib/powerpc-utils/smt.state'),
            service=dict(type='str', default='smtstate.service'),
            grubby_path=dict(type='str', default='grubby'),
        ),
        supports_check_mode=True,
    )
    level = module.params['level']
    controller = SmtController(module)
    state = controller.read_state()
    result = dict(changed=False, level_before=state['level'], mixed_before=state['mixed'],
                  levels_before=dict((str(k), v) for k, v in state['levels'].items()),
                  smt_capable=state['capable'], persist=module.params['persist'], reboot_required=False)

    if not state['capable']:
        result['threads_per_core'] = 1
        if level != 1:
            module.fail_json(msg='Machine is not SMT capable (1 thread per core); only level=1 is possible, '
                                 'not %d' % level, **result)
        module.exit_json(level=1, **result)

    threads_per_core = controller.threads_per_core()
    result['threads_per_core'] = threads_per_core
    if not 1 <= level <= threads_per_core:
        module.fail_json(msg='level=%d is not valid: this machine accepts 1 to %d threads per core'
                             % (level, threads_per_core), **result)

    controller.before['smt'] = describe(state)
    controller.after['smt'] = 'SMT=%d' % level
    controller.apply_level(state, level)
    if module.params['persist'] == 'smtstate':
        controller.persist_smtstate(level)
    elif module.params['persist'] == 'kernel_arg':
        result['reboot_required'] = controller.persist_kernel_arg(level)

    result.update(changed=controller.changed, level=level)
    if module._diff:
        result['diff'] = dict(before=render(controller.before), after=render(controller.after))
    module.exit_json(**result)


def render(view):
    lines = []
    for key in ('smt', 'service', 'kernel_args', 'state_file'):
        if key not in view:
            continue
        value = view[key]
        if isinstance(value, list):
            value = ' '.join(value)
        if key == 'state_file':
            lines.append('# %s' % 'smt.state')
            lines.append(value.rstrip('\n'))
        else:
            lines.append('%s: %s' % (key, value))
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    main()
