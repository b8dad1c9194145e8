# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for driving micromamba: parsing its JSON output and checking installed packages against specs.

`micromamba list --json` prints a bare JSON array up to 2.8.1 and ``{"packages": [...]}`` after it
(mamba commit 1cdb572); both are accepted. The spec matcher is deliberately partial: it answers True or False
for the common MatchSpec forms and None ("ask the solver") for anything else, so a wrong guess can only cost a
solver run, never a skipped installation.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

SPEC_NAME_RE = re.compile(r'^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*(.*)$')
CONSTRAINT_RE = re.compile(r'^(==|!=|>=|<=|>|<|=|~=)?\s*([A-Za-z0-9_.+!*\-]+)$')


class MicromambaOutputError(ValueError):
    """micromamba printed something that is not the documented JSON."""


def load_json_document(text):
    """Parse the JSON document in ``text``; tolerates log lines printed before it by older releases."""
    text = (text or '').strip()
    starts = [pos for pos in (text.find('['), text.find('{')) if pos >= 0]
    if not starts:
        raise MicromambaOutputError('no JSON in micromamba output: %r' % text[:200])
    try:
        return json.loads(text[min(starts):])
    except ValueError as exc:
        raise MicromambaOutputError('invalid JSON from micromamba (%s): %r' % (exc, text[:200])) from exc


def parse_list_json(text):
    """Parse `micromamba list --json` (either shape) into ``{name: {'version', 'build', 'channel'}}``."""
    document = load_json_document(text)
    if isinstance(document, dict):
        if 'packages' not in document:
            raise MicromambaOutputError('micromamba list --json object has no "packages" key')
        document = document['packages']
    if not isinstance(document, list):
        raise MicromambaOutputError('micromamba list --json is neither a list nor {"packages": [...]}')
    packages = {}
    for entry in document:
        try:
            packages[entry['name']] = {'version': str(entry['version']),
                                       'build': str(entry.get('build_string', entry.get('build', ''))),
                                       'channel': str(entry.get('channel', ''))}
        except (KeyError, TypeError) as exc:
            raise MicromambaOutputError('micromamba list --json entry without name/version: %r' % (entry,)) from exc
    return packages


def parse_transaction_json(text):
    """Parse the --json result of create/install/update/remove: ``(success, link, unlink, message)``.

    ``link``/``unlink`` map package names to version strings.
    """
    document = load_json_document(text)
    if not isinstance(document, dict):
        raise MicromambaOutputError('micromamba transaction --json is not an object')
    actions = document.get('actions') or {}

    def names(key):
        return dict((item['name'], str(item.get('version', ''))) for item in actions.get(key) or []
                    if isinstance(item, dict) and 'name' in item)

    return bool(document.get('success', False)), names('LINK'), names('UNLINK'), document.get('message', '')


def render_package_set(packages):
    """One ``name=version=build`` line per package, sorted: the text used for diffs."""
    return ''.join('%s=%s=%s\n' % (name, packages[name]['version'], packages[name]['build'])
                   for name in sorted(packages))


def apply_transaction(packages, link, unlink):
    """Predict the package set after a (dry-run) transaction."""
    after = dict((name, dict(info)) for name, info in packages.items() if name not in unlink)
    for name, version in link.items():
        after[name] = {'version': version, 'build': '(planned)', 'channel': ''}
    return after


def version_key(version):
    """An ordering key close to conda's: numbers compare numerically, 'dev' < letters < numbers < 'post'."""
    key = []
    for part in re.split(r'[._\-+]', version.lower()):
        for token in re.findall(r'\d+|[a-z]+', part):
            if token.isdigit():
                key.append((2, int(token), ''))
            elif token == 'dev':  # noqa: S105 - a version tag, not a password
                key.append((0, 0, token))
            elif token == 'post':  # noqa: S105 - a version tag, not a password
                key.append((3, 0, token))
            else:
                key.append((1, 0, token))
    return key


def compare_versions(left, right):
    """-1, 0 or 1; missing trailing parts count as 0, so 1.2 == 1.2.0 and 1.0.dev1 < 1.0."""
    left_key, right_key = version_key(left), version_key(right)
    width = max(len(left_key), len(right_key))
    left_key += [(2, 0, '')] * (width - len(left_key))
    right_key += [(2, 0, '')] * (width - len(right_key))
    return (left_key > right_key) - (left_key < right_key)


def _matches_constraint(version, constraint):
    match = CONSTRAINT_RE.match(constraint.strip())
    if not match:
        return None
    operator, wanted = match.group(1) or '', match.group(2)
    if wanted.endswith('.*'):
        if operator not in ('', '=', '=='):
            return None
        wanted, operator = wanted[:-2], '='
    if '*' in wanted:
        return None
    if operator in ('', '='):
        # Fuzzy: "1.2" accepts 1.2, 1.2.0, 1.2.5 (conda's "=1.2" means 1.2.*).
        have, want = version_key(version), version_key(wanted)
        return have[:len(want)] == want
    comparison = compare_versions(version, wanted)
    return {'==': comparison == 0, '!=': comparison != 0, '>=': comparison >= 0, '<=': comparison <= 0,
            '>': comparison > 0, '<': comparison < 0}.get(operator)


def spec_satisfied(spec, packages):
    """True/False when ``spec`` clearly is / is not met by the installed ``packages``; None when unsure."""
    spec = spec.strip()
    if '::' in spec:
        spec = spec.split('::', 1)[1]
    if '[' in spec or '(' in spec:
        return None
    match = SPEC_NAME_RE.match(spec)
    if not match:
        return None
    name, rest = match.group(1), match.group(2).strip()
    if name not in packages:
        return False
    if not rest:
        return True
    installed = packages[name]
    build = None
    if ' ' in rest:  # "name 1.2.* build"
        parts = rest.split()
        if len(parts) > 2:
            return None
        rest, build = parts[0], (parts[1] if len(parts) == 2 else None)
    elif rest.startswith('=') and not rest.startswith('==') and rest.count('=') == 2:  # "name=1.2=build"
        rest, build = rest.rsplit('=', 1)
    if build is not None and build != '*' and build != installed['build']:
        return False
    alternatives = []
    for alternative in rest.split('|'):
        results = [_matches_constraint(installed['version'], part) for part in alternative.split(',')]
        if None in results:
            return None
        alternatives.append(all(results))
    return any(alternatives)


def env_file_specs(document):
    """The conda dependencies of an environment file document; None when it has a pip section or is odd."""
    if not isinstance(document, dict):
        return None
    specs = []
    for item in document.get('dependencies') or []:
        if not isinstance(item, str):
            return None  # a "- pip: [...]" list: only the solver can tell
        specs.append(item)
    return specs
