#!/usr/bin/python3
"""Lab stand-in for powerpc-utils' ppc64_cpu (SMT subset), for x86 lab hosts that have no POWER CPUs.

Behaves like powerpc-utils 1.3.13 (src/ppc64_cpu.c, src/common/cpu_info_helpers.c) for what the roles use:
  --smt, --smt -n, --smt={on|off|N}, --threads-per-core, --cores-present, --cores-on, --info
Outputs, streams and exit codes are the real ones: "SMT=8", "SMT is off", "SMT=2: 0-3,6" for mixed states,
"Machine is not SMT capable" with exit 255, "SMT=<arg> is not valid" with exit 255, silence and 0 on a set.

The machine model comes from the lab config (key=value, default /etc/rocketce-lab/ppc64_cpu.conf):
  threads_per_core=8
  cores=4
The online threads of each core live in a state file under /run (a tmpfs), so like a real kernel the machine
comes back with every thread online after a reboot unless something (smtstate.service) sets SMT again.
Environment overrides (tests): PPC64_CPU_STANDIN_CONFIG, PPC64_CPU_STANDIN_STATE.
"""

import json
import os
import sys

CONFIG_PATH = os.environ.get('PPC64_CPU_STANDIN_CONFIG', '/etc/rocketce-lab/ppc64_cpu.conf')
STATE_PATH = os.environ.get('PPC64_CPU_STANDIN_STATE', '/run/rocketce-lab/ppc64_cpu.state')
DEFAULTS = {'threads_per_core': 8, 'cores': 4}
FAILURE = 255  # ppc64_cpu returns -1 from main() on errors

USAGE = """Usage: ppc64_cpu [command] [options]
ppc64_cpu --smt [-n]                # Get current SMT state. [-n] shows numeric output
ppc64_cpu --smt={on|off}            # Turn SMT on/off
ppc64_cpu --smt=X                   # Set SMT state to X

ppc64_cpu --cores-present           # Get the number of cores present
ppc64_cpu --cores-on                # Get the number of cores currently online
ppc64_cpu --threads-per-core        # Get the number of threads per core
ppc64_cpu --info                    # Display system state information
"""


def load_config():
    config = dict(DEFAULTS)
    if os.path.exists(CONFIG_PATH):
        with open(CONFIG_PATH) as handle:
            for raw_line in handle:
                line = raw_line.split('#', 1)[0].strip()
                if '=' in line:
                    key, value = (part.strip() for part in line.split('=', 1))
                    if key in DEFAULTS:
                        config[key] = int(value)
    if config['threads_per_core'] < 1 or config['cores'] < 1:
        raise SystemExit(f'ppc64_cpu stand-in: invalid lab config {CONFIG_PATH}')
    return config


def load_state(config):
    """Online threads per core; a missing or stale state means every thread is online (fresh boot)."""
    if os.path.exists(STATE_PATH):
        with open(STATE_PATH) as handle:
            state = json.load(handle)
        if len(state) == config['cores'] and all(1 <= n <= config['threads_per_core'] for n in state):
            return state
    return [config['threads_per_core']] * config['cores']


def save_state(state):
    directory = os.path.dirname(STATE_PATH)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = STATE_PATH + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(state, handle)
    os.replace(tmp, STATE_PATH)


def compress(indices):
    """Core indices as ranges joined with ',' (0-3,6), like cpu_info_helpers.c print_cpus_by_smt()."""
    parts, start = [], None
    for position, index in enumerate(indices):
        if start is None:
            start = index
        if position + 1 == len(indices) or indices[position + 1] != index + 1:
            parts.append(str(start) if start == index else f'{start}-{index}')
            start = None
    return ','.join(parts)


def show_smt(config, numeric):
    if config['threads_per_core'] == 1:
        if numeric:
            print('SMT=1')
        else:
            print('Machine is not SMT capable', file=sys.stderr)
        return FAILURE
    state = load_state(config)
    levels = sorted(set(state))
    if len(levels) == 1:
        level = levels[0]
        print(f'SMT={level}' if numeric or level > 1 else 'SMT is off')
        return 0
    for level in levels:
        print(f'SMT={level}: {compress([core for core, n in enumerate(state) if n == level])}')
    return 0


def set_smt(config, value):
    if config['threads_per_core'] == 1:
        print('Machine is not SMT capable', file=sys.stderr)
        return FAILURE
    if value == 'on':
        level = config['threads_per_core']
    elif value == 'off':
        level = 1
    elif value.isdigit() and 1 <= int(value) <= config['threads_per_core']:
        level = int(value)
    else:
        print(f'SMT={value} is not valid')
        return FAILURE
    if os.geteuid() != 0 and not os.environ.get('PPC64_CPU_STANDIN_STATE'):
        print('Could not set SMT state: Permission denied', file=sys.stderr)
        return FAILURE
    save_state([level] * config['cores'])
    return 0


def show_info(config):
    state = load_state(config)
    tpc = config['threads_per_core']
    for core, online in enumerate(state):
        cells = ''.join('{:5d}{}'.format(core * tpc + t, '*' if t < online else ' ') for t in range(tpc))
        print(f'Core {core:3d}:{cells.rstrip()}')
    return 0


def main(argv):
    config = load_config()
    numeric = '-n' in argv
    args = [arg for arg in argv if arg != '-n']
    if len(args) != 1:
        sys.stderr.write(USAGE)
        return FAILURE
    command = args[0]
    if command == '--smt':
        return show_smt(config, numeric)
    if command.startswith('--smt='):
        return set_smt(config, command.split('=', 1)[1])
    if command == '--threads-per-core':
        print('Threads per core: {}'.format(config['threads_per_core']))
        return 0
    if command == '--cores-present':
        print('Number of cores present = {}'.format(config['cores']))
        return 0
    if command == '--cores-on':
        print('Number of cores online = {}'.format(config['cores']))
        return 0
    if command == '--info':
        return show_info(config)
    sys.stderr.write(USAGE)
    return FAILURE


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
