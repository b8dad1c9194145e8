# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parsers for HMC command output, and the inverse formatter for ``-i``/``-a`` attribute records.

The HMC prints two text formats (see the project's HMC CLI facts, section 0):

* the default listing (no ``-F``): one object per line, ``attr=value`` pairs joined by ``,``; a pair whose
  value contains a comma is wrapped in double quotes as a whole (``"io_slots=a,b"``), a double quote inside
  such a pair is doubled, and a quoted pair may span several lines (``lshmc -V``);
* ``-F a,b,c [--header]``: values only, in the requested order, a value containing the delimiter quoted.

Both are CSV dialects with ``"`` as quote character and doubled quotes, so the standard :mod:`csv` reader
does the splitting. Values are returned verbatim as strings: ``none``, ``unavailable``, ``null`` and the
empty string stay what the HMC printed (use :func:`as_int` / :func:`is_unset` to interpret them).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import HmcOutputError

NO_RESULTS = "No results were found."
UNSET_VALUES = frozenset(("", "none", "unavailable", "null"))


def _rows(text, delimiter):
    """CSV rows of ``text``; blank lines and the HMC's "no results" sentence yield nothing."""
    if text is None:
        return []
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    if normalized.strip() == NO_RESULTS:
        return []
    reader = csv.reader(io.StringIO(normalized, newline=""), delimiter=delimiter, quotechar='"',
                        doublequote=True, skipinitialspace=False, strict=False)
    return [row for row in reader if row]


def parse_listing(text):
    """Parse the default ``attr=value`` listing into one dict per object, keys in HMC order.

    ``No results were found.`` (and empty output) gives ``[]``. A field without ``=`` is an error, because
    it means the text was not a listing (for example an error message printed with exit status 0).
    """
    objects = []
    for row in _rows(text, ","):
        obj = {}
        for field in row:
            key, sep, value = field.partition("=")
            if not sep or not key:
                raise HmcOutputError("unexpected HMC output, %r is not an attr=value pair in line %r"
                                     % (field, ",".join(row)), output=text)
            obj[key] = value
        objects.append(obj)
    return objects


def parse_fields(text, attrs, header=False, delimiter=","):
    """Parse ``-F attr1,attr2 [--header]`` output into one dict per line keyed by ``attrs``.

    With ``header=True`` the first line must repeat the attribute names; it is checked and dropped.
    A line with a different number of values than ``attrs`` raises :class:`HmcOutputError`.
    """
    attrs = list(attrs)
    if not attrs:
        raise ValueError("parse_fields needs at least one attribute name")
    rows = _rows(text, delimiter)
    if header and rows:
        if rows[0] != attrs:
            raise HmcOutputError("unexpected header %r, expected %r" % (delimiter.join(rows[0]), delimiter.join(attrs)),
                                 output=text)
        rows = rows[1:]
    objects = []
    for row in rows:
        if len(row) != len(attrs):
            raise HmcOutputError("expected %d values (%s) but got %d in line %r"
                                 % (len(attrs), delimiter.join(attrs), len(row), delimiter.join(row)), output=text)
        objects.append(dict(zip(attrs, row)))
    return objects


def is_unset(value):
    """True for the HMC's "no value" spellings: empty, ``none``, ``unavailable``, ``null``."""
    return value is None or value.strip().lower() in UNSET_VALUES


def as_int(value):
    """Integer value of an HMC attribute, ``None`` when it is unset (``none``, ``unavailable``...)."""
    if is_unset(value):
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise HmcOutputError("expected an integer, got %r" % value) from None


def as_float(value):
    """Float value of an HMC attribute (processing units), ``None`` when unset."""
    if is_unset(value):
        return None
    try:
        return float(value.strip())
    except ValueError:
        raise HmcOutputError("expected a number, got %r" % value) from None


def as_list(value):
    """A comma-separated HMC list value (``"requested_lpar_ids=2,3"``) as a list; unset gives ``[]``."""
    if is_unset(value):
        return []
    return [item for item in value.split(",") if item != ""]


def format_pair(key, value):
    """One ``attr=value`` pair for an ``-i``/``-a`` record, quoted the way the HMC prints it.

    A pair whose value contains a comma or a double quote is wrapped in double quotes as a whole and inner
    double quotes are doubled, so the HMC does not split it (pair quoting is what the HMC itself prints and
    what was verified live; value-only quoting is not).
    """
    key = str(key)
    value = "" if value is None else str(value)
    if not key or any(c in key for c in ',="\n\r'):
        raise ValueError("invalid HMC attribute name %r" % key)
    if "\n" in value or "\r" in value:
        raise ValueError("an HMC attribute value cannot contain a line break (%s)" % key)
    pair = "%s=%s" % (key, value)
    if "," in value or '"' in value:
        return '"%s"' % pair.replace('"', '""')
    return pair


def format_record(pairs):
    """An ``-i``/``-a`` configuration record from a dict or a list of (attr, value) tuples."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return ",".join(format_pair(key, value) for key, value in items)
