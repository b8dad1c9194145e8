"""Every output string whose exact form is not verified on a real HMC, in one table.

The facts doc (/work/shared/docs/hmc-cli-facts.md) marks formats [V], [V-3p], [I] or [U]. Strings that are
[I]/[U] live here so they can be corrected in one place once somebody sees a real HMC. Codes that start with
``HSCLZ`` are simulator placeholders: no real code is known, but they keep the ``HSCL\\w{4}`` shape clients key on.

Each entry: key -> (template, status, note). Templates use str.format fields.
"""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str, str]] = {
    # ---- verified or third-party verified texts
    "lpar_not_found": ("HSCL8012 The partition named {name} was not found.", "V-3p", "text from live scripts"),
    "invalid_attribute": (
        "An invalid attribute was entered.  The invalid attribute is {name}.  "
        "Please correct your entry and retry the command.",
        "V-3p",
        "two spaces between sentences (live capture V10R3)",
    ),
    "no_results": ("No results were found.", "V-3p", "exit 0"),
    # ---- known code, unknown text
    "sys_not_found": ("HSCL8018 The managed system {name} was not found.", "U", "code V-3p, text invented"),
    "dpo_unsupported": (
        "HSCLA012 The managed system {sys} does not support dynamic platform optimization.",
        "U",
        "code V-3p (scripts skip HSCLA012 lines), text invented",
    ),
    # ---- placeholders (no real code or text known)
    "lpar_id_not_found": ("HSCLZ012 The partition with ID {lpar_id} was not found.", "U", "placeholder"),
    "profile_not_found": ("HSCLZ013 The profile named {prof} was not found for partition {lpar}.", "U", "placeholder"),
    "dpo_running": (
        "HSCLZ001 A memory optimization operation is already in progress on managed system {sys}.",
        "U",
        "placeholder; second optmem -o start",
    ),
    "dpo_not_running": (
        "HSCLZ002 There is no memory optimization operation in progress on managed system {sys}.",
        "U",
        "placeholder; optmem -o stop with nothing running",
    ),
    "dpo_blocks": (
        "HSCLZ005 The operation cannot be performed while a memory optimization operation is in progress on "
        "managed system {sys}.",
        "U",
        "placeholder; memory DLPAR / LPM during DPO",
    ),
    "lpar_not_startable": (
        "HSCLZ003 Partition {name} cannot be activated because it is in the {state} state.",
        "U",
        "placeholder; -o on on a running LPAR (IBM collection issue #128 says it fails)",
    ),
    "lpar_not_running": (
        "HSCLZ004 Partition {name} cannot be shut down because it is in the {state} state.",
        "U",
        "placeholder; shutdown of an LPAR that is not running",
    ),
    "rmc_inactive": (
        "HSCLZ006 The operating system shutdown of partition {name} failed because the RMC connection is not "
        "active.",
        "U",
        "placeholder; osshutdown needs RMC",
    ),
    "bad_name": (
        "HSCLZ007 The name {name} is not valid. Names must be 1 to 47 printable characters and must not "
        "contain commas.",
        "U",
        "placeholder",
    ),
    "bad_value": ("HSCLZ008 The value {value} for attribute {name} is not valid.", "U", "placeholder"),
    "bad_range": (
        "HSCLZ009 The minimum, desired and maximum values of {name} must satisfy min <= desired <= max.",
        "U",
        "placeholder",
    ),
    "sys_wrong_state": (
        "HSCLZ010 The operation cannot be performed because managed system {sys} is in the {state} state.",
        "U",
        "placeholder",
    ),
    "lpar_wrong_state": (
        "HSCLZ011 The operation cannot be performed because partition {name} is in the {state} state.",
        "U",
        "placeholder",
    ),
    "insufficient_resources": (
        "HSCLZ014 There are not enough available resources on managed system {sys} for partition {name}.",
        "U",
        "placeholder",
    ),
    "duplicate_name": ("HSCLZ015 A partition named {name} already exists.", "U", "placeholder"),
    "bad_power_mode": (
        "HSCLZ016 The power saver mode {mode} is not supported by managed system {sys}.",
        "U",
        "placeholder",
    ),
    "not_list_attribute": (
        "HSCLZ017 The += and -= operators cannot be used with attribute {name}.",
        "U",
        "placeholder",
    ),
    "not_simulated": ("HSCLZ099 {what} is not supported by this HMC simulator.", "U", "hmcsim limit"),
    # ---- usage errors (text unknown; real HMC prints a usage message)
    "usage_invalid_option": (
        "An invalid parameter was entered: {option}. Please correct your entry and retry the command.",
        "U",
        "placeholder",
    ),
    "usage_missing_option": (
        "The {option} parameter is required. Please correct your entry and retry the command.",
        "U",
        "placeholder",
    ),
    "usage_missing_value": (
        "A value for the {option} parameter is required. Please correct your entry and retry the command.",
        "U",
        "placeholder",
    ),
    "usage_bad_value": (
        "The value {value} for the {option} parameter is not valid. Please correct your entry and retry the "
        "command.",
        "U",
        "placeholder",
    ),
    "usage_conflict": (
        "The {a} and {b} parameters are mutually exclusive. Please correct your entry and retry the command.",
        "U",
        "placeholder",
    ),
    "invalid_filter": (
        "An invalid filter was entered.  The invalid filter is {name}.  Please correct your entry and retry "
        "the command.",
        "U",
        "modelled on the invalid-attribute text",
    ),
    "bad_config_data": (
        "The format of the configuration data is not valid: {detail}. Please correct your entry and retry the "
        "command.",
        "U",
        "placeholder",
    ),
    # ---- restricted shell (bash's own wording, checked with bash -r)
    "rbash_slash": ("rbash: {name}: restricted: cannot specify `/' in command names", "V", "bash -r"),
    "rbash_redirect": ("rbash: {target}: restricted: cannot redirect output", "V", "bash -r"),
    "rbash_restricted": ("rbash: {name}: restricted", "V", "bash -r: cd, exec"),
    "rbash_readonly": ("rbash: {name}: readonly variable", "V", "bash -r: PATH= etc."),
    "rbash_not_found": ("rbash: {name}: command not found", "V", "exit 127"),
    "rbash_syntax": ("rbash: -c: line 1: {detail}", "V", "exit 2"),
    "rbash_no_file": ("rbash: {name}: No such file or directory", "V", "input redirection"),
    "rbash_substitution": (
        "rbash: {text}: command substitution is not available in the HMC restricted shell",
        "U",
        "hmcsim refuses unquoted $(...) and backquotes instead of running anything",
    ),
}

# Bare `lsmemopt -m SYS` (facts doc 1.4, all [U]): attribute order and status words.
DPO_STATUS_ATTRIBUTES = [
    "in_progress",
    "status",
    "type",
    "opt_id",
    "progress",
    "requested_lpar_ids",
    "protected_lpar_ids",
    "impacted_lpar_ids",
]
DPO_STATUS_WORDS = {
    "never": "Not Started",
    "running": "In Progress",
    "finished": "Finished",
    "stopped": "Stopped",
    "failed": "Failed",
}

# dialect dpo_status_names=alternate: the same facts under other names and words, none of the standard names
# (README "Dialects"; stands for the [U] bare-lsmemopt listing of field-facts.md).
DPO_STATUS_ALTERNATE_ATTRIBUTES = [
    "operation_id",
    "operation_type",
    "state",
    "percent_complete",
    "requested_lpar_ids",
    "protected_lpar_ids",
    "impacted_lpar_ids",
]
DPO_STATUS_ALTERNATE_WORDS = {
    "never": "Not Started",
    "running": "Running",
    "finished": "Completed",
    "stopped": "Stopped",
    "failed": "Failed",
}

# dialect error_wrapping=hscl127d: the wrapper code seen in a live capture (`HSCL127D: HSCL1288 ...`) [V-3p]
ERROR_WRAPPER_CODE = "HSCL127D"

# lsrefcode (facts doc 3.4 polls `-F refcode`; the attribute list and the codes per state are [U]).
REFCODE_LPAR_ATTRIBUTES = ["lpar_name", "lpar_id", "time_stamp", "refcode", "word2", "fru_call_out_loc_codes"]
REFCODE_SYS_ATTRIBUTES = ["time_stamp", "refcode", "word2", "fru_call_out_loc_codes"]
REFCODES = {
    "Running": "",  # the OS is up: no progress code left
    "Not Activated": "00000000",
    "Starting": "CA00E1F5",
    "Open Firmware": "CA00E1DC",
    "Shutting Down": "D200A250",
    "Error": "B2008105",
    "Not Available": "B200F00A",
    # managed system states
    "Operating": "",
    "Standby": "C9002F00",
    "Initializing": "C7004091",
    "Power Off": "00000000",
    "Power Off In Progress": "D1001000",
}
REFCODE_WORD2 = "00000000"

# lspwrmgmt -r sys attributes (facts doc 3.6 / lpar facts 8: names [U]) and mode tokens per processor.
PWRMGMT_ATTRIBUTES = ["sys_name", "curr_power_saver_mode", "supported_power_saver_mode_types"]
POWER_MODES_BY_PROCESSOR = {
    "POWER8": ["static", "dynamic_favor_perf", "dynamic_favor_power", "power_saving"],
    "POWER9": ["static", "dynamic_favor_perf", "max_perf"],
    "POWER10": ["static", "power_saving", "max_perf"],
    "Power11": ["static", "power_saving", "max_perf", "efficiency_favor_perf"],
}
# `chpwrmgmt -o disable`: the mode it leaves (nominal frequency). [V] POWER9 nominal is `-o disable`; there it
# shows as `none` (no power saver mode) [U]. On Power10/11 nominal is the `static` mode [V]; `-o disable` giving
# it is [U].
POWER_MODE_DISABLED_BY_PROCESSOR = {"POWER8": "none", "POWER9": "none", "POWER10": "static", "Power11": "static"}
POWER_MODE_DISABLED = "static"  # any other processor

# dialect power_mode_format=display_text: how the current mode reads as text, per processor [U] (the GUI names
# of IBM's EnergyScale papers; POWER9 "Static Power Saver" is a power saving mode, not nominal).
POWER_MODE_DISPLAY_TEXT = {
    "POWER8": {"none": "Nominal", "static": "Static Power Saver",
               "dynamic_favor_perf": "Dynamic Power Saver (Favor Performance)",
               "dynamic_favor_power": "Dynamic Power Saver (Favor Power)"},
    "POWER9": {"none": "Nominal", "static": "Static Power Saver", "dynamic_favor_perf": "Dynamic Performance",
               "max_perf": "Maximum Performance"},
    "POWER10": {"static": "Static", "power_saving": "Power Saving", "max_perf": "Maximum Performance"},
    "Power11": {"static": "Static", "power_saving": "Power Saving", "max_perf": "Maximum Performance",
                "efficiency_favor_perf": "Energy Efficient"},
}

# Value printed for an attribute that is valid for the resource type but does not apply to this row
# when it is requested explicitly with -F (F1 listings drop such attributes instead) [U].
NOT_APPLICABLE_VALUE = "null"


def message(key: str, **fields: object) -> str:
    """Render one message of the table."""
    return MESSAGES[key][0].format(**fields)
