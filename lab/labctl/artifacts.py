"""What lab hosts need from the controller, built by the step that needs it, keyed by the hash of its inputs.

- The lab artifacts (lab/standins/build_channel.py: conda channels, the micromamba stand-in release, the wheelhouse
  the stand-in runs on) live in STATE/artifacts with a stamp STATE/artifacts/.inputs = hash of their sources and
  pins. `ensure(state)` rebuilds them from scratch whenever the stamp is missing or different, so an old or
  half-built directory is never used.
- The host image is cached between lab state dirs in ROCKETCE_LAB_CACHE (default /var/tmp/rocketce-lab-cache),
  only under the hash of its recipe (lab/image/build.sh, which holds the package list, plus the Debian mirror) and
  only with its own sha256 alongside, which is checked on every use.

Standard library only: lab/hosts/labhost runs this with the system python3 too.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .procs import LabError

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "lab" / "standins"
BUILD_CHANNEL = STANDINS / "build_channel.py"
# Everything build_channel.py reads (the wheel pins are constants in build_channel.py itself).
ARTIFACT_INPUTS = (BUILD_CHANNEL, STANDINS / "micromamba_standin.py")
IMAGE_RECIPE = REPO / "lab" / "image" / "build.sh"
STAMP = ".inputs"
DEFAULT_CACHE = "/var/tmp/rocketce-lab-cache"  # noqa: S108 - documented (ROCKETCE_LAB_CACHE)


def digest(paths: tuple[Path, ...] | list[Path], extra: str = "") -> str:
    """sha256 over the names and contents of paths (and extra), first 16 hex digits."""
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    sha.update(extra.encode())
    return sha.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def artifacts_key() -> str:
    return digest(list(ARTIFACT_INPUTS))


def image_key(recipe: Path = IMAGE_RECIPE) -> str:
    """The image's inputs: its build script (which holds the package list) and the Debian mirror it uses."""
    return digest([recipe], extra=os.environ.get("LAB_DEBIAN_MIRROR", ""))


def cache_dir() -> Path | None:
    """The cross-state cache, or None when ROCKETCE_LAB_CACHE is set to the empty string (no cache)."""
    value = os.environ.get("ROCKETCE_LAB_CACHE", DEFAULT_CACHE)
    return Path(value) if value else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


# ---------------------------------------------------------------------- lab artifacts
def builder_python() -> str:
    """An interpreter with what build_channel.py imports (py-rattler, conda-package-handling): this one or the
    project venv's."""
    if importlib.util.find_spec("rattler") and importlib.util.find_spec("conda_package_handling"):
        return sys.executable
    venv = REPO / ".venv" / "bin" / "python"
    if venv.exists():
        return str(venv)
    raise LabError("building the lab artifacts needs py-rattler and conda-package-handling: run `make setup`")


def artifacts_current(state: Path) -> bool:
    return _read(state / "artifacts" / STAMP) == artifacts_key()


def ensure_artifacts(state: Path, say=print) -> bool:
    """Build STATE/artifacts unless its stamp matches its inputs; True if it was built. The build goes to a
    temporary dir that replaces the old one only when complete (the artifact server serves the path, so it
    picks up the new tree)."""
    if artifacts_current(state):
        return False
    key = artifacts_key()
    target = state / "artifacts"
    tmp = state / "artifacts.tmp"
    log = state / "artifacts-build.log"
    shutil.rmtree(tmp, ignore_errors=True)
    state.mkdir(parents=True, exist_ok=True)
    say(f"lab: building the lab artifacts {target} (conda channels, micromamba stand-in, wheelhouse)")
    t0 = time.monotonic()
    with open(log, "wb") as out:
        rc = subprocess.run([builder_python(), str(BUILD_CHANNEL), "--artifacts", str(tmp)], stdout=out,
                            stderr=subprocess.STDOUT, check=False).returncode
    if rc != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        shutil.rmtree(tmp, ignore_errors=True)
        raise LabError(f"building the lab artifacts failed (rc={rc}); end of {log}:\n" + "\n".join(tail))
    (tmp / STAMP).write_text(key + "\n")
    old = state / "artifacts.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    say(f"lab: artifacts built in {time.monotonic() - t0:.1f}s (inputs {key})")
    return True


# ---------------------------------------------------------------------- host image cache
def cached_image(key: str) -> Path | None:
    """The cached image for key if it is there and intact (its sha256 file matches), else None."""
    cache = cache_dir()
    if cache is None:
        return None
    image = cache / "image" / f"bookworm-{key}.tar.zst"
    expected = _read(image.with_name(image.name + ".sha256"))
    if not image.exists() or not expected:
        return None
    if file_sha256(image) != expected:
        return None
    return image


def store_image(image: Path, key: str) -> None:
    """Put a freshly built image into the cache under key (atomically: a reader sees all of it or nothing)."""
    cache = cache_dir()
    if cache is None:
        return
    target = cache / "image" / f"bookworm-{key}.tar.zst"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(image, tmp)
    sha_tmp = tmp.with_name(tmp.name + ".sha256")
    sha_tmp.write_text(file_sha256(tmp) + "\n")
    os.replace(tmp, target)
    os.replace(sha_tmp, target.with_name(target.name + ".sha256"))


def copy_in(source: Path, dest: Path) -> None:
    """Hard link when on the same file system (the cache and the state dir usually are), else copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
