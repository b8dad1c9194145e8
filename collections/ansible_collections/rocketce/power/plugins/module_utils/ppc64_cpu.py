# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for powerpc-utils' ppc64_cpu output and the smtstate state file.

The formats come from powerpc-utils (src/ppc64_cpu.c, src/common/cpu_info_helpers.c, scripts/smtstate.in).
Everything here is pure (text in, data out) so it can be unit-tested without a POWER machine.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SMT_UNIFORM_RE = re.compile(r'^SMT=(\d+)$')
SMT_MIXED_RE = re.compile(r'^SMT=(\d+): (.+)$')
SMT_OFF_TEXT = 'SMT is off'
NOT_SMT_CAPABLE_TEXT = 'Machine is not SMT capable'
THREADS_PER_CORE_RE = re.compile(r'^Threads per core:\s*(\d+)\s*$', re.MULTILINE)
SMT_VALUE_LINE_RE = re.compile(r'^SMT_VALUE=(.*)$', re.MULTILINE)
KERNEL_ARG_RE = re.compile(r'(?:^|\s)smt-enabled=(\S+)')
# ppc64_cpu exits 255 (do_smt() returns -1) when threads_per_core is 1, even though `-n` prints SMT=1.
NOT_SMT_CAPABLE_RC = 255


class SmtParseError(ValueError):
    """ppc64_cpu printed something this parser does not know."""


def parse_smt_state(stdout, stderr='', rc=0):
    """Parse `ppc64_cpu --smt [-n]` into a dict.

    Returns ``{'capable': bool, 'mixed': bool, 'level': int or None, 'levels': {level: core_list_text}}``.
    ``level`` is None for a mixed state (cores differ); ``levels`` then maps every level present to its
    core index list (core indices, not CPU ids).
    """
    text = '\n'.join(part for part in (stdout or '', stderr or '') if part)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith(NOT_SMT_CAPABLE_TEXT) for line in lines) or (
            rc == NOT_SMT_CAPABLE_RC and lines == ['SMT=1']):
        return {'capable': False, 'mixed': False, 'level': 1, 'levels': {1: 'all'}}
    if rc != 0:
        raise SmtParseError('ppc64_cpu --smt failed (rc=%s): %s' % (rc, text.strip() or 'no output'))
    if lines == [SMT_OFF_TEXT]:
        return {'capable': True, 'mixed': False, 'level': 1, 'levels': {1: 'all'}}
    if len(lines) == 1:
        match = SMT_UNIFORM_RE.match(lines[0])
        if match:
            level = int(match.group(1))
            return {'capable': True, 'mixed': False, 'level': level, 'levels': {level: 'all'}}
    levels = {}
    for line in lines:
        match = SMT_MIXED_RE.match(line)
        if not match:
            raise SmtParseError('unexpected ppc64_cpu --smt output: %r' % text.strip())
        levels[int(match.group(1))] = match.group(2).strip()
    if not levels:
        raise SmtParseError('ppc64_cpu --smt printed nothing')
    return {'capable': True, 'mixed': True, 'level': None, 'levels': levels}


def parse_threads_per_core(stdout):
    """Parse `ppc64_cpu --threads-per-core` ("Threads per core: 8")."""
    match = THREADS_PER_CORE_RE.search(stdout or '')
    if not match:
        raise SmtParseError('unexpected ppc64_cpu --threads-per-core output: %r' % (stdout or '').strip())
    return int(match.group(1))


def smt_state_file_value(content):
    """Return the SMT_VALUE of a powerpc-utils smt.state file as int, or None when absent/invalid."""
    match = SMT_VALUE_LINE_RE.search(content or '')
    if not match:
        return None
    value = match.group(1).strip()
    return int(value) if re.match(r'^[1-8]$', value) else None


def set_smt_state_file_value(content, level):
    """Return ``content`` with its SMT_VALUE line set to ``level`` (comments and other lines kept)."""
    line = 'SMT_VALUE=%d' % level
    content = content or ''
    if SMT_VALUE_LINE_RE.search(content):
        return SMT_VALUE_LINE_RE.sub(line, content, count=1)
    if content and not content.endswith('\n'):
        content += '\n'
    return content + line + '\n'


def kernel_args_smt_values(grubby_info):
    """Parse `grubby --info=ALL`: list of the smt-enabled= value of each boot entry (None when unset)."""
    values = []
    for raw_line in (grubby_info or '').splitlines():
        line = raw_line.strip()
        if not line.startswith('args='):
            continue
        args = line[len('args='):].strip().strip('"')
        match = KERNEL_ARG_RE.search(args)
        values.append(match.group(1) if match else None)
    return values
