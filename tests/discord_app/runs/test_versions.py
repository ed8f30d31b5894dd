"""/run on several Python versions through the emulator: `python:` picks one, a comparison shows them side by side.

The bot runs with every interpreter this machine has (`runner.pythons: auto`); the tests skip, saying so, where
fewer than two are installed (the CI machine has 3.11, 3.12 and 3.13).
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from tests.discord_app.env import Env, is_final

pytestmark = pytest.mark.timeout(90)

VERSIONS = """\
id: versions
title: {en: One program on several Pythons, zh-CN: 同一个程序，多个 Python 版本}
examples:
  - id: which
    code: |
      import sys
      print("Python %d.%d" % sys.version_info[:2])
  - id: compare
    versions: [VERSIONS]
    compare: true
    code: |
      import asyncio, sys

      async def job():
          await asyncio.sleep(0.1)

      async def main():
          print("same on every version")
          print(f"only on {sys.version_info[0]}.{sys.version_info[1]}")
          await asyncio.create_task(job(), name=f"job-{sys.version_info[1]}")
          print("the end")

      asyncio.run(main())
    expect:
      output: ["same on every version", "only on FIRST", "the end"]
      note: {en: "The second line names the version.", zh-CN: "第二行写出版本号。"}
      by_version: BY_VERSION
  - id: chatty
    versions: [VERSIONS]
    compare: true
    code: |
      import sys
      for i in range(150):
          print(f"line {i:03d} of a long output on {sys.version_info[0]}.{sys.version_info[1]}")
"""


def lesson_text(versions: list[str], extra: str = "") -> str:
    """The test lesson for these versions: each one's own expected output (`by_version`), `extra` examples."""
    by_version = {v: {"output": ["same on every version", f"only on {v}", "the end"]} for v in versions[1:]}
    text = VERSIONS.replace("[VERSIONS]", json.dumps(versions)).replace("BY_VERSION", json.dumps(by_version))
    return text.replace("FIRST", versions[0]) + extra


async def versions_env(env: Env) -> list[str]:
    versions = env.runner.pythons.versions
    if len(versions) < 2:
        pytest.skip(f"only one Python here ({env.runner.pythons.describe()}); CI has 3.11, 3.12 and 3.13")
    text = lesson_text(versions)
    (Path(env.lessons) / "versions.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    report = env.catalog.refresh()
    assert not report.errors, report.errors
    return versions


async def test_python_option_picks_the_interpreter_and_run_again_keeps_it(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        alice = env.fd.add_user("alice")
        other = versions[-1]
        release = env.runner.pythons.release(other)
        ix = await env.fd.slash(alice, "run", {"lesson": "versions", "example": "which", "python": other})
        msg = await env.wait_final(ix)
        assert f"Python {release}" in msg.content.splitlines()[0]  # the header names the release
        assert f"  Python {other}\n" in msg.content
        again = f"cb:run:a:versions:which:{other}"
        assert again in msg.custom_ids()
        second = await env.wait_final(await env.fd.click(alice, msg, again))
        assert f"  Python {other}\n" in second.content
        default = await env.wait_final(await env.fd.slash(alice, "run", {"lesson": "versions", "example": "which"}))
        assert f"  Python {env.runner.pythons.default}\n" in default.content
        assert "cb:run:a:versions:which" in default.custom_ids()  # no version in the button: the default again


async def test_an_unknown_python_is_a_private_answer_naming_the_available_ones(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        alice, li = env.fd.add_user("alice"), env.fd.add_user("li", locale="zh-CN")
        ix = await env.fd.slash(alice, "run", {"lesson": "versions", "example": "which", "python": "2.7"})
        assert ix.original is not None and ix.original.ephemeral
        assert "Python `2.7` is not available here; available: " in ix.original.content
        assert all(version in ix.original.content for version in versions)
        ix = await env.fd.slash(li, "run", {"lesson": "versions", "python": "`@everyone"})
        assert ix.original is not None and ix.original.ephemeral and "这里没有 Python" in ix.original.content
        assert "`ˋ@everyone`" in ix.original.content  # what was typed stays inside its one code span
        assert [m for m in env.fd.messages() if not m.ephemeral] == []


async def test_python_autocomplete_lists_the_versions_with_the_default_marked(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        alice = env.fd.add_user("alice")
        choices = await env.fd.autocomplete(
            alice, "run", {"lesson": "versions", "example": "compare", "python": ""}, focused="python"
        )
        assert sorted(c["value"] for c in choices) == versions
        names = {c["value"]: c["name"] for c in choices}
        pythons = env.runner.pythons
        assert names[pythons.default] == f"Python {pythons.release(pythons.default)} (default)"
        other = next(v for v in versions if v != pythons.default)
        assert names[other] == f"Python {pythons.release(other)} · this example is about it"
        typed = await env.fd.autocomplete(alice, "run", {"lesson": "versions", "python": other}, focused="python")
        assert [c["value"] for c in typed] == [other]


async def test_a_comparison_runs_on_each_version_in_one_message_with_differences_marked(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "versions", "example": "compare"})
        msg = await env.wait_final(ix)
        content = msg.content
        assert len(content) <= 2000 and not msg.attachments
        releases = " · ".join(env.runner.pythons.release(v) for v in versions)
        assert f"Python {releases} side by side; ≠ marks what differs" in content
        assert [m.id for m in env.fd.messages() if not m.ephemeral] == [msg.id]  # one message for all of them
        block = content.split("```")[1]
        tag_width = len(",".join(versions[-1:]))
        assert re.search(r"^\s+│ same on every version$", block, re.M), block
        for version in versions:  # a row per version, marked and tagged with it
            assert re.search(rf"^≠ {re.escape(version)}\s* │ only on {re.escape(version)}$", block, re.M), block
            assert f"**{version}** ✅ finished in" in content
        assert tag_width and "the end" in block.splitlines()[-1]
        assert content.count("Output as expected ✅") == len(versions)  # each against its own expect (by_version)
        assert "> The second line names the version." in content
        for version in versions:  # each timeline's own lane, marked as only there
            minor = version.split(".")[1]
            assert f"≠ job-{minor}: only on Python {version}" in content
        assert "cb:run:a:versions:compare" in msg.custom_ids() and not any(
            c.startswith("cb:run:a:versions:compare:") for c in msg.custom_ids()
        )


async def test_a_long_comparison_fits_the_message_and_attaches_the_rest(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        alice = env.fd.add_user("alice")
        msg = await env.wait_final(await env.fd.slash(alice, "run", {"lesson": "versions", "example": "chatty"}))
        assert len(msg.content) <= 2000
        assert re.search(r"^-# … \d+ earlier lines hidden · full output attached$", msg.content, re.M), msg.content
        assert [a.filename for a in msg.attachments] == ["output.txt"]
        text = msg.attachments[0].data.decode()
        for version in versions:
            assert f"Python {env.runner.pythons.release(version)}" in text
            assert f"line 149 of a long output on {version}" in text
        assert text.count("≠ +") == 150 * len(versions)  # every line differs: each names its version


async def test_a_comparison_counts_as_one_run_and_stop_ends_all_of_it(make_env) -> None:
    async with make_env(runner={"pythons": "auto"}) as env:
        versions = await versions_env(env)
        slow = f"""\
  - id: slow
    versions: {json.dumps(versions)}
    compare: true
    timeout: 30
    code: |
      import time
      print("started", flush=True)
      time.sleep(25)
"""
        (Path(env.lessons) / "versions.yaml").write_text(lesson_text(versions, slow), encoding="utf-8")
        assert not env.catalog.refresh().errors
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "versions", "example": "slow"})
        await env.fd.wait_until(lambda: ix.original is not None and ix.original.content.count("running") >= 1)
        assert len(env.runner._runs) == len(versions)
        busy = await env.fd.slash(alice, "run", {"lesson": "versions", "example": "which"})
        assert busy.original is not None and busy.original.ephemeral and "/stop" in busy.original.content
        stop = await env.fd.slash(alice, "stop")
        assert stop.original is not None and f"Stopping {len(versions)} runs" in stop.original.content
        final = await env.wait_final(ix)
        assert final.content.count("⏹️ stopped in") == len(versions), final.content
        assert is_final(final) and len(env.runner._runs) == 0
