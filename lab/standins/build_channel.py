#!/usr/bin/env python3
"""Builds the lab's conda channels and publishes the micromamba stand-in, under the lab artifact directory.

Everything lands in ARTIFACTS (default $ROCKETCE_LAB_STATE/artifacts = /var/tmp/rocketce-lab/artifacts), which the
lab serves at http://127.0.0.1:8081/ inside every lab host:

  conda/rocketce/noarch/*.conda  + repodata.json      stand-in for https://conda.anaconda.org/rocketce
  conda/main/noarch/*.conda      + repodata.json      stand-in for `defaults` (repo.anaconda.com/pkgs/main)
  conda/<channel>/noarch/<pkg>.conda.sha256, conda/SHA256SUMS
  bin/micromamba/<version>/micromamba-<platform> + .sha256     the stand-in "binary" (release layout)
  bin/micromamba/<version>-tampered/...                         same name, content that does NOT match its .sha256
  wheels/py_rattler-*.whl, PyYAML-*.whl                         what the stand-in runs on (installed by install.yml)

The packages are small but real: conda v2 (.conda) archives made with conda-package-handling, indexed with
rattler-index, with dependencies between them and two versions of one package (for `state: latest`). A package
is only built when missing, so reruns are fast and keep their sha256.
"""

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDIN_SOURCE = HERE / 'micromamba_standin.py'
DEFAULT_VERSION = '2.0.5-0'
PLATFORMS = ('linux-64', 'linux-ppc64le')
# What the stand-in runs on inside lab hosts (Debian 12: CPython 3.11, x86_64).
STANDIN_WHEELS = ('py-rattler==0.28.0', 'PyYAML==6.0.2')
STANDIN_PYTHON = '/opt/rocketce-lab/standin-venv/bin/python3'
TIMESTAMP_MS = 1767225600000  # 2026-01-01, fixed so repodata does not change between builds

# (channel, name, version, depends, script body)
PACKAGES = [
    ('rocketce', 'lab-hello', '1.0', [], 'echo "lab-hello 1.0 from the lab rocketce channel"'),
    ('rocketce', 'lab-hello', '1.1', [], 'echo "lab-hello 1.1 from the lab rocketce channel"'),
    ('rocketce', 'lab-tools', '0.2.3', ['lab-hello >=1.0'], '"$(dirname "$0")/lab-hello" && echo "lab-tools 0.2.3"'),
    ('rocketce', 'pytorch-cpu', '2.1.2', ['lab-hello'], 'echo "pytorch-cpu 2.1.2 (lab placeholder, no torch inside)"'),
    ('main', 'lab-data', '2024.1', [], 'echo "lab-data 2024.1 from the lab defaults channel"'),
]


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def write_if_changed(path, content):
    path = Path(path)
    if path.exists() and path.read_text() == content:
        return
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(content)
    os.replace(tmp, path)


def build_package(channel_dir, name, version, depends, script):
    target = channel_dir / 'noarch' / (f'{name}-{version}-0.conda')
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(prefix='lab-conda-') as tmp:
        src = Path(tmp) / 'src'
        (src / 'bin').mkdir(parents=True)
        (src / 'info').mkdir()
        executable = src / 'bin' / name
        executable.write_text(f'#!/bin/sh\n{script}\n')
        executable.chmod(0o755)
        index = {'name': name, 'version': version, 'build': '0', 'build_number': 0, 'depends': depends,
                 'noarch': 'generic', 'subdir': 'noarch', 'license': 'Apache-2.0', 'timestamp': TIMESTAMP_MS}
        (src / 'info' / 'index.json').write_text(json.dumps(index, indent=2))
        (src / 'info' / 'files').write_text(f'bin/{name}\n')
        paths = {'paths': [{'_path': f'bin/{name}', 'path_type': 'hardlink', 'sha256': sha256_of(executable),
                            'size_in_bytes': executable.stat().st_size}], 'paths_version': 1}
        (src / 'info' / 'paths.json').write_text(json.dumps(paths, indent=2))
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, '-m', 'conda_package_handling.cli', 'create', str(src), target.name,
                        '--out-folder', str(target.parent)], check=True, stdout=subprocess.DEVNULL)
    return target


def build_channels(artifacts):
    from rattler.index import index_fs

    conda = artifacts / 'conda'
    sums = []
    for channel in sorted({package[0] for package in PACKAGES}):
        channel_dir = conda / channel
        for subdir in ('noarch',) + PLATFORMS:  # real channels have every arch subdir, even when empty
            (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
        for _, name, version, depends, script in [p for p in PACKAGES if p[0] == channel]:
            package = build_package(channel_dir, name, version, depends, script)
            digest = sha256_of(package)
            write_if_changed(str(package) + '.sha256', f'{digest}  {package.name}\n')
            sums.append(f'{digest}  {channel}/noarch/{package.name}\n')
        asyncio.run(index_fs(channel_dir, write_zst=False, write_shards=False))
    write_if_changed(conda / 'SHA256SUMS', ''.join(sums))
    return conda


def publish_standin(artifacts, version):
    """The stand-in "binary": the Python program with the lab venv's interpreter in its shebang."""
    body = STANDIN_SOURCE.read_text().split('\n', 1)[1]
    content = f'#!{STANDIN_PYTHON}\n{body}'
    release = artifacts / 'bin' / 'micromamba' / version
    tampered = artifacts / 'bin' / 'micromamba' / (f'{version}-tampered')
    release.mkdir(parents=True, exist_ok=True)
    tampered.mkdir(parents=True, exist_ok=True)
    for platform in PLATFORMS:
        binary = release / (f'micromamba-{platform}')
        write_if_changed(binary, content)
        binary.chmod(0o755)
        # fetch_release.py publishes the bare hash of the binary in <binary>.sha256
        write_if_changed(str(binary) + '.sha256', sha256_of(binary) + '\n')
        # A mirror gone bad: the checksum of a build that was announced, and a binary that is not that build.
        announced = content + '\n# the build the mirror announced\n'
        bad = tampered / binary.name
        write_if_changed(bad, content + '\n# tampered in transit\n')
        bad.chmod(0o755)
        write_if_changed(str(bad) + '.sha256', hashlib.sha256(announced.encode()).hexdigest() + '\n')
    return release


def fetch_wheels(artifacts):
    wheels = artifacts / 'wheels'
    wheels.mkdir(parents=True, exist_ok=True)
    if any(wheels.glob('py_rattler-0.28.0-*.whl')) and any(wheels.glob('PyYAML-6.0.2-*.whl')):
        return wheels
    subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:',
                    '--platform', 'manylinux2014_x86_64', '--python-version', '3.11', '-d', str(wheels),
                    *STANDIN_WHEELS], check=True)
    return wheels


def main():
    state = os.environ.get('ROCKETCE_LAB_STATE', '/var/tmp/rocketce-lab')  # noqa: S108 - the lab's fixed state dir
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--artifacts', default=os.path.join(state, 'artifacts'), type=Path)
    parser.add_argument('--micromamba-version', default=DEFAULT_VERSION)
    parser.add_argument('--skip-wheels', action='store_true', help='do not download the py-rattler wheel')
    args = parser.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)
    conda = build_channels(args.artifacts)
    release = publish_standin(args.artifacts, args.micromamba_version)
    print('channels: {}'.format(', '.join(sorted(p.name for p in conda.iterdir() if p.is_dir()))))
    print(f'micromamba stand-in: {release}')
    if not args.skip_wheels:
        print(f'wheels: {fetch_wheels(args.artifacts)}')
    shutil.rmtree(args.artifacts / '.tmp', ignore_errors=True)


if __name__ == '__main__':
    main()
