# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of HMC object names (managed systems, partitions, profiles) before they go anywhere near a command.

A name that passes is printable ASCII without leading/trailing blanks; spaces, commas and quotes are allowed
because the HMC allows them, and the command builder passes such names as data (one shell-quoted argv piece,
or a pair-quoted ``-i`` record). Everything else - control characters, line breaks, non-ASCII, empty or
over-long names - is rejected with a message that says which rule was broken, before any SSH connection.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcNameError

# Longest names the modules accept. The HMC GUI limits partition and profile names to 47 characters;
# managed-system names are longer in practice (default names are "Server-9105-42A-SN7812345").
MAX_NAME_LENGTH = {
    "managed system": 63,
    "partition": 47,
    "profile": 47,
}


def validate_name(value, kind):
    """Return ``value`` when it is a usable HMC name of ``kind`` ("managed system", "partition", "profile")."""
    if kind not in MAX_NAME_LENGTH:
        raise ValueError("unknown HMC name kind %r" % (kind,))
    if not isinstance(value, str):
        raise HmcNameError("%s name must be a string, got %s" % (kind, type(value).__name__))
    if value == "":
        raise HmcNameError("%s name must not be empty" % kind)
    for position, char in enumerate(value):
        code = ord(char)
        if code < 0x20 or code == 0x7f:
            raise HmcNameError("%s name %r contains the control character %s at position %d; HMC names are "
                               "printable ASCII" % (kind, value, _describe(char), position + 1))
        if code > 0x7e:
            raise HmcNameError("%s name %r contains the non-ASCII character %r at position %d; HMC names are "
                               "printable ASCII" % (kind, value, char, position + 1))
    if value != value.strip():
        raise HmcNameError("%s name %r has leading or trailing blanks" % (kind, value))
    limit = MAX_NAME_LENGTH[kind]
    if len(value) > limit:
        raise HmcNameError("%s name %r is %d characters long; the HMC allows at most %d"
                           % (kind, value[:limit] + "...", len(value), limit))
    return value


def validate_names(values, kind):
    """Validate a list of names; duplicates are removed, order kept."""
    seen = []
    for value in values or []:
        validate_name(value, kind)
        if value not in seen:
            seen.append(value)
    return seen


def _describe(char):
    names = {"\n": "line feed (\\n)", "\r": "carriage return (\\r)", "\t": "tab (\\t)", "\x00": "NUL"}
    return names.get(char, "U+%04X" % ord(char))
