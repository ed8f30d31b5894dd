"""Hostile programs against the parent's trust in the child (issue 9, attacks 1, 2 and 7).

Each writes forged messages on the harness's event pipe (fd 3), which the program holds, and the test checks
what a user sees: the named status, times clamped and marked untrusted, exactly one `Finished`, the slot
back, the bot's loop never stalled, nothing left on the host, and the next ordinary run working.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.core.events import Finished, LoopBlocked, Output, RunsCapped, Status, TaskEvent
from bot.core.record import RunRecord
from bot.core.runner import Runner
from bot.core.runner.process import MAX_SEGMENTS
from bot.core.timeline import render_timeline
from bot.core.timeline_image import render_png

from .conftest import LAG_LIMIT, LagProbe, MakeRunner, collect, lines
from .hostile import (
    assert_host_clean,
    assert_next_run_works,
    fd3,
    finished_count,
    host_shm_ids,
    hostile_runner,
    needs_bwrap,
    needs_root,
)

pytestmark = [pytest.mark.timeout(60), needs_root]
MODES = ["cgroup", "rlimit"]

# Attack 1: times at 1e300 (the harness's channel and a replaced perf_counter) once froze the bot.
HUGE_TIMES = (
    fd3({"k": "task", "n": "forever", "e": "created", "t": 0.0, "i": 77})
    + fd3({"k": "task", "n": "forever", "e": "done", "t": 1e300, "i": 77})
    + fd3({"k": "blocked", "d": 1e300, "t": 1e300, "l": 3})
    + fd3({"k": "out", "s": "stdout", "x": "from the future", "t": 1e300})
    + "import time\ntime.perf_counter = lambda: 1e300\n"
    + "import asyncio\nasync def main():\n    await asyncio.sleep(0.05)\n    print('late')\nasyncio.run(main())\n"
)


@pytest.mark.parametrize("mode", MODES)
async def test_times_from_the_program_are_clamped_and_marked(make_runner: MakeRunner, lag: LagProbe, mode: str) -> None:
    runner = await hostile_runner(make_runner, mode)
    shm = host_shm_ids()
    events, done = await collect(runner.run(HUGE_TIMES))
    assert done.status == Status.OK, done
    assert done.timings_trusted is False
    assert 0 < done.elapsed < 5
    timed = [e for e in events if isinstance(e, Output | TaskEvent | LoopBlocked)]
    assert "from the future" in [e.text for e in timed if isinstance(e, Output)]
    assert all(0 <= e.t <= done.elapsed for e in timed)
    assert all(e.t + e.duration <= done.elapsed + 1e-6 for e in timed if isinstance(e, LoopBlocked))
    start = time.perf_counter()
    drawing = render_timeline(RunRecord.from_events(events), width=56)
    assert time.perf_counter() - start < 0.05  # O(what it draws)
    assert drawing and all(len(line) <= 56 for line in drawing.splitlines())
    assert lag.worst < LAG_LIMIT
    assert_host_clean(runner, shm)
    await assert_next_run_works(runner)


# Attack 2: a forged end of run with an impossible wait status made the parent raise in the code that frees
# the slot: after 16 of them nobody could run anything.
FORGED_END = (
    fd3({"k": "exit", "status": 10**30, "cpu": "lots", "end": 1e300, "killed": "yes"})
    + fd3({"k": "exit", "status": -1, "cpu": float("nan"), "end": -5})
    + "import time\ntime.sleep(0.2)\nprint('still running', flush=True)\n"
)


@pytest.mark.parametrize("mode", MODES)
async def test_forged_ends_cannot_hold_slots(make_runner: MakeRunner, lag: LagProbe, mode: str) -> None:
    runner = await hostile_runner(make_runner, mode, max_concurrent=16, queue_size=20, per_user=100)
    shm = host_shm_ids()
    runs = [runner.run(FORGED_END, owner=1) for _ in range(20)]  # more runs than slots: 4 wait in the queue
    results = await asyncio.gather(*(collect(run) for run in runs))
    for events, done in results:
        assert finished_count(events) == 1
        assert done.status == Status.OK, done  # the forged end neither ended nor failed the run
        assert [o.text for o in lines(events)] == ["still running"]
    assert lag.worst < LAG_LIMIT
    assert_host_clean(runner, shm)
    await assert_next_run_works(runner)


async def test_a_run_stopped_after_forging_its_end_frees_its_slot(make_runner: MakeRunner) -> None:
    runner = await hostile_runner(make_runner, "cgroup", max_concurrent=2)
    shm = host_shm_ids()
    code = FORGED_END.replace("time.sleep(0.2)", "time.sleep(30)")
    for _ in range(3):  # more than the slots: each /stop must give its slot back
        run = runner.run(code, owner=7)
        await asyncio.sleep(0.3)
        assert runner.cancel_owner(7) == 1
        events, done = await collect(run)
        assert done.status == Status.CANCELLED and finished_count(events) == 1
    assert_host_clean(runner, shm)
    await assert_next_run_works(runner)


# Attack 7: forged results.
FORGED_MEMORY = (
    fd3({"k": "error", "type": "MemoryError", "e": "MemoryError: forged", "tb": "Traceback: forged\n", "t": 0.0})
    + fd3({"k": "limit", "w": "output"})
    + fd3({"k": "blocked", "d": 0.06, "t": 0.0, "l": "import os; os.system('x')"})
    + fd3({"k": "start", "t0": 10**12})
    + fd3({"k": "fail", "m": "ERROR could not start anything"})
    + "print('done')\n"
)


@pytest.mark.parametrize("mode", MODES)
async def test_forged_results_do_not_become_trusted_status(
    make_runner: MakeRunner, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    runner = await hostile_runner(make_runner, mode)
    events, done = await collect(runner.run(FORGED_MEMORY))
    assert done.status == Status.OK, done  # exit 0: no error, no memory or output limit, whatever it claimed
    assert done.traceback is None and done.error is None
    assert done.timings_trusted is False  # a second start message, at an impossible time
    blocked = [e for e in events if isinstance(e, LoopBlocked)]
    assert [b.line for b in blocked] == [None]  # a non-numeric line is dropped, not shown
    _, failed = await collect(runner.run(FORGED_MEMORY.replace("print('done')", "raise SystemExit(3)")))
    assert failed.status == Status.ERROR and failed.exit_code == 3  # its own error text, not memory_limit
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing it says is an ERROR of ours
    await assert_next_run_works(runner)


async def test_malformed_messages_cost_bounded_work_and_log_lines(
    make_runner: MakeRunner, lag: LagProbe, caplog: pytest.LogCaptureFixture
) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    code = """\
import os, json
junk = b'{"k": "task", "n": 5, "e": [], "t": "x", "i": true}\\nnot json at all\\n' * 2000
os.write(3, junk)
print('survived', flush=True)
"""
    caplog.set_level(logging.WARNING, logger="bot.core.runner")
    events, done = await collect(runner.run(code))
    assert done.status == Status.OK and "survived" in [o.text for o in lines(events)]
    assert not [e for e in events if isinstance(e, TaskEvent)]
    ours = [r for r in caplog.records if r.name.startswith("bot.core.runner") and "run " in r.getMessage()]
    assert 0 < len(ours) <= 8  # a few, then one "not logging them"
    assert lag.worst < LAG_LIMIT


@needs_bwrap
async def test_an_endless_line_on_the_event_pipe_is_read_in_linear_time(
    make_runner: MakeRunner, lag: LagProbe
) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    code = "import os\nprint('first', flush=True)\nchunk = b'x' * 65536\nwhile True:\n    os.write(3, chunk)\n"
    start = time.perf_counter()
    events, done = await collect(runner.run(code))
    assert done.status == Status.OUTPUT_LIMIT, done  # cut off once one "message" is bigger than any can be
    assert [o.text for o in lines(events)] == ["first"]
    assert time.perf_counter() - start < 4
    assert lag.worst < LAG_LIMIT
    await assert_next_run_works(runner)


async def test_every_finished_field_is_typed(runner: Runner) -> None:
    _, done = await collect(runner.run(fd3({"k": "exit", "status": "0"}) + "raise ValueError('real')\n"))
    assert isinstance(done, Finished) and done.status == Status.ERROR
    assert done.error == "ValueError: real" and isinstance(done.elapsed, float) and done.exit_code == 1


# Run segments are the program's account too: forged batches past the cap, impossible times, malformed fields.
FORGED_RUNS = """\
import array, base64, json, os, time

def send(message):
    os.write(3, (json.dumps(message) + "\\n").encode())

def segments(values):
    send({"k": "seg", "b": base64.b64encode(array.array("d", values).tobytes()).decode()})

t = time.perf_counter()
segments([7.0, t, 1e300, 1e300, 3.0])                        # from now until forever
segments([float("nan"), t, t, 0.0, 1.0, -1.0, t, t, 0.0, 1.0, 7.5, t, t, 0.0, 1.0])  # not task ids
segments([7.0, t, t - 5, 0.0, 1.0, 7.0, t, t, 0.0, float("inf")])  # ends before it starts; an infinite line
send({"k": "seg", "b": "!!! not base64"})
send({"k": "seg", "b": base64.b64encode(b"1234567").decode()})  # not whole float64s
send({"k": "seg", "b": "A" * 200000})                         # more than a batch can be
send({"k": "seg", "b": 5})
send({"k": "park", "p": [1, 2]})
send({"k": "park", "p": [1, 2, 3.5, 1, 2, 10**30]})
send({"k": "park", "p": [7, 3, 10**15]})                      # since the far future
for _ in range(60):                                           # 24,000 segments: past the cap
    segments([7.0, t, t + 0.001, 0.0005, 3.0] * 400)
send({"k": "capped", "t": 1e300, "n": "all"})
print("done", flush=True)
"""


@pytest.mark.parametrize("mode", MODES)
async def test_forged_run_segments_are_capped_clamped_and_typed(
    make_runner: MakeRunner, lag: LagProbe, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    runner = await hostile_runner(make_runner, mode)
    caplog.set_level(logging.WARNING, logger="bot.core.runner")
    events, done = await collect(runner.run(FORGED_RUNS))
    assert lag.worst < LAG_LIMIT  # (before the drawing below, which runs in this loop on purpose)
    assert done.status == Status.OK and [o.text for o in lines(events)] == ["done"]
    assert done.timings_trusted is False
    record = RunRecord.from_events(events)
    assert len(record.segments) == MAX_SEGMENTS
    assert len([e for e in events if isinstance(e, RunsCapped)]) == 1
    for segment in record.segments:
        assert segment.task_id == 7 and segment.wait_line in (3, None)
        assert 0 <= segment.start <= segment.end <= done.elapsed and 0 <= segment.busy <= segment.end - segment.start
    assert all(0 <= p.t <= done.elapsed for p in record.parked) and [p.line for p in record.parked] == [3]
    ours = [r for r in caplog.records if r.name.startswith("bot.core.runner") and "run " in r.getMessage()]
    assert 0 < len(ours) <= 8  # a few, then one "not logging them"
    start = time.perf_counter()
    drawing = render_timeline(record, width=56)
    png = render_png(record)
    assert time.perf_counter() - start < 2.0  # O(what it draws), 20,000 forged segments or not
    assert png is None and drawing == ""  # forged segments of a task it never created draw nothing
    await assert_next_run_works(runner)
