"""The CLI with several Pythons, as a real process: `run --python`, a comparison, `lessons check` per version.

Skips, saying so, where this machine has a single interpreter (the CI machine has pyenv's 3.12 and 3.13 besides
the venv's 3.11)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

from bot.core.runner.pythons import find_pythons
from tests.test_main import corobot, workdir  # noqa: F401  (the fixture)

pytestmark = pytest.mark.timeout(120)

OWN = f"{sys.version_info[0]}.{sys.version_info[1]}"
INTERPRETERS = asyncio.run(find_pythons("auto"))[0]
VERSIONS = [python.version for python in INTERPRETERS]
RELEASES = {python.version: python.release for python in INTERPRETERS}
needs_two = pytest.mark.skipif(len(VERSIONS) < 2, reason=f"only Python {OWN} here; CI has 3.11, 3.12 and 3.13")

COMPARE = """\
id: versions
title: Versions
examples:
  - id: compare
    versions: VERSIONS
    compare: true
    code: |
      import sys
      print("same everywhere")
      print("this is %d.%d" % sys.version_info[:2])
    expect:
      output: ["same everywhere", "this is FIRST"]
      by_version: BY_VERSION
  - id: newer
    versions: ["3.99", "SECOND"]
    code: |
      import sys
      print("%d.%d" % sys.version_info[:2])
"""


def write_versions(root: Path) -> None:
    by_version = {v: {"output": ["same everywhere", f"this is {v}"]} for v in VERSIONS[1:]}
    text = COMPARE.replace("VERSIONS", json.dumps(VERSIONS)).replace("BY_VERSION", json.dumps(by_version))
    text = text.replace("FIRST", VERSIONS[0]).replace("SECOND", VERSIONS[-1])
    (root / "lessons" / "c-versions.yaml").write_text(text, encoding="utf-8")


@needs_two
def test_run_python_picks_the_interpreter(workdir: Path) -> None:  # noqa: F811
    other = VERSIONS[-1]
    done = corobot(workdir, "run", "world", "--python", other)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Python {RELEASES[other]}" in done.stdout.splitlines()[0]
    missing = corobot(workdir, "run", "world", "--python", "2.7")
    assert missing.returncode == 2
    said = missing.stderr.strip().splitlines()[-1]
    assert said.startswith("corobot: Python '2.7' is not available here; available: ")


@needs_two
def test_run_a_comparison_side_by_side_and_as_json(workdir: Path) -> None:  # noqa: F811
    write_versions(workdir)
    done = corobot(workdir, "run", "versions/compare", env={"COLUMNS": "160"})
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "side by side; ≠ marks what differs" in out
    header = next(line for line in out.splitlines() if line.startswith("≠ "))
    assert all(RELEASES[v] in header for v in VERSIONS)  # a column per version
    assert re.search(r"^\s+\+0\.\d{3}s  same everywhere\s+\+0\.\d{3}s  same everywhere", out, re.M), out
    assert re.search(rf"^≠\s+\+0\.\d{{3}}s  this is {VERSIONS[0]}\s*$", out, re.M), out  # only in the first column
    assert out.count("output: 2 lines as expected") == len(VERSIONS)  # each version against its own expect
    events = [json.loads(line) for line in corobot(workdir, "run", "versions/compare", "--json").stdout.splitlines()]
    assert {e["python"] for e in events} == set(VERSIONS)
    assert sorted(e["text"] for e in events if e["type"] == "output" and e["text"].startswith("this is")) == [
        f"this is {v}" for v in VERSIONS
    ]
    assert sum(e["type"] == "finished" for e in events) == len(VERSIONS)
    single = corobot(workdir, "run", "versions/compare", "--python", VERSIONS[-1])  # one chosen: no comparison
    assert single.returncode == 0 and "side by side" not in single.stdout and f"this is {VERSIONS[-1]}" in single.stdout


@needs_two
def test_lessons_check_runs_each_declared_version_and_names_the_missing_ones(workdir: Path) -> None:  # noqa: F811
    write_versions(workdir)
    done = corobot(workdir, "lessons", "check", "--require-pythons", ",".join(VERSIONS))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"runner: Python {RELEASES[OWN]} (default)")
    for version in VERSIONS:
        assert any(line.startswith(f"PASS  versions/compare @{version}  ") for line in lines), done.stdout
    assert any(line.startswith(f"PASS  versions/newer @{VERSIONS[-1]}  ") for line in lines)
    assert "SKIP  versions/newer @3.99  Python 3.99 is not installed here" in lines
    assert "PASS  world/only  " in "\n".join(lines)  # no versions declared: the default alone, named as before
    totals = lines[-1]
    assert totals.startswith(f"python {OWN}: ") and "python 3.99: 0 passed, 0 failed, 1 skipped" in totals
    required = corobot(workdir, "lessons", "check", "--require-pythons", f"{OWN},3.99")
    assert required.returncode == 1
    assert "FAIL  python 3.99 is required (--require-pythons) but unavailable: " in required.stdout
