"""The console with several Pythons (a real runner with every interpreter here): `run … --python`, and a
version comparison shown side by side with the differences marked, in English and Chinese.

Skips, saying so, with a single interpreter (the CI machine has 3.11, 3.12 and 3.13)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.console import ConsoleApp
from bot.core.catalog import Catalog
from bot.core.runner import Runner, RunnerLimits

pytestmark = pytest.mark.timeout(90)

LESSON = """\
id: versions
title: {en: Versions, zh-CN: 版本}
examples:
  - id: which
    code: |
      import sys
      print("Python %d.%d" % sys.version_info[:2])
  - id: compare
    versions: VERSIONS
    compare: true
    code: |
      import asyncio, sys

      async def main():
          print("same on every version")
          print(f"only on {sys.version_info[0]}.{sys.version_info[1]}")
          await asyncio.create_task(asyncio.sleep(0.05), name=f"job-{sys.version_info[1]}")

      asyncio.run(main())
    expect:
      output: ["same on every version", "only on FIRST"]
"""


@pytest.fixture
async def runner() -> AsyncIterator[Runner]:
    async with Runner(RunnerLimits(max_concurrent=4, pythons="auto")) as live:
        if len(live.pythons.versions) < 2:
            pytest.skip(f"only one Python here ({live.pythons.describe()}); CI has 3.11, 3.12 and 3.13")
        yield live


def catalog_for(tmp_path: Path, versions: list[str]) -> Catalog:
    text = LESSON.replace("VERSIONS", json.dumps(versions)).replace("FIRST", versions[0])
    (tmp_path / "versions.yaml").write_text(text, encoding="utf-8")
    catalog = Catalog(tmp_path)
    assert catalog.load().ok
    return catalog


async def session(catalog: Catalog, runner: Runner, script: str, locale: str | None = None) -> str:
    out = io.StringIO()
    console = Console(file=out, width=140, color_system=None, force_terminal=False)
    app = ConsoleApp(catalog, runner, console=console, stdin=io.StringIO(script), locale=locale)
    assert await app.run() == 0
    return out.getvalue()


async def test_run_on_a_chosen_python_in_each_way_of_writing_it(tmp_path: Path, runner: Runner) -> None:
    versions = runner.pythons.versions
    other = versions[-1]
    script = f"run versions/which --python {other}\nrun versions/which python:{other}\nrun versions/which {other}\n"
    seen = await session(catalog_for(tmp_path, versions), runner, script + "run versions/which --python 2.7\n")
    assert "Python " + runner.pythons.release(other) in seen.splitlines()[0] + seen  # the start-up line names them
    assert len(re.findall(rf"^\+\d\.\d{{3}}s  Python {re.escape(other)}$", seen, re.M)) == 3, seen
    assert f"▶ versions/which  Python {runner.pythons.release(other)}" in seen
    assert "Python '2.7' is not available here; available: " in seen


async def test_a_comparison_side_by_side_with_differences_marked(tmp_path: Path, runner: Runner) -> None:
    versions = runner.pythons.versions
    seen = await session(catalog_for(tmp_path, versions), runner, "run versions/compare\n")
    releases = " · ".join(runner.pythons.release(v) for v in versions)
    assert f"Python {releases} side by side; ≠ marks what differs" in seen
    for version in versions:  # live, each line tagged with its version
        assert re.search(rf"^{re.escape(version)} \+0\.\d{{3}}s  only on {re.escape(version)}$", seen, re.M), seen
    first = runner.pythons.release(versions[0])
    table = next(line for line in seen.splitlines() if line.startswith("≠ ") and first in line)
    assert all(runner.pythons.release(v) in table for v in versions)  # a column per version
    rows = [line for line in seen.splitlines() if "same on every version" in line and not line[0].isdigit()]
    assert len(rows) == 1 and rows[0].count("same on every version") == len(versions) and not rows[0].startswith("≠")
    assert sum(1 for line in seen.splitlines() if line.startswith("≠") and "s  only on 3." in line) == len(versions)
    assert seen.count("output: 2 lines as expected") == 1  # the expect is the first version's
    assert "output differs" in seen
    for version in versions:
        assert f"≠ job-{version.split('.')[1]}: only on Python {version}" in seen


async def test_a_comparison_in_chinese(tmp_path: Path, runner: Runner) -> None:
    versions = runner.pythons.versions
    seen = await session(catalog_for(tmp_path, versions), runner, "run versions/compare\n", locale="zh-CN")
    assert "并排对比 Python" in seen and "≠ 标出不同之处" in seen
    assert f"≠ job-{versions[0].split('.')[1]}：只在 Python {versions[0]} 上出现" in seen
