# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSH client for the HMC command line, shared by every HMC module and plugin of rocketce.power.

One :class:`HmcClient` is one paramiko connection, reused for every command of a module run (polling too).
Each command runs on its own exec channel as a single line built from validated argv pieces, each piece
shell-quoted, with an English locale forced. A command that exits non-zero raises :class:`HmcCommandError`
carrying every ``HSCLxxxx`` code and the HMC's text. The error classes live in ``hmc_errors`` (re-exported
here for the callers that import them with the client).

Retries are only where they are safe: connecting, and re-running a *read* whose connection dropped. A
*mutating* command whose connection drops after it was sent is never re-sent; the caller gets an
:class:`HmcConnectionError` with ``may_have_run=True`` and decides (the modules re-read the state).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import shlex
import socket
import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib
# The error family is re-exported: callers import the client and its errors from one place.
from ansible_collections.rocketce.power.plugins.module_utils.hmc_errors import (  # noqa: F401  pylint: disable=unused-import
    HSCL_CODE_RE,
    HmcAuthenticationError,
    HmcCommandError,
    HmcConnectionError,
    HmcError,
    HmcHostKeyError,
    HmcNotFoundError,
    HmcPartialResultError,
    HmcTimeoutError,
    hmc_failure,
)

try:
    import paramiko
except ImportError:
    paramiko = None
    PARAMIKO_IMPORT_ERROR = traceback.format_exc()
else:
    PARAMIKO_IMPORT_ERROR = None

HAS_PARAMIKO = paramiko is not None

# The HMC localizes messages to the user's locale (a Polish HMC answers in Polish); every command is prefixed
# with this assignment, which the HMC's restricted shell accepts (lpar2rrd does the same).
LOCALE_PREFIX = "LC_ALL=en_US"
COMMAND_NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,31}$")
_RECV_CHUNK = 65536


def build_command_line(argv):
    """The exact line sent to the HMC for ``argv``: locale prefix, then every piece shell-quoted.

    ``argv[0]`` must be a plain HMC command name; no piece may contain a control character, so nothing a
    caller passes can end a quoted word, start a second command or hide in a line break.
    """
    pieces = [str(piece) if isinstance(piece, int) and not isinstance(piece, bool) else piece for piece in argv]
    if not pieces:
        raise ValueError("empty HMC command")
    if not isinstance(pieces[0], str) or not COMMAND_NAME_RE.match(pieces[0]):
        raise ValueError("invalid HMC command name %r" % (pieces[0],))
    for piece in pieces:
        if not isinstance(piece, str):
            raise ValueError("HMC command arguments must be strings, got %r" % (piece,))
        if any(ord(c) < 0x20 or ord(c) == 0x7f for c in piece):
            raise ValueError("HMC command argument %r contains a control character" % (piece,))
    return " ".join([LOCALE_PREFIX] + [shlex.quote(piece) for piece in pieces])


if HAS_PARAMIKO:
    class _RejectUnknownHostKey(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client, hostname, key):
            raise HmcHostKeyError(
                "the SSH host key of HMC %s (%s %s) is not in known_hosts; verify it and add it to the file "
                "named by hmc_known_hosts (for example with 'ssh-keyscan -p PORT HOST'), or set "
                "hmc_host_key_checking=false to skip the check" % (hostname, key.get_name(), key.fingerprint))

    class _AcceptAnyHostKey(paramiko.MissingHostKeyPolicy):
        # Host key checking was explicitly disabled by the user: accept and remember nothing.
        def missing_host_key(self, client, hostname, key):
            return None

    _LOST_CONNECTION_ERRORS = (paramiko.SSHException, EOFError, OSError)
else:
    _LOST_CONNECTION_ERRORS = (EOFError, OSError)


class _ConnectionLost(Exception):
    pass


class HmcClient:
    """One SSH connection to an HMC; use as a context manager."""

    def __init__(self, host, user, port=22, password=None, key_file=None, known_hosts=None,  # noqa: PLR0917
                 host_key_checking=True, connect_timeout=30, command_timeout=300, retries=2, retry_delay=1.0):
        if not HAS_PARAMIKO:
            raise HmcError(missing_required_lib("paramiko"))
        self.host = host
        self.user = user
        self.port = int(port)
        self._password = password
        self.key_file = key_file
        self.known_hosts = known_hosts
        self.host_key_checking = host_key_checking
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.connections_opened = 0
        self.commands_run = []
        self._ssh = None

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __repr__(self):
        return "HmcClient(%s@%s:%d)" % (self.user, self.host, self.port)

    # -- connection -------------------------------------------------------------------------------------
    def connect(self):
        """Open the connection if it is not open; retried on network errors, never on auth/host-key errors."""
        if self._connected():
            return
        attempt = 0
        while True:
            try:
                self._open()
                return
            except HmcConnectionError:
                attempt += 1
                if attempt > self.retries:
                    raise
                time.sleep(self.retry_delay)

    def close(self):
        if self._ssh is not None:
            try:
                self._ssh.close()
            finally:
                self._ssh = None

    def _connected(self):
        if self._ssh is None:
            return False
        transport = self._ssh.get_transport()
        return transport is not None and transport.is_active()

    def _open(self):
        self.close()
        ssh = paramiko.SSHClient()
        if self.host_key_checking:
            try:
                if self.known_hosts:
                    ssh.load_host_keys(self.known_hosts)
                else:
                    ssh.load_system_host_keys()
            except (IOError, OSError) as exc:
                raise HmcHostKeyError("cannot read the known_hosts file %s: %s" % (self.known_hosts, exc)) from exc
            ssh.set_missing_host_key_policy(_RejectUnknownHostKey())
        else:
            ssh.set_missing_host_key_policy(_AcceptAnyHostKey())
        where = "%s@%s:%d" % (self.user, self.host, self.port)
        try:
            ssh.connect(self.host, port=self.port, username=self.user, password=self._password,
                        key_filename=self.key_file, timeout=self.connect_timeout,
                        banner_timeout=self.connect_timeout, auth_timeout=self.connect_timeout,
                        allow_agent=self._password is None and self.key_file is None,
                        look_for_keys=self._password is None and self.key_file is None)
        except HmcHostKeyError:
            ssh.close()
            raise
        except paramiko.BadHostKeyException as exc:
            ssh.close()
            raise HmcHostKeyError(
                "the SSH host key of HMC %s:%d does not match its known_hosts entry (got %s %s); the HMC may have "
                "been reinstalled, or the connection is intercepted: check before updating known_hosts"
                % (self.host, self.port, exc.key.get_name(), exc.key.fingerprint)) from exc
        except paramiko.AuthenticationException as exc:
            ssh.close()
            raise HmcAuthenticationError("authentication to the HMC as %s failed (%s); check hmc_user and "
                                         "hmc_password or hmc_key_file" % (where, exc)) from exc
        except (socket.timeout, TimeoutError):
            ssh.close()
            raise HmcConnectionError("timed out after %ss connecting to the HMC at %s"
                                     % (self.connect_timeout, where)) from None
        except _LOST_CONNECTION_ERRORS as exc:
            ssh.close()
            raise HmcConnectionError("cannot connect to the HMC at %s: %s" % (where, exc)) from exc
        transport = ssh.get_transport()
        # DPO waits poll for minutes or hours on this one connection; keepalives stop firewalls dropping it.
        transport.set_keepalive(30)
        self._ssh = ssh
        self.connections_opened += 1

    # -- commands ---------------------------------------------------------------------------------------
    def run(self, argv, mutating=False):
        """Run one HMC command and return its output (stdout and stderr merged, ``\\r\\n`` normalized).

        Raises :class:`HmcCommandError` on a non-zero exit status. A read is re-run (on a new connection)
        when the connection drops; a mutating command is never re-sent once it may have reached the HMC.
        """
        line = build_command_line(argv)
        argv = [str(piece) for piece in argv]
        attempt = 0
        while True:
            self.connect()
            sent = False
            try:
                channel = self._ssh.get_transport().open_session(timeout=self.connect_timeout)
                channel.set_combine_stderr(True)
                sent = True
                self._exec(channel, line)
                rc, output = self._collect(channel, argv)
            except HmcTimeoutError:
                self.close()
                raise
            except (_ConnectionLost,) + _LOST_CONNECTION_ERRORS as exc:
                self.close()
                if mutating and sent:
                    raise HmcConnectionError(
                        "the connection to the HMC %s dropped while '%s' was running (%s); the command may or may not "
                        "have been executed, and it was not re-sent" % (self.host, " ".join(argv), exc or "lost"),
                        may_have_run=True) from exc
                attempt += 1
                if attempt > self.retries:
                    raise HmcConnectionError("the connection to the HMC %s dropped %d times while running '%s': %s"
                                             % (self.host, attempt, " ".join(argv), exc or "lost")) from exc
                time.sleep(self.retry_delay)
                continue
            self.commands_run.append(argv)
            if rc != 0:
                raise HmcCommandError(output, argv, rc)
            return output

    @staticmethod
    def _exec(channel, line):
        try:
            channel.exec_command(line)
        except paramiko.SSHException:
            # A server that finishes a quick command before it acknowledges the exec request closes the channel
            # first; the command ran and its output and exit status are buffered, so collect them as usual.
            if channel.exit_status < 0:
                raise

    def _collect(self, channel, argv):
        deadline = time.monotonic() + self.command_timeout
        chunks = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout()
                channel.settimeout(remaining)
                data = channel.recv(_RECV_CHUNK)
                if not data:
                    break
                chunks.append(data)
            if not channel.status_event.wait(max(0.0, min(deadline - time.monotonic(), 10.0))):
                raise socket.timeout()
        except (socket.timeout, TimeoutError):
            channel.close()
            raise HmcTimeoutError("'%s' did not finish within %ss on the HMC %s"
                                  % (" ".join(argv), self.command_timeout, self.host), may_have_run=True) from None
        rc = channel.exit_status
        transport = self._ssh.get_transport()
        if rc == -1 and (transport is None or not transport.is_active()):
            raise _ConnectionLost("connection closed before the exit status arrived")
        channel.close()
        text = b"".join(chunks).decode("utf-8", errors="replace")
        return rc, text.replace("\r\n", "\n")

    # -- waiting (polling loops call these, so tests can replace time) -------------------------------------
    @staticmethod
    def clock():
        return time.monotonic()

    @staticmethod
    def sleep(seconds):
        time.sleep(seconds)


def hmc_argument_spec():
    """Connection options shared by every HMC module (documented in the rocketce.power.hmc doc fragment)."""
    return dict(
        hmc_host=dict(type="str", required=True),
        hmc_user=dict(type="str", default="hscroot"),
        hmc_password=dict(type="str", no_log=True, fallback=(env_fallback, ["HMC_PASSWORD"])),
        hmc_key_file=dict(type="path"),
        hmc_port=dict(type="int", default=22),
        hmc_known_hosts=dict(type="path"),
        hmc_host_key_checking=dict(type="bool", default=True),
        hmc_connect_timeout=dict(type="int", default=30),
        hmc_command_timeout=dict(type="int", default=300),
    )


def hmc_client_from_params(params):
    """An (unconnected) :class:`HmcClient` from module parameters named as in :func:`hmc_argument_spec`."""
    return HmcClient(
        host=params["hmc_host"],
        user=params["hmc_user"],
        port=params.get("hmc_port") or 22,
        password=params.get("hmc_password"),
        key_file=params.get("hmc_key_file"),
        known_hosts=params.get("hmc_known_hosts"),
        host_key_checking=params.get("hmc_host_key_checking", True),
        connect_timeout=params.get("hmc_connect_timeout") or 30,
        command_timeout=params.get("hmc_command_timeout") or 300,
    )


def hmc_client_from_module(module):
    """The client for an AnsibleModule; fails the module cleanly when paramiko is missing."""
    if not HAS_PARAMIKO:
        module.fail_json(msg=missing_required_lib("paramiko"), exception=PARAMIKO_IMPORT_ERROR)
    return hmc_client_from_params(module.params)
