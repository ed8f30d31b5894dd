"""Python versions as the rest of corobot sees them: `"3.12"` strings, which ones a runner offers, and which one
an example runs on.

A version is a minor release, `"3.12"`: what lessons declare (`versions: ["3.11", "3.12"]`), what `/run …
python:3.12` and `corobot run --python 3.12` ask for, and what a runner keeps one warm worker for.
`Pythons` is a runner's offer: the versions available (with the exact release each one is, `3.12.1`), the
default, and the configured ones it cannot offer with the reason.  It is plain data, so a remote runner can
send it over a wire.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.core.errors import RunnerError

log = logging.getLogger(__name__)

VERSION = r"^3\.\d{1,2}$"
_TYPED = re.compile(r"^\s*(?:python|py|cpython)?\s*(3)\.(\d{1,2})(?:\.\d+[a-z0-9]*)?\s*$", re.IGNORECASE)


def version_key(version: str) -> tuple[int, ...]:
    """`"3.12"` -> (3, 12), for sorting (3.9 before 3.10); anything unparsable sorts first."""
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return ()


def version_tuple(version: str) -> tuple[int, int]:
    """`"3.12"` -> (3, 12) (what `Lesson.supported` takes); (0, 0) for anything unparsable."""
    major, minor = (*version_key(version), 0, 0)[:2]
    return major, minor


def sort_versions(versions: Iterable[str]) -> list[str]:
    return sorted(set(versions), key=version_key)


def normalize(typed: str) -> str | None:
    """What a person typed (`3.12`, `python3.12`, `3.12.1`, `py 3.13`) as a version (`3.12`); None if it is not one."""
    match = _TYPED.match(typed)
    return f"{match.group(1)}.{int(match.group(2))}" if match else None


class PythonUnavailable(RunnerError):
    """The Python version asked for is not one this runner offers."""

    def __init__(self, python: str, available: Sequence[str]) -> None:
        super().__init__(
            message_id="run.python_unavailable",
            params={"python": python[:40], "available": list(available)},
        )


class ExamplePythonUnavailable(RunnerError):
    """None of the versions an example is about is available, and none was asked for."""

    def __init__(self, wanted: Sequence[str], available: Sequence[str]) -> None:
        super().__init__(
            message_id="run.example_python_unavailable",
            params={"wanted": list(wanted), "available": list(available)},
        )


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A configured interpreter the runner cannot offer: what was configured (`3.14`, a path) and why."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Pythons:
    """The Python versions a runner offers."""

    default: str  # the version a run gets when it asks for none
    releases: tuple[tuple[str, str], ...]  # (version, release) for each available version, oldest first
    unavailable: tuple[Unavailable, ...] = field(default=())

    @classmethod
    def single(cls, release: str) -> Pythons:
        """Only one interpreter (its release, e.g. `3.11.7`)."""
        version = ".".join(release.split(".")[:2])
        return cls(version, ((version, release),))

    @property
    def versions(self) -> list[str]:
        return [version for version, _ in self.releases]

    def __contains__(self, version: object) -> bool:
        return any(version == known for known, _ in self.releases)

    def release(self, version: str) -> str:
        return next((release for known, release in self.releases if known == version), version)

    def resolve(self, requested: str | None) -> str:
        """The version a run asking for `requested` (None: the default; anything a person may type) gets;
        raises `PythonUnavailable`."""
        if requested is None:
            return self.default
        version = normalize(requested)
        if version is None or version not in self:
            raise PythonUnavailable(version or requested.strip(), self.versions)
        return version

    def for_example(self, declared: Sequence[str] | None, requested: str | None = None) -> str:
        """The version an example runs on: the one asked for; else the default when the example declares no
        versions or the default among them; else the newest of its versions available here.  Raises
        `PythonUnavailable` / `ExamplePythonUnavailable`."""
        if requested is not None or not declared or self.default in declared:
            return self.resolve(requested)
        here = [version for version in sort_versions(declared) if version in self]
        if not here:
            raise ExamplePythonUnavailable(sort_versions(declared), self.versions)
        return here[-1]

    def installed(self, declared: Sequence[str]) -> tuple[list[str], list[str]]:
        """(the declared versions available here, those that are not), each oldest first."""
        ordered = sort_versions(declared)
        return [v for v in ordered if v in self], [v for v in ordered if v not in self]

    def describe(self) -> str:
        """`Python 3.11.7 (default), 3.12.1, 3.13.0; unavailable: 3.14 (not found)` — for logs and the console."""
        shown = [release + (" (default)" if version == self.default else "") for version, release in self.releases]
        text = "Python " + ", ".join(shown)
        if self.unavailable:
            text += "; unavailable: " + ", ".join(f"{u.name} ({u.reason})" for u in self.unavailable)
        return text
