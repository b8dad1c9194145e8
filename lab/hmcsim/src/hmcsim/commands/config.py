"""`chsyscfg -r prof|lpar|sys -i "..."`, `chsyscfg -r lpar -o apply`, `chhwres` (DLPAR) and `migrlpar`."""

from __future__ import annotations

from .. import affinity
from ..formats import RecordError, RecordItem, join_list_value, parse_record, split_list_value
from ..model import Chunk, Lpar, System
from ..options import Option, choice, fail, parse_options, require
from ..profiles import (
    IDENTITY_ATTRIBUTES,
    LIST_ATTRIBUTES,
    PROFILE_ATTRIBUTES,
    Resources,
    running_configuration,
    validate_profile,
)
from .common import Context, find_lpar, find_system, help_requested, lpar_from_options, require_operating

MAX_NAME = 47
LPAR_SETTABLE = {"new_name", "default_profile", "auto_start", "boot_mode", "lpar_avail_priority", "work_group_id",
                 "description", "sync_curr_profile"}


def valid_name(name: str) -> bool:
    """1-47 printable characters without commas (commas separate list values everywhere on the HMC)."""
    return 0 < len(name) <= MAX_NAME and name.isprintable() and "," not in name and name.strip() == name


def _record(parsed: dict) -> list[RecordItem]:
    if "-f" in parsed:
        raise fail("not_simulated", what="chsyscfg -f (configuration files)")
    data = require(parsed, "-i")
    try:
        return parse_record(data)
    except RecordError as exc:
        raise fail("bad_config_data", detail=str(exc)) from exc


def _plain(items: list[RecordItem], name: str) -> str | None:
    for item in items:
        if item.name == name:
            if item.operator != "=":
                raise fail("not_list_attribute", name=name)
            return item.value
    return None


def chsyscfg(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv,
        [Option(("-r",)), Option(("-m",)), Option(("-e",)), Option(("-i",)), Option(("-f",)), Option(("-o",)),
         Option(("-p",)), Option(("--id",)), Option(("-n",)), Option(("--force",), "flag"),
         Option(("--help",), "flag")],
    )
    usage = help_requested(parsed, "Usage: chsyscfg -r {lpar | prof | sys} -m managed-system -i \"configuration-data\""
                                   " [--force]\n       chsyscfg -r lpar -m managed-system -o apply {-p partition-"
                                   "name | --id partition-ID} [-n profile-name]")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"lpar", "prof", "sys", "sysprof", "frame"})
    if resource in {"sysprof", "frame"}:
        raise fail("not_simulated", what=f"chsyscfg -r {resource}")
    system = find_system(ctx, require(parsed, "-m"))
    if "-o" in parsed:
        choice(parsed, "-o", {"apply"})
        if resource != "lpar":
            raise fail("usage_bad_value", option="-r", value=resource)
        return _apply_profile(ctx, system, parsed)
    items = _record(parsed)
    if resource == "sys":
        return _change_system(ctx, system, items)
    if resource == "lpar":
        return _change_lpar(ctx, system, items)
    return _change_profile(ctx, system, items)


def _target_lpar(system: System, items: list[RecordItem], name_key: str) -> Lpar:
    name = _plain(items, name_key)
    lpar_id = _plain(items, "lpar_id")
    if lpar_id is not None:
        return find_lpar(system, lpar_id=lpar_id)
    if name is None:
        raise fail("bad_config_data", detail=f"{name_key} or lpar_id is required")
    return find_lpar(system, name=name)


def _rename_lpar(system: System, lpar: Lpar, new_name: str) -> None:
    if not valid_name(new_name):
        raise fail("bad_name", name=new_name)
    other = system.lpar_by_name(new_name)
    if other is not None and other is not lpar:
        raise fail("duplicate_name", name=new_name)
    lpar.name = new_name
    for profile in lpar.profiles:
        profile["lpar_name"] = new_name


def _change_lpar(ctx: Context, system: System, items: list[RecordItem]) -> str:
    lpar = _target_lpar(system, items, "name")
    for item in items:
        if item.name in {"name", "lpar_id"}:
            continue
        if item.name not in LPAR_SETTABLE:
            raise fail("invalid_attribute", name=item.name)
        if item.operator != "=":
            raise fail("not_list_attribute", name=item.name)
    updates = {item.name: item.value for item in items if item.name not in {"name", "lpar_id"}}
    if "default_profile" in updates and lpar.profile(updates["default_profile"]) is None:
        raise fail("profile_not_found", prof=updates["default_profile"], lpar=lpar.name)
    for name in ("auto_start", "sync_curr_profile"):
        if name in updates and updates[name] not in {"0", "1"}:
            raise fail("bad_value", name=name, value=updates[name])
    if "boot_mode" in updates and updates["boot_mode"] not in {"norm", "sms", "of", "dd", "ds"}:
        raise fail("bad_value", name="boot_mode", value=updates["boot_mode"])
    if "lpar_avail_priority" in updates and not (
        updates["lpar_avail_priority"].isdigit() and int(updates["lpar_avail_priority"]) <= 255
    ):
        raise fail("bad_value", name="lpar_avail_priority", value=updates["lpar_avail_priority"])
    if "description" in updates and not updates["description"].isascii():
        raise fail("bad_value", name="description", value=updates["description"])  # real HMC: HSCLC63B
    if "new_name" in updates:
        _rename_lpar(system, lpar, updates["new_name"])
    for name, value in updates.items():
        if name == "default_profile":
            lpar.default_profile = value
        elif name in {"auto_start", "lpar_avail_priority", "sync_curr_profile"}:
            setattr(lpar, name, int(value))
        elif name in {"boot_mode", "work_group_id", "description"}:
            setattr(lpar, name, value)
    ctx.store.mark_dirty()
    return ""


def _change_profile(ctx: Context, system: System, items: list[RecordItem]) -> str:
    lpar = _target_lpar(system, items, "lpar_name")
    profile_name = _plain(items, "name")
    if profile_name is None:
        raise fail("bad_config_data", detail="name is required")
    profile = lpar.profile(profile_name)
    if profile is None:
        raise fail("profile_not_found", prof=profile_name, lpar=lpar.name)
    changed = dict(profile)
    for item in items:
        if item.name in IDENTITY_ATTRIBUTES:
            continue
        if item.name == "new_name":
            if not valid_name(item.value):
                raise fail("bad_name", name=item.value)
            if item.value != profile_name and lpar.profile(item.value) is not None:
                raise fail("duplicate_name", name=item.value)
            changed["name"] = item.value
            continue
        if item.name not in PROFILE_ATTRIBUTES:
            raise fail("invalid_attribute", name=item.name)
        if item.operator == "=":
            changed[item.name] = item.value
            continue
        if item.name not in LIST_ATTRIBUTES:
            raise fail("not_list_attribute", name=item.name)
        elements = split_list_value(changed[item.name])
        for element in split_list_value(item.value):
            if item.operator == "+=" and element not in elements:
                elements.append(element)
            elif item.operator == "-=" and element in elements:
                elements.remove(element)
        changed[item.name] = join_list_value(elements)
    problem = validate_profile(changed)
    if problem:
        raise fail(problem[0], **problem[1])
    if changed != profile:
        if changed["name"] != profile_name:
            if lpar.default_profile == profile_name:
                lpar.default_profile = changed["name"]
            if lpar.curr_profile == profile_name:
                lpar.curr_profile = changed["name"]
        profile.clear()
        profile.update(changed)
        ctx.store.mark_dirty()
    _sync_current_profile(ctx, lpar, profile)
    return ""


def _sync_current_profile(ctx: Context, lpar: Lpar, profile: dict[str, str]) -> None:
    """Dialect profile_sync=writeback: with sync_curr_profile=1 the HMC writes the running configuration of a
    Running partition back over its current profile, so a change to that profile does not stick (field-facts)."""
    held = lpar.held()
    if (ctx.store.dialect().profile_sync != "writeback" or lpar.state != "Running" or not lpar.sync_curr_profile
            or held is None or profile["name"] != lpar.curr_profile):
        return
    running = running_configuration(held)
    if any(profile[name] != value for name, value in running.items()):
        profile.update(running)
        ctx.store.mark_dirty()


def _change_system(ctx: Context, system: System, items: list[RecordItem]) -> str:
    for item in items:
        if item.name != "new_name":
            raise fail("invalid_attribute", name=item.name)
    new_name = _plain(items, "new_name") or ""
    if not valid_name(new_name):
        raise fail("bad_name", name=new_name)
    if ctx.store.system(new_name) not in (None, system):
        raise fail("duplicate_name", name=new_name)
    system.name = new_name
    ctx.store.mark_dirty()
    return ""


def _apply_profile(ctx: Context, system: System, parsed: dict) -> str:
    require_operating(system)
    lpar = lpar_from_options(system, parsed, name_key="-p")
    profile_name = str(parsed.get("-n") or lpar.default_profile)
    profile = lpar.profile(profile_name)
    if profile is None:
        raise fail("profile_not_found", prof=profile_name, lpar=lpar.name)
    if lpar.state != "Not Activated":
        raise fail("lpar_wrong_state", name=lpar.name, state=lpar.state)
    problem = ctx.store.hold(system, lpar, Resources.from_profile(profile))
    if problem:
        raise fail(problem, sys=system.name, name=lpar.name)
    lpar.curr_profile = profile_name
    ctx.store.mark_dirty()
    return ""


# ------------------------------------------------------------------------------------------- chhwres
def dpo_blocks(system: System) -> None:
    if system.dpo_run is not None and system.dpo_run.status == "running":
        raise fail("dpo_blocks", sys=system.name)


def chhwres(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv,
        [Option(("-r",)), Option(("-m",)), Option(("-o",)), Option(("-p",)), Option(("--id",)), Option(("-t",)),
         Option(("--tid",)), Option(("--procs",)), Option(("--procunits",)), Option(("--quantity", "-q")),
         Option(("-a",)), Option(("-w",)), Option(("--force",), "flag"), Option(("--help",), "flag")],
    )
    usage = help_requested(parsed, "Usage: chhwres -r {mem | proc} -m managed-system -o {a | r} {-p partition-name "
                                   "| --id partition-ID} {--quantity MB | --procs N | --procunits N}")
    if usage:
        return usage
    resource = choice(parsed, "-r", {"mem", "proc", "io", "virtualio", "sriov"})
    system = find_system(ctx, require(parsed, "-m"))
    if resource == "mem":
        dpo_blocks(system)  # IBM: memory DLPAR must wait for DPO or stop it
    if resource not in {"mem", "proc"}:
        raise fail("not_simulated", what=f"chhwres -r {resource}")
    operation = choice(parsed, "-o", {"a", "r", "m", "s"})
    if operation in {"m", "s"}:
        raise fail("not_simulated", what=f"chhwres -o {operation}")
    require_operating(system)
    lpar = lpar_from_options(system, parsed, name_key="-p")
    held = lpar.held()
    if lpar.state != "Running" or held is None:
        raise fail("lpar_wrong_state", name=lpar.name, state=lpar.state)
    sign = 1 if operation == "a" else -1
    values = dict(held.__dict__)
    if resource == "mem":
        amount = _number(parsed, "--quantity", integer=True)
        values["mem"] = held.mem + sign * int(amount)
        if not held.min_mem <= values["mem"] <= held.max_mem:
            raise fail("bad_value", name="--quantity", value=parsed["--quantity"])
    elif held.proc_mode == "ded":
        values["procs"] = held.procs + sign * int(_number(parsed, "--procs", integer=True))
        if not held.min_procs <= values["procs"] <= held.max_procs:
            raise fail("bad_value", name="--procs", value=parsed["--procs"])
    else:
        if "--procs" in parsed:
            values["procs"] = held.procs + sign * int(_number(parsed, "--procs", integer=True))
        if "--procunits" in parsed:
            values["proc_units"] = round(held.proc_units + sign * _number(parsed, "--procunits"), 2)
        if not (held.min_procs <= values["procs"] <= held.max_procs
                and held.min_proc_units <= values["proc_units"] <= held.max_proc_units
                and values["proc_units"] <= values["procs"]):
            raise fail("bad_value", name="--procunits", value=parsed.get("--procunits", parsed.get("--procs")))
    _resize(ctx, system, lpar, Resources(**values))
    return ""


def _number(parsed: dict, key: str, integer: bool = False) -> float:
    raw = require(parsed, key)
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise fail("usage_bad_value", option=key, value=raw) from None
    if value <= 0:
        raise fail("usage_bad_value", option=key, value=raw)
    return value


def _resize(ctx: Context, system: System, lpar: Lpar, wanted: Resources) -> None:
    """DLPAR keeps the partition's chips and adds to (or trims from) them, like the hypervisor does."""
    held = lpar.held()
    assert held is not None and lpar.placement is not None
    chunks = {c.chip: Chunk(**c.model_dump()) for c in lpar.placement}
    free = affinity.free_capacity(system)
    core_delta = wanted.cores - held.cores
    mem_delta = wanted.mem - held.mem
    if core_delta > 0 and sum(max(c, 0) for c in free.cores) < core_delta:
        raise fail("insufficient_resources", sys=system.name, name=lpar.name)
    if mem_delta > 0 and sum(max(m, 0) for m in free.memory) < mem_delta:
        raise fail("insufficient_resources", sys=system.name, name=lpar.name)
    own_first = sorted(range(system.topology.chips), key=lambda c: (c not in chunks, c))
    for field, change, room in (("cores", core_delta, free.cores), ("memory_mb", mem_delta, free.memory)):
        delta = change
        if delta > 0:
            for chip in own_first:
                take = min(delta, max(room[chip], 0))
                if take:
                    chunk = chunks.setdefault(chip, Chunk(chip=chip))
                    setattr(chunk, field, getattr(chunk, field) + take)
                    delta -= take
        elif delta < 0:
            for chip in sorted(chunks, key=lambda c: getattr(chunks[c], field)):
                give = min(-delta, getattr(chunks[chip], field))
                setattr(chunks[chip], field, getattr(chunks[chip], field) - give)
                delta += give
    lpar.placement = [c for c in sorted(chunks.values(), key=lambda c: c.chip) if c.cores or c.memory_mb]
    lpar.resources = wanted.__dict__
    ctx.store.mark_dirty()


# ------------------------------------------------------------------------------------------ migrlpar
def migrlpar(ctx: Context, argv: list[str]) -> str:
    parsed = parse_options(
        argv,
        [Option(("-o",)), Option(("-m",)), Option(("-t",)), Option(("-p",)), Option(("--id",)), Option(("-i",)),
         Option(("--ip",)), Option(("-u",)), Option(("--force",), "flag"), Option(("--help",), "flag")],
    )
    usage = help_requested(parsed, "Usage: migrlpar -o {v | m} -m managed-system -t target-system "
                                   "{-p partition-name | --id partition-ID}")
    if usage:
        return usage
    operation = choice(parsed, "-o", {"v", "m", "r", "s"})
    source = find_system(ctx, require(parsed, "-m"))
    target = find_system(ctx, require(parsed, "-t"))
    dpo_blocks(source)  # IBM: LPM targeting a system is blocked while DPO runs there
    dpo_blocks(target)
    if operation in {"r", "s"}:
        raise fail("not_simulated", what=f"migrlpar -o {operation}")
    require_operating(source)
    require_operating(target)
    lpar = lpar_from_options(source, parsed, name_key="-p")
    if target is source or lpar.env == "vioserver" or lpar.state not in {"Running", "Not Activated"}:
        raise fail("lpar_wrong_state", name=lpar.name, state=lpar.state)
    if target.lpar_by_name(lpar.name) is not None:
        raise fail("duplicate_name", name=lpar.name)
    held = lpar.held() or Resources.from_profile(lpar.profile(lpar.curr_profile or lpar.default_profile))
    free = affinity.free_capacity(target)
    if sum(max(c, 0) for c in free.cores) < held.cores or sum(max(m, 0) for m in free.memory) < held.mem:
        raise fail("insufficient_resources", sys=target.name, name=lpar.name)
    if operation == "v":
        return ""
    new_id = next(i for i in range(1, 1000) if target.lpar_by_id(i) is None)
    source.lpars.remove(lpar)
    lpar.id = new_id
    for profile in lpar.profiles:
        profile["lpar_id"] = str(new_id)
    if lpar.resources:
        lpar.placement = affinity.place(target, held.cores, held.mem, free)
        lpar.booted_placement = [c.model_copy() for c in lpar.placement]
    target.lpars.append(lpar)
    ctx.store.mark_dirty()
    return ""
