#!/usr/bin/env python3
"""Lab stand-in for micromamba, built on py-rattler (real solving, real package installation).

There is no micromamba binary for this machine's registries, so the lab serves this program as the
"micromamba-<platform>" release file. It implements the subset of the micromamba 2.x CLI the roles use:

  create | install | update | remove   -r/-p/-n, -f (YAML env file or spec list), -c, --override-channels,
                                       -y, --json, --dry-run, -q, --no-rc
  list [--json] [regex]                bare JSON array (<= 2.8.1); MAMBA_STANDIN_LIST_SHAPE=object prints
                                       {"packages": [...]} like later releases
  env list [--json] | env remove       {"envs": [...]}
  clean -a|-i|-p|-t [-y] [--json]      empties <root>/pkgs (package cache, index cache)
  info [--json] | --version

Semantics kept from libmamba (api/create.cpp, install.cpp, configuration.cpp): `create` over an existing
environment asks "Overwrite?" and with -y deletes and rebuilds the whole prefix; a non-empty non-conda folder
aborts; the root prefix cannot be a target; root prefix = -r, else $MAMBA_ROOT_PREFIX, else
~/.local/share/mamba; rc files (/etc/conda/.condarc, <root>/.condarc, ~/.condarc, <prefix>/.condarc, $CONDARC)
with channels, channel_alias, default_channels, custom_channels, channel_priority; `defaults` expands to
default_channels. Exit codes: 0 success, 1 on errors (solver, abort), 109 for unknown arguments (CLI11).
Not implemented (exits 1 with a message): pip sections in env files, explicit (@EXPLICIT) files, shell hooks.
"""

import argparse
import asyncio
import datetime
import json
import os
import re
import shutil
import sys
from pathlib import Path

import rattler
import yaml

VERSION = '2.0.5'
CLI11_EXTRAS_ERROR = 109
DEFAULT_ALIAS = 'https://conda.anaconda.org'
DEFAULT_CHANNELS = ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r']
NOTHING_TO_DO = 'All requested packages already installed'


class MambaError(Exception):
    """An error micromamba reports as `critical libmamba <msg>` and exit 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f'{message}\nRun with --help for more information.\n')
        sys.exit(CLI11_EXTRAS_ERROR)


def add_prefix_options(parser):
    parser.add_argument('-r', '--root-prefix')
    parser.add_argument('-p', '--prefix')
    parser.add_argument('-n', '--name')
    parser.add_argument('--json', action='store_true')
    parser.add_argument('-q', '--quiet', action='store_true')
    parser.add_argument('--no-rc', action='store_true')
    parser.add_argument('--rc-file', action='append', default=[])


def add_solve_options(parser):
    add_prefix_options(parser)
    parser.add_argument('-f', '--file', action='append', default=[])
    parser.add_argument('-c', '--channel', action='append', default=[])
    parser.add_argument('--override-channels', action='store_true')
    parser.add_argument('--channel-priority', choices=['strict', 'flexible', 'disabled'])
    parser.add_argument('--strict-channel-priority', action='store_true')
    parser.add_argument('-y', '--yes', action='store_true')
    parser.add_argument('--dry-run', action='store_true')
    parser.add_argument('--offline', action='store_true')
    parser.add_argument('specs', nargs='*')


def build_parser():
    parser = Parser(prog='micromamba', description='Lab stand-in for micromamba (py-rattler)')
    parser.add_argument('--version', action='store_true')
    commands = parser.add_subparsers(dest='command', parser_class=Parser)
    for name in ('create', 'install', 'update', 'remove'):
        add_solve_options(commands.add_parser(name))
    listing = commands.add_parser('list')
    add_prefix_options(listing)
    listing.add_argument('regex', nargs='?')
    listing.add_argument('--full-name', action='store_true')
    info = commands.add_parser('info')
    add_prefix_options(info)
    clean = commands.add_parser('clean')
    clean.add_argument('-r', '--root-prefix')
    clean.add_argument('--json', action='store_true')
    clean.add_argument('-q', '--quiet', action='store_true')
    clean.add_argument('-a', '--all', action='store_true')
    clean.add_argument('-i', '--index-cache', action='store_true')
    clean.add_argument('-p', '--packages', action='store_true')
    clean.add_argument('-t', '--tarballs', action='store_true')
    clean.add_argument('-y', '--yes', action='store_true')
    env = commands.add_parser('env')
    env_commands = env.add_subparsers(dest='env_command', parser_class=Parser)
    env_list = env_commands.add_parser('list')
    add_prefix_options(env_list)
    env_remove = env_commands.add_parser('remove')
    add_prefix_options(env_remove)
    env_remove.add_argument('-y', '--yes', action='store_true')
    env_remove.add_argument('--dry-run', action='store_true')
    return parser


# ----------------------------------------------------------------------------------------------- configuration
def root_prefix(args):
    if args.root_prefix:
        return Path(args.root_prefix).expanduser().absolute()
    if os.environ.get('MAMBA_ROOT_PREFIX'):
        return Path(os.environ['MAMBA_ROOT_PREFIX']).expanduser().absolute()
    data_home = os.environ.get('XDG_DATA_HOME') or os.path.expanduser('~/.local/share')
    return Path(data_home) / 'mamba'


def target_prefix(args, root, file_name=None):
    if args.prefix:
        return Path(args.prefix).expanduser().absolute()
    name = args.name or file_name
    if name:
        return root if name == 'base' else root / 'envs' / name
    if os.environ.get('CONDA_PREFIX'):
        return Path(os.environ['CONDA_PREFIX'])
    return root


def rc_files(root, prefix, extra):
    home = Path(os.path.expanduser('~'))
    candidates = [Path('/etc/conda/.condarc'), Path('/etc/conda/condarc'), Path('/etc/conda/.mambarc'),
                  Path('/var/lib/conda/.condarc'), root / '.condarc', root / 'condarc', root / '.mambarc',
                  home / '.conda' / '.condarc', home / '.condarc', home / '.mambarc']
    if prefix is not None:
        candidates += [prefix / '.condarc', prefix / 'condarc', prefix / '.mambarc']
    for variable in ('CONDARC', 'MAMBARC'):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]))
    candidates += [Path(path) for path in extra]
    found = []
    for path in candidates:
        if path.is_file() and path.resolve() not in [f.resolve() for f in found]:
            found.append(path)
    return found


def load_rc(args, root, prefix):
    """Merge rc files: scalars from the highest-precedence file, lists highest first (libmamba's rules)."""
    config = {}
    if getattr(args, 'no_rc', False):
        return config, []
    files = rc_files(root, prefix, args.rc_file)
    for path in reversed(files):  # highest precedence first
        document = yaml.safe_load(path.read_text()) or {}
        if not isinstance(document, dict):
            raise MambaError(f'rc file {path} is not a mapping')
        for key, value in document.items():
            if isinstance(value, list):
                merged = config.setdefault(key, [])
                merged.extend(item for item in value if item not in merged)
            else:
                config.setdefault(key, value)
    return config, files


def resolve_channels(names, config):
    alias = str(config.get('channel_alias') or DEFAULT_ALIAS).rstrip('/')
    custom = config.get('custom_channels') or {}
    urls = []
    for name in names:
        if name == 'nodefaults':
            continue
        if name == 'defaults':
            expanded = resolve_channels(config.get('default_channels') or DEFAULT_CHANNELS, config)
        elif '://' in name:
            expanded = [name.rstrip('/')]
        elif name.split('/')[0] in custom:
            expanded = ['{}/{}'.format(str(custom[name.split('/')[0]]).rstrip('/'), name)]
        else:
            expanded = [f'{alias}/{name}']
        urls.extend(url for url in expanded if url not in urls)
    return urls


def channel_priority(args, config):
    value = 'strict' if args.strict_channel_priority else (args.channel_priority or config.get('channel_priority'))
    value = {True: 'flexible', False: 'disabled'}.get(value, value) or 'flexible'
    # rattler's Flexible keeps the first channel's packages preferred but lets later channels fill gaps.
    return {'strict': rattler.ChannelPriority.Strict, 'flexible': rattler.ChannelPriority.Flexible,
            'disabled': rattler.ChannelPriority.Disabled}[value]


# ---------------------------------------------------------------------------------------------------- prefix
def read_spec_files(paths):
    specs, channels, name = [], [], None
    for path in paths:
        text = Path(path).read_text()
        if path.endswith(('.yml', '.yaml')):
            document = yaml.safe_load(text) or {}
            name = name or document.get('name')
            channels += [str(c) for c in document.get('channels') or []]
            for item in document.get('dependencies') or []:
                if not isinstance(item, str):
                    raise MambaError(f'pip dependencies in {path} are not supported by the lab micromamba stand-in')
                specs.append(item)
        else:
            lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('#')]
            if '@EXPLICIT' in lines:
                raise MambaError('explicit spec files are not supported by the lab micromamba stand-in')
            specs += lines
    return specs, channels, name


def installed_records(prefix):
    meta = prefix / 'conda-meta'
    if not meta.is_dir():
        return []
    return [rattler.PrefixRecord.from_path(str(path)) for path in sorted(meta.glob('*.json'))]


def spec_name(spec):
    return str(rattler.MatchSpec(spec).name.normalized if rattler.MatchSpec(spec).name else spec)


def history_specs(prefix):
    """The requested specs so far, by package name, from conda-meta/history (# update/remove specs lines)."""
    requested = {}
    history = prefix / 'conda-meta' / 'history'
    if not history.exists():
        return requested
    for line in history.read_text().splitlines():
        match = re.match(r'^# (update|remove) specs: (.*)$', line)
        if not match:
            continue
        specs = json.loads(match.group(2))
        for spec in specs:
            if match.group(1) == 'update':
                requested[spec_name(spec)] = spec
            else:
                requested.pop(spec_name(spec), None)
    return requested


def append_history(prefix, argv, changes, kind, specs):
    meta = prefix / 'conda-meta'
    meta.mkdir(parents=True, exist_ok=True)
    lines = ['==> {} <=='.format(datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')),
             '# cmd: micromamba {}'.format(' '.join(argv)), '# conda version: 3.8.0']
    link, unlink = changes
    lines += [f'-{record_id(record)}' for record in unlink] + [f'+{record_id(record)}' for record in link]
    lines.append(f'# {kind} specs: {json.dumps(specs)}')
    with open(meta / 'history', 'a') as handle:
        handle.write('\n'.join(lines) + '\n')


def record_id(record):
    return f'{channel_url(record)}::{record.name.normalized}-{record.version}-{str(record.build)}'


def channel_url(record):
    channel = str(record.channel or '')
    if channel:
        return channel.rstrip('/')
    return str(record.url).rsplit('/', 2)[0]


def describe(record):
    base_url = channel_url(record)
    return {'base_url': base_url, 'build_number': record.build_number, 'build_string': str(record.build),
            'channel': base_url.rsplit('/', 1)[-1],
            'dist_name': f'{record.name.normalized}-{record.version}-{record.build}',
            'name': record.name.normalized, 'platform': record.subdir, 'version': str(record.version),
            'url': str(record.url), 'sha256': record.sha256.hex() if record.sha256 else ''}


def check_create_target(prefix, root, yes):
    if prefix == root:
        raise MambaError('Overwriting root prefix is not permitted')
    if (prefix / 'conda-meta').is_dir():
        if not yes:
            sys.stdout.write(f"Found conda-prefix at '{prefix}'. Overwrite?: [y/N] ")
            sys.stdout.flush()
            answer = sys.stdin.readline().strip().lower() if not sys.stdin.closed else ''
            if answer not in ('y', 'yes'):
                raise MambaError('Aborting.')
        shutil.rmtree(prefix)  # libmamba deletes the whole prefix and rebuilds it
    elif prefix.is_dir() and any(prefix.iterdir()):
        raise MambaError('Non-conda folder exists at prefix - aborting.')
    elif prefix.is_dir():
        sys.stderr.write(f"warning  libmamba Using existing empty folder '{prefix}' as prefix\n")


# ----------------------------------------------------------------------------------------------- transactions
def transaction(args, argv):
    root = root_prefix(args)
    file_specs, file_channels, file_name = read_spec_files(args.file)
    prefix = target_prefix(args, root, file_name)
    if args.command == 'create':
        if not args.dry_run:
            check_create_target(prefix, root, args.yes)
        elif prefix == root:
            raise MambaError('Overwriting root prefix is not permitted')
    elif not (prefix / 'conda-meta').is_dir():
        raise MambaError(f"The given prefix does not exist: '{prefix}'")
    config, _ = load_rc(args, root, prefix)
    names = list(args.channel) + file_channels
    if not args.override_channels:
        names += [str(c) for c in config.get('channels') or []]
    urls = resolve_channels(names, config)
    new_specs = list(args.specs) + file_specs
    installed = [] if args.command == 'create' else installed_records(prefix)
    requested = {} if args.command == 'create' else history_specs(prefix)
    locked = list(installed)
    if args.command == 'remove':
        kind, names_gone = 'remove', {spec_name(s) for s in new_specs}
        missing = names_gone - {r.name.normalized for r in installed}
        if missing:
            raise MambaError('No package(s) named {} installed in {}'.format(', '.join(sorted(missing)), prefix))
        for name in names_gone:
            requested.pop(name, None)
        locked = [r for r in installed if r.name.normalized not in names_gone]
    else:
        kind = 'update'
        for spec in new_specs:
            requested[spec_name(spec)] = spec
        if args.command == 'update':
            updated = {spec_name(s) for s in new_specs}
            locked = [r for r in installed if r.name.normalized not in updated]
    if requested and not urls:
        raise MambaError('No channels configured (use -c, a .condarc with channels:, or an env file)')

    records = []
    if requested:
        gateway = rattler.Gateway(cache_dir=str(root / 'pkgs' / 'cache'), show_progress=False)
        try:
            records = asyncio.run(rattler.solve(
                sources=[rattler.Channel(url) for url in urls], specs=list(requested.values()), gateway=gateway,
                platforms=[str(rattler.Platform.current()), 'noarch'], locked_packages=locked,
                virtual_packages=rattler.VirtualPackage.detect(), channel_priority=channel_priority(args, config)))
        except Exception as exc:
            raise MambaError(f'Could not solve for environment specs\n{exc}') from exc
    if args.command == 'remove':
        still = sorted({r.name.normalized for r in records} & {spec_name(s) for s in new_specs})
        if still:
            raise MambaError('Cannot remove {}: other requested packages depend on it'.format(', '.join(still)))

    def key(record):
        return (record.name.normalized, str(record.version), str(record.build))

    old, new = {key(r): r for r in installed}, {key(r): r for r in records}
    link = [new[k] for k in sorted(set(new) - set(old))]
    unlink = [old[k] for k in sorted(set(old) - set(new))]
    changes = bool(link or unlink) or (args.command == 'create')
    if changes and not args.dry_run:
        prefix.mkdir(parents=True, exist_ok=True)
        asyncio.run(rattler.install(records, target_prefix=str(prefix), cache_dir=str(root / 'pkgs'),
                                    installed_packages=installed, show_progress=False))
        append_history(prefix, argv, (link, unlink), kind, new_specs)
    report(args, prefix, link, unlink, changes)
    return 0


def report(args, prefix, link, unlink, changes):
    if args.json:
        result = {'success': True, 'dry_run': bool(args.dry_run), 'prefix': str(prefix)}
        if link or unlink:
            result['actions'] = {'PREFIX': str(prefix), 'LINK': [describe(r) for r in link],
                                 'UNLINK': [describe(r) for r in unlink]}
        elif not changes:
            result['message'] = NOTHING_TO_DO
        print(json.dumps(result, indent=4))
        return
    if args.quiet:
        return
    if not (link or unlink):
        print('\n  %s\n' % (NOTHING_TO_DO if not changes else f'Empty environment created at {prefix}'))
        return
    print(f'\nTransaction\n\n  Prefix: {prefix}\n')
    for sign, records in (('-', unlink), ('+', link)):
        for record in records:
            print('  {} {:<24} {:<12} {:<14} {}'.format(sign, record.name.normalized, str(record.version),
                                                       str(record.build), describe(record)['channel']))
    print('\n%s' % ('Dry run. Not executing the transaction.' if args.dry_run else 'Transaction finished'))


# ------------------------------------------------------------------------------------------------ read-only
def list_packages(args):
    root = root_prefix(args)
    prefix = target_prefix(args, root)
    if not (prefix / 'conda-meta').is_dir():
        raise MambaError(f"The given prefix does not exist: '{prefix}'")
    packages = sorted((describe(r) for r in installed_records(prefix)), key=lambda p: p['name'])
    if args.regex:
        pattern = re.compile(f'^{re.escape(args.regex)}$' if args.full_name else args.regex)
        packages = [p for p in packages if pattern.search(p['name'])]
    if args.json:
        shape = os.environ.get('MAMBA_STANDIN_LIST_SHAPE', 'array')
        print(json.dumps({'packages': packages} if shape == 'object' else packages, indent=4))
        return 0
    print(f'List of packages in environment: "{prefix}"\n')
    print('  {:<24} {:<12} {:<14} {}'.format('Name', 'Version', 'Build', 'Channel'))
    print('─' * 70)
    for package in packages:
        print('  {:<24} {:<12} {:<14} {}'.format(package['name'], package['version'], package['build_string'],
                                          package['channel']))
    return 0


def environments(root):
    envs = [root] if (root / 'conda-meta').is_dir() or root.is_dir() else []
    envs_dir = root / 'envs'
    if envs_dir.is_dir():
        envs += sorted(path for path in envs_dir.iterdir() if (path / 'conda-meta').is_dir())
    return envs


def env_command(args):
    root = root_prefix(args)
    if args.env_command == 'list':
        envs = environments(root)
        if args.json:
            print(json.dumps({'envs': [str(path) for path in envs]}, indent=4))
        else:
            print('  Name      Active  Path\n' + '─' * 50)
            for path in envs:
                print('  {:<9}         {}'.format('base' if path == root else path.name, path))
        return 0
    if args.env_command == 'remove':
        prefix = target_prefix(args, root)
        if prefix == root:
            raise MambaError('Cannot remove the root prefix')
        if not (prefix / 'conda-meta').is_dir():
            raise MambaError(f"The given prefix does not exist: '{prefix}'")
        if not args.dry_run:
            shutil.rmtree(prefix)
        if args.json:
            print(json.dumps({'success': True, 'dry_run': bool(args.dry_run), 'prefix': str(prefix)}, indent=4))
        elif not args.quiet:
            print(f'Environment removed at prefix: {prefix}')
        return 0
    raise MambaError('env: use "env list" or "env remove"')


def info(args):
    root = root_prefix(args)
    prefix = target_prefix(args, root)
    config, files = load_rc(args, root, prefix)
    channels = resolve_channels([str(c) for c in config.get('channels') or []], config)
    platform = str(rattler.Platform.current())
    data = {'micromamba version': VERSION, 'libmamba version': VERSION, 'environment': str(prefix),
            'env location': str(prefix), 'envs directories': [str(root / 'envs')],
            'package cache': [str(root / 'pkgs')], 'populated config files': [str(f) for f in files],
            'channels': [url + '/' + sub for url in channels for sub in (platform, 'noarch')],
            'base environment': str(root), 'platform': platform,
            'virtual packages': [f'{g.name.normalized}={g.version}={g.build_string}'
                                 for g in (v.into_generic() for v in rattler.VirtualPackage.detect())],
            'stand-in': 'rocketce-power lab (py-rattler {})'.format(getattr(rattler, '__version__', '?'))}
    if args.json:
        print(json.dumps(data, indent=4))
        return 0
    width = max(len(key) for key in data)
    for key, value in data.items():
        values = value if isinstance(value, list) else [value]
        for position, item in enumerate(values or ['']):
            print('{} : {}'.format((key if position == 0 else '').rjust(width), item))
    return 0


def clean_cache(args):
    """`clean`: drop the package cache (tarballs, extracted packages) and/or the repodata index cache."""
    pkgs = root_prefix(args) / 'pkgs'
    removed = []
    if pkgs.is_dir():
        for entry in sorted(pkgs.iterdir()):
            is_index = entry.name == 'cache'
            is_tarball = entry.is_file() and entry.name.endswith(('.conda', '.tar.bz2'))
            wanted = args.all or (is_index and args.index_cache) or (is_tarball and args.tarballs) or (
                not is_index and not is_tarball and args.packages)
            if not wanted:
                continue
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry.name)
    if args.json:
        print(json.dumps({'success': True, 'removed': removed}, indent=4))
    elif not args.quiet:
        print(f'Removed {len(removed)} entries from {pkgs}' if removed else f'Nothing to clean in {pkgs}')
    return 0


def main(argv):
    args = build_parser().parse_args(argv)
    if args.version:
        print(VERSION)
        return 0
    try:
        if args.command in ('create', 'install', 'update', 'remove'):
            return transaction(args, argv)
        if args.command == 'list':
            return list_packages(args)
        if args.command == 'env':
            return env_command(args)
        if args.command == 'info':
            return info(args)
        if args.command == 'clean':
            return clean_cache(args)
    except MambaError as exc:
        sys.stderr.write(f'critical libmamba {exc}\n')
        return 1
    sys.stderr.write('A subcommand is required: create, install, update, remove, list, env, info\n')
    return CLI11_EXTRAS_ERROR


if __name__ == '__main__':
    CODE = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # py-rattler's runtime threads can crash during interpreter teardown after an install that unlinks
    # packages (seen as exit 139 after a finished transaction); the work is done, so skip the teardown.
    os._exit(CODE)
