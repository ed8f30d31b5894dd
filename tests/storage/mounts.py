"""Small real file systems for storage fault tests: a size-capped tmpfs, an ext4 image on a loop device.

Mounting needs root; tests that use these skip with the reason otherwise."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

NEEDS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small file system needs root")


def run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout


def mount(*arguments: str) -> None:
    """`mount ARGUMENTS`, or skip the test with mount's reason (e.g. a container without loop devices)."""
    try:
        run("mount", *arguments)
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"cannot mount a test file system here: {exc.stderr.strip()}")


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "corobot-test", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


@contextlib.contextmanager
def ext4(where: Path, size_mb: int = 16, options: str = "") -> Iterator[Path]:
    """An ext4 file system in an image file, loop-mounted at `where` (for chattr +i and errors=remount-ro)."""
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed (e2fsprogs)")
    image = where.with_suffix(".img")
    with open(image, "wb") as f:
        f.truncate(size_mb * 1024 * 1024)
    run("mkfs.ext4", "-q", "-F", str(image))
    where.mkdir(parents=True, exist_ok=True)
    mount("-o", f"loop{',' + options if options else ''}", str(image), str(where))
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], check=False, capture_output=True).returncode:  # frees the loop
            subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def remount(where: Path, image_options: str = "") -> None:
    """Unmount and mount the ext4 image of `where` again (what an operator does after a disk error)."""
    image = where.with_suffix(".img")
    run("umount", str(where))
    run("mount", "-o", f"loop{',' + image_options if image_options else ''}", str(image), str(where))


def loop_device(where: Path) -> str:
    return Path(run("findmnt", "-n", "-o", "SOURCE", str(where)).strip()).name


def fill(folder: Path) -> Path:
    """Take every free block of the file system holding `folder`; returns the filler file."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        with contextlib.suppress(OSError):
            while True:
                f.write(chunk)
        with contextlib.suppress(OSError):
            while True:
                f.write(b"\0" * 512)
    return filler
