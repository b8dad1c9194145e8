# -*- coding: utf-8 -*-
# Copyright: rocketce-power engineers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: hmc
short_description: LPARs of IBM Power systems as Ansible hosts, read from one or more HMCs over SSH
version_added: 0.1.0
description:
  - Connects to each HMC listed in O(hmcs) over SSH (one connection per HMC, the same client as the
    C(rocketce.power) HMC modules) and turns every logical partition (LPAR) the HMC manages into an
    Ansible host.
  - "Commands issued per refresh: one C(lssyscfg -r sys) per HMC, then for each managed system a fixed set:
    C(lssyscfg -r lpar), and for an operating system C(lshwres -r proc --level lpar) and
    C(lshwres -r mem --level lpar), and, with O(include_affinity), for an operating system one
    C(lsmemopt -r lpar -o currscore). The count does not grow with the number of LPARs. The listings are read
    and joined by the same functions as the C(rocketce.power) HMC modules use (C(module_utils/hmc_resources))."
  - Host names are the LPAR names (see O(host_name_format)). Hosts are put in groups per managed system,
    per LPAR state and per processor mode (see O(group_prefix)); O(compose), O(groups) and O(keyed_groups)
    work as in the P(ansible.builtin.constructed#inventory) plugin.
  - "Host variables set for every LPAR: C(hmc_host), C(hmc_port), C(hmc_user) (the HMC that manages it, never a
    password), C(hmc_managed_system), C(hmc_managed_system_type_model), C(hmc_managed_system_serial),
    C(hmc_managed_system_state), and the LPAR record of M(rocketce.power.hmc_lpar_info) with an C(hmc_) prefix:
    C(hmc_lpar_name), C(hmc_lpar_id), C(hmc_lpar_state), C(hmc_lpar_env), C(hmc_os_version), C(hmc_profile)
    (current profile), C(hmc_default_profile), C(hmc_sync_curr_profile), C(hmc_proc_mode) (C(ded) or C(shared)),
    C(hmc_sharing_mode), C(hmc_procs), C(hmc_min_procs), C(hmc_max_procs), C(hmc_proc_units) (shared LPARs),
    C(hmc_memory_mb), C(hmc_min_memory_mb), C(hmc_max_memory_mb), C(hmc_rmc_state), C(hmc_rmc_ipaddr), and
    C(hmc_affinity_score) with O(include_affinity) (an integer 0-100, or null when the HMC reports none).
    Unset HMC values (C(none), empty) are null; processors and memory are null on a system that is not
    operating."
  - C(ansible_host) is set to the LPAR's RMC IP address when the HMC knows one. O(compose) and
    O(host_overrides) can replace it.
  - Passwords are never printed, logged, cached or put into host variables, at any verbosity and in error
    messages; passing them through Ansible Vault or an C(env) lookup is supported.
  - The configuration file name must end with C(.hmc.yml) or C(.hmc.yaml).
requirements:
  - paramiko (on the controller)
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks this file as a source for this plugin.
    required: true
    type: str
    choices: [rocketce.power.hmc]
  hmcs:
    description:
      - The HMCs to read. Every string value may be a Jinja2 template (for example an C(env) lookup or a
        vaulted extra variable); templates see the extra variables (C(-e)).
    required: true
    type: list
    elements: dict
    suboptions:
      host:
        description: Host name or IP address of the HMC.
        type: str
        required: true
      port:
        description: SSH port of the HMC.
        type: int
        default: 22
      user:
        description: HMC user.
        type: str
        default: hscroot
      password:
        description:
          - Password of O(hmcs[].user). Prefer O(hmcs[].key_file). Use a vaulted value or a lookup rather than
            plain text. It is never printed, cached or stored in host variables.
        type: str
      key_file:
        description:
          - Private key file for public-key authentication. A relative path is relative to the directory of
            the inventory file.
        type: path
      known_hosts:
        description:
          - known_hosts file used to check the HMC's host key. Without it the user's C(~/.ssh/known_hosts) is
            used. A relative path is relative to the directory of the inventory file.
        type: path
      host_key_checking:
        description:
          - Refuse HMCs whose host key is unknown or does not match O(hmcs[].known_hosts).
          - Turn off only for throw-away labs.
        type: bool
        default: true
      connect_timeout:
        description:
          - Seconds to wait for the SSH connection and authentication (the default of the modules'
            C(hmc_connect_timeout)).
        type: int
        default: 30
      command_timeout:
        description:
          - Seconds to wait for one HMC command (the default of the modules' C(hmc_command_timeout)).
        type: int
        default: 300
  filters:
    description:
      - Which managed systems and LPARs become hosts. Every given criterion must match.
      - Name patterns are shell-style wildcards (C(*), C(?), C([seq])) and are case-sensitive, like HMC names;
        states and environments are compared case-insensitively.
    type: dict
    default: {}
    suboptions:
      systems:
        description:
          - Managed-system name patterns. Systems that match none are not queried at all (no command is sent
            for them). Empty means every system of the HMC.
        type: list
        elements: str
        default: []
      names:
        description: LPAR name patterns to include. Empty means every LPAR.
        type: list
        elements: str
        default: []
      exclude_names:
        description: LPAR name patterns to leave out, applied after O(filters.names).
        type: list
        elements: str
        default: []
      states:
        description: LPAR states to include, for example C(Running) or C(Not Activated). Empty means every state.
        type: list
        elements: str
        default: []
      lpar_env:
        description:
          - LPAR environments to include (C(aixlinux), C(os400), C(vioserver)).
          - Virtual I/O Servers (C(vioserver)) are left out by default; add C(vioserver) to include them.
        type: list
        elements: str
        default: [aixlinux, os400]
  include_affinity:
    description:
      - Read the current affinity score of every LPAR (one C(lsmemopt -r lpar -o currscore) per managed
        system) into C(hmc_affinity_score).
      - Systems that do not support affinity scores give a warning and null scores. Systems that are not
        C(Operating) (for example C(Power Off)) get null scores without being asked.
    type: bool
    default: false
  host_name_format:
    description:
      - Python format string for the inventory host name. Fields C({lpar}), C({system}), C({lpar_id}) and
        C({hmc}) are available.
      - Two LPARs that end up with the same host name are an error; use for example C({system}-{lpar}) when
        LPAR names repeat across systems.
    type: str
    default: "{lpar}"
  group_prefix:
    description:
      - Prefix of the default groups. Each LPAR is put in C(<prefix>lpars), C(<prefix>system_<managed system>),
        C(<prefix>state_<state>) and C(<prefix>proc_mode_<ded|shared>); these are children of
        C(<prefix>systems), C(<prefix>states) and C(<prefix>proc_modes). Names are lower-cased and sanitized
        (C(p10-s1024-lab) gives C(hmc_system_p10_s1024_lab), C(Not Activated) gives C(hmc_state_not_activated)).
    type: str
    default: hmc_
  host_overrides:
    description:
      - Variables to set on given hosts after O(compose), keyed by inventory host name, for example to reach an
        LPAR at a different address than its RMC IP. Hosts named here that the HMCs do not report are ignored
        (with a message at C(-vvv)).
    type: dict
    default: {}
  fail_on_hmc_error:
    description:
      - When an HMC cannot be reached or an operating managed system cannot be read, fail the whole inventory
        source (true) or warn and go on with what could be read (false). Partial results are never cached.
      - With several HMCs in O(hmcs), one HMC that cannot be read is a warning and the others' LPARs are
        still reported; the source fails only when no HMC could be read (or, with true, when an HMC that
        was read has an operating managed system whose listings failed).
      - Managed systems in a state where the HMC cannot reach them (C(No Connection), C(Incomplete),
        C(Failed Authentication), ...) are skipped with a warning in both cases, without sending them a command.
      - Managed systems that are not operating (C(Power Off), C(Standby), C(Initializing), ...) keep their LPARs,
        with the states the HMC lists (C(Not Activated)...), and null processors and memory (no C(lshwres) is
        sent for them); if even their LPAR listing fails, that is a warning, never a failure of the source.
    type: bool
    default: true
  max_parallel_hmcs:
    description: How many HMCs are read at the same time.
    type: int
    default: 4
"""

EXAMPLES = r"""
---
# inventory/prod.hmc.yml: key authentication, host keys checked against a known_hosts file
plugin: rocketce.power.hmc
hmcs:
  - host: hmc1.example.com
    user: ansible
    key_file: ~/.ssh/hmc_ed25519
    known_hosts: ~/.ssh/known_hosts
filters:
  systems: ['p10-*']
  names: ['ai-*', 'db-*']
  states: [Running]
include_affinity: true
keyed_groups:
  # affinity_90, affinity_80, ... (scores rounded down to a multiple of 10)
  - key: ((hmc_affinity_score // 10 * 10) | string) if hmc_affinity_score is not none else 'unknown'
    prefix: affinity
groups:
  ai_lpars: hmc_lpar_name is match('ai-')
  needs_dpo: hmc_affinity_score is not none and hmc_affinity_score < 80

---
# Password from the environment (never printed, even with -vvvv)
plugin: rocketce.power.hmc
hmcs:
  - host: hmc2.example.com
    password: "{{ lookup('ansible.builtin.env', 'HMC_PASSWORD') }}"

---
# Password from a vaulted extra-vars file: ansible-inventory -i site.hmc.yml -e @vault.yml --ask-vault-pass --graph
plugin: rocketce.power.hmc
hmcs:
  - host: hmc3.example.com
    password: "{{ vault_hmc3_password }}"
compose:
  # reach LPARs by name instead of RMC IP
  ansible_host: hmc_lpar_name ~ '.example.com'

---
# Cache the HMC answers for an hour (any Ansible cache plugin)
plugin: rocketce.power.hmc
hmcs:
  - host: hmc1.example.com
    key_file: ~/.ssh/hmc_ed25519
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/ansible-inventory
cache_timeout: 3600
"""

import fnmatch
import os
import string
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

try:
    from ansible_collections.rocketce.power.plugins.module_utils.hmc_client import (
        HmcClient,
        HmcCommandError,
        HmcError,
        hmc_argument_spec,
    )
    from ansible_collections.rocketce.power.plugins.module_utils.hmc_resources import (
        list_systems,
        lpar_records,
        lpar_scores,
        system_summary,
    )
except ImportError as import_error:  # paramiko missing: reported when the plugin is used, not when it is listed
    HMC_IMPORT_ERROR = import_error
else:
    HMC_IMPORT_ERROR = None

REDACTED = "********"

HMC_ENTRY_OPTIONS = ("host", "port", "user", "password", "key_file", "known_hosts", "host_key_checking",
                     "connect_timeout", "command_timeout")


def hmc_entry_spec():
    """Options of one `hmcs` entry: the modules' connection options (same types and defaults), unprefixed."""
    modules = hmc_argument_spec()
    spec = {name: dict(modules["hmc_" + name]) for name in HMC_ENTRY_OPTIONS}
    spec["password"] = {"type": "str", "no_log": True}  # templated at connection time, no environment fallback
    return spec


FILTERS_SPEC = {
    "systems": {"type": "list", "elements": "str", "default": []},
    "names": {"type": "list", "elements": "str", "default": []},
    "exclude_names": {"type": "list", "elements": "str", "default": []},
    "states": {"type": "list", "elements": "str", "default": []},
    "lpar_env": {"type": "list", "elements": "str", "default": ["aixlinux", "os400"]},
}

# Bumped whenever the cached LPAR records change shape (2: the modules' lpar_summary records).
CACHE_RECORD_FORMAT = 2

HOST_NAME_FIELDS = frozenset({"lpar", "system", "lpar_id", "hmc"})

# Managed-system states in which the HMC has no working connection to the system, so it cannot list its LPARs:
# such systems are skipped with a warning instead of failing the whole source.
UNREACHABLE_SYSTEM_STATES = ("no connection", "incomplete", "failed authentication", "pending authentication",
                             "version mismatch", "recovery")
# Affinity scores come from the running hypervisor: only an operating system has them.
SCORED_SYSTEM_STATES = ("operating",)
# Systems whose LPARs hold processors and memory: only for these is lshwres asked (on a system in Power Off or
# Standby what lshwres answers is unverified; the LPAR listing with its states is what the inventory needs).
RESOURCE_SYSTEM_STATES = ("operating",)
# LPAR record (lpar_summary) key -> host variable. Every other key becomes hmc_<key>.
HOSTVAR_NAMES = {"name": "hmc_lpar_name", "id": "hmc_lpar_id", "env": "hmc_lpar_env", "state": "hmc_lpar_state",
                 "current_profile": "hmc_profile"}


class Redactor:
    """Replaces every known secret in a text; applied to anything this plugin raises or displays."""

    def __init__(self):
        self._secrets = set()

    def add(self, secret):
        if secret:
            self._secrets.add(to_text(secret))

    def __call__(self, text):
        text = to_text(text)
        # Longest first, so a secret that contains another one is replaced whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


def matches_any(name, patterns):
    """True when name matches one of the shell-style patterns (case-sensitive, as HMC names are)."""
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def with_scores(records, scores):
    """Add ``affinity_score`` (int or None) to each LPAR record from :func:`lpar_scores` rows."""
    by_name = {score["name"]: score["current"] for score in scores}
    for record in records:
        record["affinity_score"] = by_name.get(record["name"])
    return records


def lpar_selected(record, filters):
    """Apply the LPAR-level filters (name patterns, states, environments) to one record."""
    name = record.get("name") or ""
    if filters["names"] and not matches_any(name, filters["names"]):
        return False
    if filters["exclude_names"] and matches_any(name, filters["exclude_names"]):
        return False
    if filters["states"]:
        wanted = {state.lower() for state in filters["states"]}
        if (record.get("state") or "").lower() not in wanted:
            return False
    if filters["lpar_env"]:
        wanted = {env.lower() for env in filters["lpar_env"]}
        if (record.get("env") or "").lower() not in wanted:
            return False
    return True


def read_hmc(client, system_patterns, include_affinity):
    """Read managed systems and their LPARs through one open HMC client, with the modules' readers.

    Issues one `lssyscfg -r sys` and then a fixed number of listings per selected managed system. Returns
    (systems, problems): systems is a list of dicts with the system attributes and its LPAR records
    (:func:`lpar_summary`); problems is a list of {"system", "message", "partial", "fatal"} for what could not
    be read: partial=True means LPARs are missing from the result; fatal=False marks what is a state of the
    fleet rather than a failure (a system the HMC has lost, a system without affinity scores), never worth
    failing the source for.
    """
    systems = []
    problems = []
    for sys_row in list_systems(client):
        name = sys_row.get("name")
        if not name or (system_patterns and not matches_any(name, system_patterns)):
            continue
        summary = system_summary(sys_row)
        system = {"name": name, "type_model": summary["type_model"], "serial_num": summary["serial_num"],
                  "state": summary["state"], "lpars": []}
        state = (system["state"] or "").lower()
        if state.startswith(UNREACHABLE_SYSTEM_STATES):
            message = f"managed system {name} skipped: its state is {system['state']}, the HMC cannot list its LPARs"
            problems.append({"system": name, "partial": True, "fatal": False, "message": message})
            continue
        operating = state in RESOURCE_SYSTEM_STATES
        try:
            # A system that is not operating (Power Off...) still has its LPARs and their states; it has no
            # processors or memory assigned, so those listings are not asked for.
            records = lpar_records(client, name, resources=operating)
        except HmcCommandError as exc:
            # The other systems can still be read; fail_on_hmc_error decides whether that is enough for an
            # operating system. For one that is not operating, what the HMC lists is unverified: never fatal.
            message = f"managed system {name} (state {system['state']}): {exc}"
            problems.append({"system": name, "partial": True, "fatal": operating, "message": message})
            continue
        if include_affinity:
            scores = []
            if state in SCORED_SYSTEM_STATES:
                try:
                    scores = lpar_scores(client, name)
                except HmcCommandError as exc:
                    # Systems without DPO support answer HSCLA012: the LPARs are still listed, with null scores.
                    message = f"no affinity scores for managed system {name}: {exc}"
                    problems.append({"system": name, "partial": False, "fatal": False, "message": message})
            with_scores(records, scores)
        system["lpars"] = records
        systems.append(system)
    return systems, problems


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    NAME = "rocketce.power.hmc"

    def __init__(self):
        super().__init__()
        self._redact = Redactor()

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".hmc.yml", ".hmc.yaml"))

    # ------------------------------------------------------------------ options
    def _template(self, value):
        if isinstance(value, str) and self.templar.is_template(value):
            self.templar.available_variables = self._vars or {}
            return self.templar.template(value)
        return value

    def _validated(self, spec, params, where):
        unknown = sorted(set(params) - set(spec))
        if unknown:
            raise AnsibleParserError(f"{where}: unknown option(s) {', '.join(unknown)}; known: {', '.join(spec)}")
        result = ArgumentSpecValidator(spec).validate(params)
        if result.error_messages:
            # Validation messages may quote values, so they go through the redactor like everything else.
            raise AnsibleParserError(self._redact(f"{where}: {'; '.join(result.error_messages)}"))
        return result.validated_parameters

    def _hmc_entries(self):
        """Validate every `hmcs` entry; template its values, keeping the password for connection time."""
        entries = []
        for index, raw in enumerate(self.get_option("hmcs") or []):
            where = f"hmcs[{index}]"
            if not isinstance(raw, dict):
                raise AnsibleParserError(f"{where} must be a dictionary (host, port, user, ...)")
            params = {}
            for key, value in raw.items():
                if key == "password":
                    if isinstance(value, str) and not self.templar.is_template(value):
                        self._redact.add(value)  # a plain-text password is known (and hidden) from the start
                    continue
                try:
                    params[key] = self._template(value)
                except Exception as exc:
                    raise AnsibleParserError(self._redact(f"{where}.{key}: cannot template the value: {exc}")) from None
            params["password"] = None
            entry = self._validated(hmc_entry_spec(), params, where)
            for key in ("key_file", "known_hosts"):
                # Relative to the inventory file, so an inventory directory can carry its own known_hosts.
                if entry[key] and not os.path.isabs(entry[key]):
                    entry[key] = os.path.join(self._source_dir, entry[key])
            entry["password_source"] = raw.get("password")
            entry["label"] = f"{entry['user']}@{entry['host']}:{entry['port']}"
            entries.append(entry)
        if not entries:
            raise AnsibleParserError("hmcs: give at least one HMC (host, user, key_file or password)")
        return entries

    def _password(self, entry):
        source = entry["password_source"]
        if source is None:
            return None
        try:
            password = self._template(source)
        except Exception as exc:
            raise AnsibleParserError(self._redact(f"{entry['label']}: cannot template the password: {exc}")) from None
        if password is None:
            return None
        try:
            # Vaulted values arrive as encrypted string objects; str() decrypts them.
            password = str(password)
        except Exception as exc:  # a vault error is reported without its chained context
            raise AnsibleParserError(f"{entry['label']}: cannot decrypt the password: {exc}") from None
        self._redact.add(password)
        return password

    def _host_name_format(self):
        fmt = self.get_option("host_name_format")
        try:
            parsed = string.Formatter().parse(fmt)
            fields = {field for _literal, field, _spec, _conversion in parsed if field is not None}
        except ValueError as exc:
            raise AnsibleParserError(f"host_name_format {fmt!r} is not a valid format string: {exc}") from None
        unknown = fields - HOST_NAME_FIELDS
        if unknown or not fields:
            raise AnsibleParserError(
                f"host_name_format {fmt!r} may only use the fields {sorted(HOST_NAME_FIELDS)} (at least one of them)"
            )
        return fmt

    # ------------------------------------------------------------------ reading
    def _read_one(self, entry, password, system_patterns, include_affinity):
        started = time.monotonic()
        client = HmcClient(
            entry["host"],
            entry["user"],
            port=entry["port"],
            password=password,
            key_file=entry["key_file"],
            known_hosts=entry["known_hosts"],
            host_key_checking=entry["host_key_checking"],
            connect_timeout=entry["connect_timeout"],
            command_timeout=entry["command_timeout"],
        )
        with client:
            systems, problems = read_hmc(client, system_patterns, include_affinity)
        return systems, problems, time.monotonic() - started

    def _read_hmcs(self, entries, filters, include_affinity):
        """Read every HMC (in parallel); return the per-HMC results and whether all of them are complete."""
        fail = self.get_option("fail_on_hmc_error")
        # Templating is not thread-safe (one templar), so passwords are resolved here, before the workers start.
        passwords = [self._password(entry) for entry in entries]

        def read(entry, password):
            try:
                return self._read_one(entry, password, filters["systems"], include_affinity), None
            except HmcError as exc:
                return ([], [], 0.0), f"{entry['label']}: {exc}"
            except Exception as exc:  # anything unexpected is reported redacted and unchained
                # Re-raising would chain the original exception into Ansible's -vvv traceback unredacted.
                return ([], [], 0.0), f"{entry['label']}: {type(exc).__name__}: {exc}"

        workers = max(1, min(self.get_option("max_parallel_hmcs"), len(entries)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(read, entries, passwords))

        results = []
        complete = True
        # One HMC of several that cannot be read does not hide the others; a lone HMC (or all of them) does.
        all_failed = all(error is not None for _outcome, error in outcomes)
        # Reported from this thread only: Display is not meant to be driven from worker threads.
        for entry, ((systems, problems, elapsed), error) in zip(entries, outcomes):
            if error is not None:
                complete = False
                message = self._redact(f"cannot read HMC {error}")
                if fail and all_failed:
                    raise AnsibleParserError(message)
                self.display.warning(message)
                continue
            for problem in problems:
                message = self._redact(f"{entry['label']}: {problem['message']}")
                complete = complete and not problem["partial"]
                if fail and problem["fatal"]:
                    raise AnsibleParserError(message)
                self.display.warning(message)
            lpar_count = sum(len(system["lpars"]) for system in systems)
            self.display.vvv(
                f"rocketce.power.hmc: {entry['label']}: {len(systems)} managed systems, {lpar_count} LPARs "
                f"read in {elapsed:.2f}s"
            )
            results.append({"hmc": entry["host"], "port": entry["port"], "user": entry["user"], "systems": systems})
        return results, complete

    # ------------------------------------------------------------------ populating
    def _add_group(self, name, parent=None):
        group = self.inventory.add_group(self._sanitize_group_name(name.lower()))
        if parent:
            self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(parent.lower())), group)
        return group

    def _populate(self, results, filters):
        fmt = self._host_name_format()
        overrides = self.get_option("host_overrides") or {}
        seen = {}
        for result in results:
            for system in result["systems"]:
                for record in system["lpars"]:
                    if not lpar_selected(record, filters):
                        continue
                    host = fmt.format(
                        lpar=record["name"], system=system["name"], lpar_id=record["id"], hmc=result["hmc"]
                    )
                    origin = (
                        f"LPAR {record['name']} (id {record['id']}) on {system['name']} via {result['hmc']}"
                    )
                    if host in seen:
                        raise AnsibleParserError(
                            f"host name {host!r} is used by {seen[host]} and by {origin}; set host_name_format "
                            "to something unique, for example '{system}-{lpar}'"
                        )
                    seen[host] = origin
                    self._add_lpar_host(host, result, system, record, overrides.get(host))
        for name in sorted(set(overrides) - set(seen)):
            self.display.vvv(f"rocketce.power.hmc: host_overrides entry {name!r} matches no LPAR")

    def _add_lpar_host(self, host, result, system, record, override):
        prefix = self.get_option("group_prefix")
        strict = self.get_option("strict")
        self.inventory.add_host(host, group=self._add_group(f"{prefix}lpars"))
        hostvars = {
            "hmc_host": result["hmc"],
            "hmc_port": result["port"],
            "hmc_user": result["user"],
            "hmc_managed_system": system["name"],
            "hmc_managed_system_type_model": system["type_model"],
            "hmc_managed_system_serial": system["serial_num"],
            "hmc_managed_system_state": system["state"],
        }
        hostvars.update({HOSTVAR_NAMES.get(key, f"hmc_{key}"): value for key, value in record.items()})
        if record["rmc_ipaddr"]:
            hostvars["ansible_host"] = record["rmc_ipaddr"]
        for key, value in hostvars.items():
            self.inventory.set_variable(host, key, value)

        self.inventory.add_child(self._add_group(f"{prefix}system_{system['name']}", f"{prefix}systems"), host)
        if record["state"]:
            self.inventory.add_child(self._add_group(f"{prefix}state_{record['state']}", f"{prefix}states"), host)
        if record["proc_mode"]:
            self.inventory.add_child(
                self._add_group(f"{prefix}proc_mode_{record['proc_mode']}", f"{prefix}proc_modes"), host
            )

        # Host.get_vars() adds inventory_hostname and the other magic variables that compose may use.
        self._set_composite_vars(
            self.get_option("compose"), self.inventory.get_host(host).get_vars(), host, strict=strict
        )
        if override:
            if not isinstance(override, dict):
                raise AnsibleParserError(f"host_overrides[{host!r}] must be a dictionary of variables")
            for key, value in override.items():
                self.inventory.set_variable(host, key, value)
        variables = self.inventory.get_host(host).get_vars()
        self._add_host_to_composed_groups(self.get_option("groups"), variables, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), variables, host, strict=strict)

    # ------------------------------------------------------------------ entry point
    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        self._source_dir = os.path.dirname(os.path.abspath(path))
        if HMC_IMPORT_ERROR is not None:
            raise AnsibleError(
                f"the rocketce.power.hmc inventory plugin needs paramiko on the controller: {HMC_IMPORT_ERROR}"
            )
        entries = self._hmc_entries()
        filters = self._validated(FILTERS_SPEC, dict(self.get_option("filters") or {}), "filters")
        include_affinity = self.get_option("include_affinity")

        # The cached data depends on what was queried; a changed query ignores the cache. No secret is part of it.
        query = {
            "hmcs": [[entry["host"], entry["port"], entry["user"]] for entry in entries],
            "systems": filters["systems"],
            "include_affinity": include_affinity,
            # The shape of the cached records: a cache written by an older plugin (other record keys) is ignored.
            "record_format": CACHE_RECORD_FORMAT,
        }
        use_cache = self.get_option("cache")
        cache_key = self.get_cache_key(path)
        results = None
        update_cache = use_cache and not cache
        if use_cache and cache:
            try:
                cached = self._cache[cache_key]
            except KeyError:
                update_cache = True
            else:
                if isinstance(cached, dict) and cached.get("query") == query:
                    results = cached.get("results")
                    self.display.vvv(f"rocketce.power.hmc: using cached HMC data for {path}")
                else:
                    update_cache = True

        if results is None:
            results, complete = self._read_hmcs(entries, filters, include_affinity)
            if update_cache and complete:
                self._cache[cache_key] = {"query": query, "results": results}

        self._populate(results, filters)
