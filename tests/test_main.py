"""The CLI as a real process: `python -m bot ...` in a temp folder with small lessons."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.__main__ import build_parser, choose_command

REPO = Path(__file__).resolve().parents[1]

HELLO = """\
id: hello
title: {en: Hello tasks, zh-CN: 你好，任务}
summary: {en: Two tasks sleep together., zh-CN: 两个任务一起睡。}
examples:
  - id: two-tasks
    code: |
      import asyncio

      async def say(n):
          await asyncio.sleep(0.3)
          print("hello", n)

      async def main():
          a = asyncio.create_task(say(1), name="say-1")
          b = asyncio.create_task(say(2), name="say-2")
          await a
          await b

      asyncio.run(main())
    expect:
      output: [hello 1, hello 2]
      elapsed: {seconds: 0.3, tolerance: 0.5}
  - id: boom
    code: |
      import asyncio

      async def main():
          await asyncio.sleep(0.05)
          raise ValueError("boom")

      asyncio.run(main())
    expect: {status: error}
"""

WORLD = """\
id: world
title: World
prerequisites: [hello]
examples:
  - id: only
    code: print("world")
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "a-world.yaml").write_text(WORLD, encoding="utf-8")  # file order is the reverse of prerequisites
    (lessons / "b-hello.yaml").write_text(HELLO, encoding="utf-8")
    (lessons / "0-after-world.yaml").write_text(
        WORLD.replace("id: world", "id: aaa-after-world").replace("prerequisites: [hello]", "prerequisites: [world]"),
        encoding="utf-8",
    )
    return tmp_path


def corobot(
    cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_") and k != "DISCORD_TOKEN"}
    environ["PYTHONPATH"] = str(REPO) + os.pathsep + environ.get("PYTHONPATH", "")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        env=environ,
        check=False,
    )


def test_choose_command() -> None:
    assert choose_command(None, {}) == "console"
    assert choose_command(None, {"DISCORD_TOKEN": "abc"}) == "discord"
    assert choose_command(None, {"DISCORD_TOKEN": "  "}) == "console"
    assert choose_command("run", {"DISCORD_TOKEN": "abc"}) == "run"


def test_global_options_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--locale", "zh-CN", "--lessons", "x", "run", "a/b"])
    after = parser.parse_args(["run", "a/b", "--locale", "zh-CN", "--lessons", "x"])
    for args in (before, after):
        assert (args.command, args.ref, args.locale, args.lessons) == ("run", "a/b", "zh-CN", Path("x"))


def test_lessons_list_json(workdir: Path) -> None:
    done = corobot(workdir, "lessons", "list", "--json", "--locale", "zh-CN")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [row["id"] for row in rows] == ["hello", "world", "aaa-after-world"]
    assert rows[0]["title"] == "你好，任务" and rows[1]["title"] == "World"
    assert rows[0]["examples"] == ["two-tasks", "boom"]
    assert rows[1]["prerequisites"] == ["hello"]


def test_lessons_list_plain(workdir: Path) -> None:
    done = corobot(workdir, "lessons", "list")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == "hello" and "two-tasks, boom" in lines[0]
    assert len(lines) == 3


def test_config_error_exits_2_with_one_line(workdir: Path) -> None:
    (workdir / "config.yaml").write_text("runner:\n  timeout_max: -1\n", encoding="utf-8")
    done = corobot(workdir, "lessons", "list")  # ./config.yaml is read by default
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "config.yaml:2" in done.stderr and "timeout_max" in done.stderr
    missing = corobot(workdir, "--config", "nope.yaml", "lessons", "list")
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr


def test_missing_lessons_folder(workdir: Path) -> None:
    done = corobot(workdir, "--lessons", "nowhere", "lessons", "list")
    assert done.returncode == 2 and "nowhere" in done.stderr and "Traceback" not in done.stderr


def test_unknown_lesson_suggests_close_matches(workdir: Path) -> None:
    done = corobot(workdir, "run", "helo")
    assert done.returncode != 0
    assert "unknown lesson 'helo'; did you mean: hello?" in done.stderr
    assert "Traceback" not in done.stderr
    example = corobot(workdir, "run", "hello/bom")
    assert example.returncode != 0 and "its examples: boom" in example.stderr


def test_discord_without_a_token_is_one_clear_line(workdir: Path) -> None:
    done = corobot(workdir, "discord")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("corobot: DISCORD_TOKEN is not set")
    assert "Traceback" not in done.stderr


def test_discord_with_a_rejected_token(workdir: Path) -> None:
    import asyncio

    from tests.fakediscord import FakeDiscord

    async def attempt() -> subprocess.CompletedProcess[str]:
        async with FakeDiscord() as fd:
            env = {
                "DISCORD_TOKEN": "not-the-token",
                "COROBOT_DISCORD__API_BASE_URL": fd.api_base,
                "COROBOT_DISCORD__GATEWAY_URL": fd.gateway_url,
            }
            return await asyncio.to_thread(corobot, workdir, "discord", env=env)

    done = asyncio.run(attempt())
    assert done.returncode == 2
    assert "rejected the token" in done.stderr and "not-the-token" not in done.stderr


def test_lessons_schema(workdir: Path) -> None:
    done = corobot(workdir, "lessons", "schema", "--output", "out/schema.json")
    assert done.returncode == 0, done.stderr
    schema = json.loads((workdir / "out" / "schema.json").read_text(encoding="utf-8"))
    assert "properties" in schema or "$defs" in schema


def test_run_prints_timed_lines_and_summary(workdir: Path) -> None:
    done = corobot(workdir, "run", "hello/two-tasks")
    assert done.returncode == 0, done.stdout + done.stderr
    stamps = re.findall(r"^\+(\d+\.\d{3})s  hello (\d)$", done.stdout, re.MULTILINE)
    assert [n for _, n in stamps] == ["1", "2"], done.stdout
    assert all(0.2 < float(t) < 2.0 for t, _ in stamps)
    assert "status: ok" in done.stdout and "expected ≈ 0.3 s ± 0.5: ok" in done.stdout
    assert re.search(r"^say-1 ", done.stdout, re.MULTILINE), "the timeline shows the tasks"
    assert re.search(r"^say-1 +█░+█", done.stdout, re.MULTILINE), "it ran, waited in its sleep, ran again"


def test_run_writes_the_timeline_image(workdir: Path) -> None:
    target = workdir / "out" / "tl.png"
    done = corobot(workdir, "run", "hello/two-tasks", "--timeline-png", str(target))
    assert done.returncode != 0 and "cannot write the timeline image" in done.stderr  # no such folder
    target.parent.mkdir()
    done = corobot(workdir, "run", "hello/two-tasks", "--timeline-png", str(target), "--json")
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert all(json.loads(line) for line in done.stdout.splitlines())  # the JSON stream is untouched


def test_run_json_lines(workdir: Path) -> None:
    done = corobot(workdir, "run", "hello", "--json")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert all({"type", "t"} <= set(event) for event in events)
    kinds = [event["type"] for event in events]
    assert kinds[-1] == "finished" and kinds.count("finished") == 1 and "started" in kinds
    assert events[-1]["status"] == "ok"
    assert [e["text"] for e in events if e["type"] == "output"] == ["hello 1", "hello 2"]
    assert {e["name"] for e in events if e["type"] == "task"} >= {"say-1", "say-2"}
    tasks = {e["task_id"]: e["name"] for e in events if e["type"] == "task"}
    segments = [s for e in events if e["type"] == "task_runs" for s in e["segments"]]
    assert {tasks[s["task_id"]] for s in segments} >= {"say-1", "say-2"}
    assert all({"task_id", "start", "end", "busy", "wait_line"} == set(s) for s in segments)
    assert all(0 <= s["start"] <= s["end"] <= events[-1]["elapsed"] for s in segments)


def test_failing_program_exits_non_zero(workdir: Path) -> None:
    done = corobot(workdir, "run", "hello/boom")
    assert done.returncode == 1
    assert "status: error" in done.stdout and "ValueError" in done.stdout and "boom" in done.stdout


def test_console_session_over_pipes(workdir: Path) -> None:
    done = corobot(workdir, "console", stdin="list\nrun world\nquit\n")
    assert done.returncode == 0, done.stderr
    assert " 1. hello" in done.stdout and "+0." in done.stdout and "world" in done.stdout
    assert done.stdout.rstrip().endswith("bye")
    # the screen is the UI: the service's INFO log goes to the log file in the data folder
    assert "INFO" not in done.stderr, done.stderr
    log_text = (workdir / "data" / "corobot.log").read_text(encoding="utf-8")
    assert "runner ready" in log_text


def test_lessons_check(workdir: Path) -> None:
    good = corobot(workdir, "lessons", "check")
    assert good.returncode == 0, good.stdout + good.stderr
    (workdir / "lessons" / "d-broken.yaml").write_text("id: broken\ntitle: x\nexampels: []\n", encoding="utf-8")
    bad = corobot(workdir, "lessons", "check", "lessons")
    assert bad.returncode != 0
    assert "d-broken.yaml:" in bad.stdout + bad.stderr


SLOW = """\
id: slow
title: Slow
examples:
  - id: nap
    code: |
      import asyncio

      async def main():
          print("start", flush=True)
          await asyncio.sleep(30)
          print("never")

      asyncio.run(main())
"""


def test_console_ctrl_c_stops_the_run_not_the_session(workdir: Path) -> None:
    (workdir / "lessons" / "slow.yaml").write_text(SLOW, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_") and k != "DISCORD_TOKEN"}
    environ["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        cwd=workdir,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    def wait_for(text: str, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=0.2))
            except queue.Empty:
                continue
            if text in seen[-1]:
                return
        raise AssertionError(f"{text!r} never appeared in:\n{''.join(seen)}")

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert proc.stdin is not None
        proc.stdin.write("run slow\n")
        proc.stdin.flush()
        wait_for("start")
        proc.send_signal(signal.SIGINT)
        wait_for("status: cancelled")
        proc.stdin.write("list\nquit\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
        time.sleep(0.2)  # let the pump thread drain the last lines
        while not lines.empty():
            seen.append(lines.get())
        text = "".join(seen)
        assert "never" not in text and " 1. hello" in text and text.rstrip().endswith("bye")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def test_corobot_with_a_token_serves_discord_until_sigterm(workdir: Path) -> None:
    """The real entry point as a process: `corobot` with DISCORD_TOKEN set logs in (to the emulator), serves
    /run with timed output, and stops cleanly on SIGTERM. The token never reaches its output."""
    import asyncio

    from tests.fakediscord import FakeDiscord

    async with FakeDiscord() as fd:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
        environ.update(
            PYTHONPATH=str(REPO),
            DISCORD_TOKEN=fd.token,
            COROBOT_DISCORD__API_BASE_URL=fd.api_base,
            COROBOT_DISCORD__GATEWAY_URL=fd.gateway_url,
            COROBOT_DATA_DIR=str(workdir / "data"),
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=workdir,
            env=environ,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fd.wait_ready(timeout=30)
            await fd.wait_until(lambda: fd.commands(), timeout=30)
            alice = fd.add_user("alice")
            ix = await fd.slash(alice, "run", {"lesson": "hello"})
            await fd.wait_until(lambda: ix.original and "finished in" in ix.original.content, timeout=30)
            content = ix.original.content
            assert re.search(r"\+0\.3\d\ds\s+hello 1", content), content
            assert "hello 2" in content
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), timeout=20)
        assert proc.returncode == 0, err.decode()
        assert fd.token not in (out + err).decode()


def test_runner_node_needs_redis(workdir: Path) -> None:
    done = corobot(workdir, "runner-node")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("corobot: a runner node takes its runs from Redis")


def test_the_embedded_default_needs_no_redis(workdir: Path) -> None:
    """The README's first command: no cluster settings, so neither redis nor prometheus_client is even imported,
    and a run works with nothing else installed or running."""
    probe = (
        "import sys, runpy; sys.argv = ['corobot', 'run', 'hello/two-tasks']\n"
        "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit as exit:\n    code = exit.code\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'redis', 'prometheus_client', 'hiredis'})\n"
        "print('LOADED', loaded, code, file=sys.stderr)\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
    environ["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=workdir, capture_output=True, text=True, timeout=90, env=environ, check=False
    )
    assert "LOADED [] 0" in done.stderr, done.stderr
    assert "hello 1" in done.stdout
