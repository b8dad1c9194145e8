"""One command line in, output and exit status out: faults, the restricted shell, HMC commands and the audit log."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .commands import HMC_COMMANDS, Context
from .messages import ERROR_WRAPPER_CODE
from .options import HmcError
from .shell import RestrictedShell
from .state import Store

AUDIT_FILE = "audit.jsonl"
log = logging.getLogger("hmcsim")


@dataclass
class ExecResult:
    stdout: str
    stderr: str
    status: int | None  # None: the connection is dropped without an exit status
    drop: bool = False


HSCL_CODE = re.compile(r"^HSCL\w{4}\b")


def wrap_error(text: str, wrapping: str) -> str:
    """Dialect error_wrapping=hscl127d: `HSCL8012 ...` becomes `HSCL127D: HSCL8012 ...` (texts without a code stay)."""
    if wrapping == "hscl127d" and HSCL_CODE.match(text):
        return f"{ERROR_WRAPPER_CODE}: {text}"
    return text


class AuditLog:
    """DIR/audit.jsonl: one JSON object per command line received (see README "Audit log")."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)


class Engine:
    def __init__(self, store: Store):
        self.store = store
        self.audit = AuditLog(store.state_dir / AUDIT_FILE)

    def _dpo_running(self) -> bool:
        with self.store.lock:
            self.store.advance()
            self.store.save_if_dirty()
            return self.store.dpo_running()

    def run_hmc(self, argv: list[str], user: str = "hscroot") -> tuple[str, int]:
        """Run one HMC command against the state (under the state lock) and persist what it changed."""
        with self.store.lock:
            now = self.store.clock()
            self.store.advance(now)
            try:
                output = HMC_COMMANDS[argv[0]](Context(self.store, now, user), argv)
                status = 0
            except HmcError as error:
                output, status = wrap_error(error.text, self.store.dialect().error_wrapping) + "\n", error.status
            except Exception:  # a simulator bug must not kill the session; the audit log shows status 1
                log.exception("internal error in %r", argv)
                output, status = "HSCLZ999 Internal error in the HMC simulator; see its log.\n", 1
            self.store.save_if_dirty()
        return output, status

    def execute(self, command_line: str, connection: str, channel: int, user: str, peer: str) -> ExecResult:
        started = time.perf_counter()
        decision = self.store.faults.decide(command_line, dpo_running=self._dpo_running(), connection=connection)
        if decision.delay_s:
            time.sleep(decision.delay_s)
        argvs: list[list[str]] = []
        if decision.drop:
            result = ExecResult("", "", None, drop=True)
        elif decision.error is not None:
            text, status = decision.error
            result = ExecResult(text + "\n", "", status)
        else:
            shell = RestrictedShell(lambda argv: self.run_hmc(argv, user), set(HMC_COMMANDS), user)
            try:
                outcome = shell.run(command_line)
                argvs = outcome.argvs
                result = ExecResult(outcome.stdout, outcome.stderr, outcome.status)
            except Exception:  # a simulator bug: answer with an error instead of a dead channel
                log.exception("internal error in the shell for %r", command_line)
                result = ExecResult("", "rbash: internal error in the HMC simulator\n", 1)
        self.audit.write(
            {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "connection": connection,
                "channel": channel,
                "user": user,
                "peer": peer,
                "command": command_line,
                "argv": argvs[0] if argvs else None,
                "commands": argvs,
                "exit_status": result.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "faults": decision.names,
            }
        )
        return result
