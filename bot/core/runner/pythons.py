"""Which interpreters can run examples: the bot's own, plus others discovered or configured (`runner.pythons`).

* `"auto"`: the bot's own interpreter plus one CPython >= 3.11 per other minor version found: pyenv's
  versions (`$PYENV_ROOT/versions/*/bin`, default `~/.pyenv`), then `python3.N` executables on PATH.  pyenv's
  shims are skipped: a shim runs only the version pyenv has selected, and fails for the others.
* a list: the bot's own interpreter plus each entry, a version (`"3.12"`, looked up as above) or the path of
  an interpreter.  An entry that cannot be found or does not work is *unavailable*, with the reason: never an
  error at start-up.

Every candidate is probed once, all at the same time (`python -I -S -c …`, a few seconds at most): its
version, its real executable (behind any symlink or shim) and its prefixes, which the sandbox must bind
read-only.  One interpreter per minor version: the bot's own first, then pyenv's newest release, then PATH.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.runner import sandbox
from bot.core.versions import Unavailable, normalize, sort_versions, version_key

log = logging.getLogger(__name__)

MINIMUM = (3, 11)  # the harness and the worker need it (asyncio.timeout, TaskGroup, the policy API)
PROBE_TIMEOUT = 5.0
MAX_PROBE_OUTPUT = 8192
PROBE = (
    "import json, os, sys; print(json.dumps({'version': list(sys.version_info[:3]), 'release': sys.version.split()[0],"
    " 'impl': sys.implementation.name, 'executable': os.path.realpath(sys.executable),"
    " 'prefixes': [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]}))"
)
_PATH_NAME = re.compile(r"^python(3\.\d{1,2})$")
_PYENV_NAME = re.compile(r"^(3\.\d{1,2})\.(\d+)$")  # plain CPython releases; not 3.13.0t, pypy3.10, miniconda…

Wanted = Sequence[str] | Literal["auto"]


@dataclass(frozen=True, slots=True)
class Interpreter:
    """One interpreter a worker can run on."""

    version: str  # "3.12"
    release: str  # "3.12.1"
    executable: str  # real path (no symlink, no shim)
    prefixes: tuple[str, ...]  # what the sandbox binds: its prefixes and its executable's install root
    own: bool = False  # the bot's own interpreter


def own_interpreter() -> Interpreter:
    release = sys.version.split()[0]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return Interpreter(version, release, sys.executable, tuple(sandbox.own_prefixes()), own=True)


def pyenv_candidates(root: Path | None = None) -> dict[str, list[Path]]:
    """pyenv's CPython releases by minor version, newest release first."""
    base = root or Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found: dict[str, list[tuple[int, Path]]] = {}
    try:
        entries = sorted((base / "versions").iterdir())
    except OSError:
        return {}
    for entry in entries:
        match = _PYENV_NAME.match(entry.name)
        executable = entry / "bin" / f"python{match.group(1)}" if match else None
        if match and executable is not None and os.access(executable, os.X_OK):
            found.setdefault(match.group(1), []).append((int(match.group(2)), executable))
    return {version: [path for _, path in sorted(items, reverse=True)] for version, items in found.items()}


def path_candidates(path: str | None = None) -> dict[str, list[Path]]:
    """`python3.N` executables on PATH (pyenv shims skipped), by minor version, in PATH order."""
    found: dict[str, list[Path]] = {}
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:
            continue
        for name in names:
            match = _PATH_NAME.match(name)
            candidate = Path(folder) / name
            if match and candidate.parent.name != "shims" and os.access(candidate, os.X_OK):
                found.setdefault(match.group(1), []).append(candidate)
    return found


async def probe(executable: str) -> Interpreter | str:
    """Ask `executable` what it is: an `Interpreter`, or why it cannot be one."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *(executable, "-I", "-S", "-c", PROBE),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=sandbox.clean_env(),
        )
    except OSError as exc:
        return f"cannot start it: {exc.strerror or exc}"
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            assert proc.stdout is not None
            out = await proc.stdout.read(MAX_PROBE_OUTPUT)
            code = await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return f"it did not answer within {PROBE_TIMEOUT:g} s"
    if code != 0:
        return f"it exited with status {code}"
    try:
        facts = json.loads(out)
        major, minor = int(facts["version"][0]), int(facts["version"][1])
        release, impl, real = str(facts["release"]), str(facts["impl"]), str(facts["executable"])
        prefixes = [str(p) for p in facts["prefixes"]]
    except (ValueError, KeyError, TypeError, IndexError):
        return "it did not say what it is"
    if impl != "cpython":
        return f"it is {impl}, not CPython"
    if (major, minor) < MINIMUM:
        return f"it is Python {release}; corobot needs {MINIMUM[0]}.{MINIMUM[1]} or later"
    prefixes.append(str(Path(real).parent.parent))
    return Interpreter(f"{major}.{minor}", release, real, tuple(sorted(set(prefixes))))


async def _first_working(version: str, candidates: list[Path]) -> Interpreter | str:
    """The first candidate that is `version`, or why none is."""
    reasons = []
    for candidate in candidates:
        found = await probe(str(candidate))
        if isinstance(found, Interpreter) and found.version == version:
            return found
        reasons.append(f"{candidate}: {found if isinstance(found, str) else 'it is Python ' + found.release}")
    return "; ".join(reasons) if reasons else "not found (pyenv versions, python3.N on PATH)"


async def find_pythons(wanted: Wanted) -> tuple[list[Interpreter], list[Unavailable]]:
    """The interpreters to keep a worker for, the bot's own first, and the configured ones that are unavailable."""
    own = own_interpreter()
    pyenv, on_path = pyenv_candidates(), path_candidates()
    versions: list[str] = []
    paths: list[str] = []
    if wanted == "auto":
        versions = [v for v in sort_versions([*pyenv, *on_path]) if version_key(v) >= MINIMUM]
    else:
        for entry in wanted:
            version = normalize(entry) if "/" not in entry else None
            (versions if version is not None else paths).append(version or entry)
    lookups = {v: [*pyenv.get(v, []), *on_path.get(v, [])] for v in dict.fromkeys(versions) if v != own.version}
    results = await asyncio.gather(
        *(_first_working(v, found) for v, found in lookups.items()), *(probe(path) for path in paths)
    )
    chosen: dict[str, Interpreter] = {own.version: own}
    missing: list[Unavailable] = []
    for name, result in zip([*lookups, *paths], results, strict=True):
        if isinstance(result, str):
            if wanted != "auto":
                missing.append(Unavailable(name, result))
            else:
                log.info("python %s: not usable (%s)", name, result)
        elif result.version in chosen:
            if name in paths:
                log.warning("runner.pythons: %s is Python %s, already taken; ignoring it", name, result.release)
        else:
            chosen[result.version] = result
    others = sorted((i for i in chosen.values() if not i.own), key=lambda i: version_key(i.version))
    return [own, *others], missing
