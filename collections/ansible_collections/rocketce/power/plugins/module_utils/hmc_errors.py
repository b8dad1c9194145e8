# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one family of HMC failures: every error the HMC code raises is an :class:`HmcError`.

A module catches ``HmcError`` once (see ``hmc_module.run_hmc_module``) and fails with :func:`hmc_failure`,
which keeps the HMC's own text and every ``HSCLxxxx`` code of it. Names, output formats, connections and
command failures are subclasses, so no caller has to list several unrelated exception types.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

HSCL_CODE_RE = re.compile(r"\b(HSCL[0-9A-Z]{4})\b")
# A code directly followed by a colon and a second code only says "the following failed": on a real HMC,
# "HSCL127D: HSCL1288 logical port ... already assigned" carries its meaning in HSCL1288.
_WRAPPED_CODE_RE = re.compile(r"\b(HSCL[0-9A-Z]{4})\s*:\s*HSCL[0-9A-Z]{4}\b")
WRAPPER_CODES = frozenset(("HSCL127D",))


class HmcError(Exception):
    """Base class of every HMC failure."""


class HmcParameterError(HmcError, ValueError):
    """A module option value that cannot work, found before anything is sent to the HMC."""


class HmcNameError(HmcParameterError):
    """A name that cannot be an HMC object name."""


class HmcOutputError(HmcError, ValueError):
    """The HMC printed something that is not in the expected format (``output`` keeps the raw text)."""

    def __init__(self, message, output=None):
        self.output = output
        super().__init__(message)


class HmcCommandError(HmcError):
    """An HMC command exited non-zero.

    ``codes`` are all ``HSCLxxxx`` codes of the text in order; ``code`` is the meaningful one (the first that
    is not a wrapper of another), or None when the HMC printed no code.
    """

    def __init__(self, text, argv, rc=1):
        self.text = (text or "").strip()
        self.argv = [str(piece) for piece in argv]
        self.rc = rc
        self.codes = hscl_codes(self.text)
        self.code = meaningful_code(self.text)
        super().__init__("HMC command '%s' failed (exit status %s): %s"
                         % (" ".join(self.argv), rc, self.text or "no output"))


class HmcConnectionError(HmcError):
    """The HMC could not be reached, refused the login, or the connection dropped.

    ``may_have_run`` is True when a mutating command was sent before the connection dropped: it may or may
    not have been executed, and it was not re-sent.
    """

    def __init__(self, message, may_have_run=False):
        self.may_have_run = may_have_run
        super().__init__(message)


class HmcTimeoutError(HmcConnectionError):
    """A command did not finish within the command timeout."""


class HmcAuthenticationError(HmcError):
    """The HMC refused the user's password or key (not retried: retrying could lock the account)."""


class HmcHostKeyError(HmcError):
    """The HMC's SSH host key is unknown or does not match the known_hosts entry."""


class HmcNotFoundError(HmcError):
    """A named managed system or partition does not exist on the HMC."""


class HmcPartialResultError(HmcError):
    """A failure after part of the work was done; ``result`` is what the module knows so far and fails with."""

    def __init__(self, message, result):
        self.result = result
        super().__init__(message)


def hscl_codes(text):
    """Every distinct ``HSCLxxxx`` code of ``text``, in the order they appear."""
    codes = []
    for code in HSCL_CODE_RE.findall(text or ""):
        if code not in codes:
            codes.append(code)
    return codes


def meaningful_code(text):
    """The code that says what went wrong: the first one that does not merely wrap another."""
    codes = hscl_codes(text)
    wrappers = set(_WRAPPED_CODE_RE.findall(text or "")) | WRAPPER_CODES
    for code in codes:
        if code not in wrappers:
            return code
    return codes[0] if codes else None


def hmc_failure(exc):
    """``fail_json`` keyword arguments for an HMC exception: the message, plus the HMC's codes and raw text.

    A failure caused by another HMC error (``raise ... from error``) carries that error's command and output too;
    a failure that carries no partial result changed nothing (``changed=False``).
    """
    details = {"msg": str(exc)}
    for error in (exc, exc.__cause__):
        if isinstance(error, HmcCommandError):
            details.update(hmc_error_code=error.code, hmc_error_codes=error.codes, hmc_output=error.text,
                           hmc_command=" ".join(error.argv))
            break
        if isinstance(error, HmcOutputError) and error.output is not None:
            details["hmc_output"] = error.output
            break
    if isinstance(exc, HmcPartialResultError):
        details.update((key, value) for key, value in exc.result.items() if key not in details)
    details.setdefault("changed", False)
    return details
