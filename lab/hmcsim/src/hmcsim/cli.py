"""`hmcsim serve | numa | check-model`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import daemon, export
from .dialect import DialectError
from .model import ModelError, load_model
from .numa import lscpu_text, numa_view, numactl_hardware
from .server import Credentials, Simulator, install_signal_handlers
from .state import Store

LISTEN_FILE = daemon.LISTEN_FILE


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hmcsim", description="SSH server that speaks the IBM HMC CLI.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulator")
    serve.add_argument("--model", required=True, type=_existing_file, help="lab model YAML")
    serve.add_argument("--listen", default="127.0.0.1:2222", type=_listen, help="HOST:PORT (port 0: any free port)")
    serve.add_argument("--state-dir", required=True, type=Path, help="host key, state.json, audit.jsonl, faults.yml")
    serve.add_argument("--authorized-keys", type=_existing_file, help="OpenSSH authorized_keys for hscroot")
    serve.add_argument("--password-file", type=_existing_file, help="file whose first line is hscroot's password")
    serve.add_argument("--reset-state", action="store_true", help="ignore DIR/state.json and start from the model")
    serve.add_argument("--log-level", default="WARNING")
    serve.add_argument("--daemon", action="store_true", help="run in the background; return once listening")
    serve.add_argument("--numa-views", type=Path, help="JSON list of partitions whose NUMA view to keep written "
                       "into files (hmcsim.export)")
    for name, text in (("stop", "stop a simulator started for DIR"), ("status", "is a simulator serving DIR?"),
                       ("known-hosts", "print the known_hosts line for DIR's simulator")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--state-dir", required=True, type=Path)
    numa = commands.add_parser("numa", help="print the NUMA view of a partition as JSON")
    numa.add_argument("--state-dir", required=True, type=Path)
    numa.add_argument("--system", required=True)
    numa.add_argument("--lpar", required=True)
    numa.add_argument("--model", type=_existing_file, help="used when DIR has no state.json yet")
    numa.add_argument("--format", choices=["json", "numactl", "lscpu"], default="json",
                      help="JSON, or the text of `numactl --hardware` or of `lscpu`")
    check = commands.add_parser("check-model", help="validate a model file")
    check.add_argument("model", type=_existing_file)
    return parser


def serve(args: argparse.Namespace) -> int:
    if args.authorized_keys is None and args.password_file is None:
        print("hmcsim: give --authorized-keys and/or --password-file", file=sys.stderr)
        return 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # client disconnects are normal here
    args.state_dir.mkdir(parents=True, exist_ok=True)
    if args.daemon:
        return daemon.start_daemon([a for a in sys.argv[1:] if a != "--daemon"], args.state_dir)
    other = daemon.running_pid(args.state_dir)
    if other is not None:
        print(f"hmcsim: another simulator (pid {other}) already serves {args.state_dir}", file=sys.stderr)
        return 1
    pid_file = args.state_dir / daemon.PID_FILE
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    store = Store(args.model, args.state_dir, reset=args.reset_state)
    if args.numa_views:
        export.attach(store, args.numa_views)
    store.save()
    host, port = args.listen
    simulator = Simulator(store, host, port, Credentials(args.authorized_keys, args.password_file))
    install_signal_handlers(simulator)
    (args.state_dir / LISTEN_FILE).write_text(f"{host}:{simulator.port}\n", encoding="utf-8")
    print(f"hmcsim: listening on {host}:{simulator.port}", flush=True)
    simulator.serve_forever()
    if pid_file.exists() and pid_file.read_text(encoding="utf-8").strip() == str(os.getpid()):
        pid_file.unlink()
    print("hmcsim: stopped", flush=True)
    return 0


def numa(args: argparse.Namespace) -> int:
    store = Store.snapshot(args.state_dir, args.model)
    store.advance()
    system = store.system(args.system)
    if system is None:
        print(f"hmcsim: no managed system {args.system!r}", file=sys.stderr)
        return 1
    lpar = system.lpar_by_name(args.lpar)
    if lpar is None:
        print(f"hmcsim: no partition {args.lpar!r} on {system.name}", file=sys.stderr)
        return 1
    view = numa_view(system, lpar)
    if args.format == "numactl":
        print(numactl_hardware(view, system.topology.chips_per_socket), end="")
    elif args.format == "lscpu":
        print(lscpu_text(view), end="")
    else:
        print(json.dumps(view))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "numa":
            return numa(args)
        if args.command == "stop":
            return daemon.stop(args.state_dir)
        if args.command == "status":
            return daemon.status(args.state_dir)
        if args.command == "known-hosts":
            print(daemon.known_hosts_line(args.state_dir))
            return 0
        model = load_model(args.model)
        print(f"{args.model}: {len(model.systems)} systems, "
              f"{sum(len(s.lpars) for s in model.systems)} partitions: OK")
        return 0
    except (ModelError, DialectError, FileNotFoundError, OSError) as exc:
        print(f"hmcsim: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
