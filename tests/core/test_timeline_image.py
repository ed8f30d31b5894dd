"""The timeline image: a valid PNG of the expected size whose pixels show the lanes (a few colours sampled,
not a golden file), from real runs and from hand-made events, bounded whatever the events say."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from bot.config import RunnerSettings
from bot.core import timeline_image as ti
from bot.core.events import Event, Finished, LoopBlocked, Output, RunSegment, Started, Status, TaskEvent, TaskRuns
from bot.core.fonts import font_path
from bot.core.record import RunRecord
from bot.core.runner import Runner
from bot.core.timeline import Legend, task_spans, timeline_data
from bot.locales.wording import legend

HATCHED = {ti.WAITING, ti.HATCH}
RED_HATCHED = {ti.BLOCKED_WAIT, ti.BLOCKED_HATCH}

SEMAPHORE = """\
import asyncio


async def download(n, sem):
    async with sem:
        print(f"job {n} got a permit")
        await asyncio.sleep(0.3)


async def main():
    sem = asyncio.Semaphore(2)
    async with asyncio.TaskGroup() as tg:
        for n in range(1, 6):
            tg.create_task(download(n, sem), name=f"job-{n}")


asyncio.run(main())
"""

BLOCKING = """\
import asyncio, time

async def ticker():
    for _ in range(8):
        await asyncio.sleep(0.05)

async def job():
    await asyncio.sleep(0.1)
    time.sleep(0.3)

async def main():
    await asyncio.gather(asyncio.create_task(ticker(), name="ticker"), asyncio.create_task(job(), name="job"))

asyncio.run(main())
"""


async def real_run(code: str) -> RunRecord:
    async with Runner(RunnerSettings().limits()) as runner:
        record = RunRecord()
        async for event in runner.run(code, name="prog.py"):
            record.add(event)
    assert record.status == Status.OK, record.finished
    return record


def open_png(data: bytes | None) -> Image.Image:
    assert data is not None and data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()
    return Image.open(io.BytesIO(data)).convert("RGB")


class Probe:
    """Pixels of a rendered run by task and time."""

    def __init__(self, record: RunRecord, image: Image.Image, title: bool = True) -> None:
        self.data = timeline_data(record)
        self.box = ti.layout(self.data, title=title)
        self.image = image
        self.lanes = {span.name: index for index, span in enumerate(self.data.spans)}

    def lane_pixels(self, name: str, start: float, end: float, *, row: int = -3) -> set[tuple[int, int, int]]:
        """Colours along a lane between two times, `row` pixels from its top (negative: from its bottom,
        where no label text reaches)."""
        top = self.box.lane_top[self.lanes[name]]
        y = top + (row if row >= 0 else self.box.lane_height + row)
        x0, x1 = round(self.box.x(start)), round(self.box.x(end))
        return {rgb(self.image, x, y) for x in range(x0, max(x1, x0 + 1))}


def rgb(image: Image.Image, x: int, y: int) -> tuple[int, ...]:
    pixel = image.getpixel((x, y))
    assert isinstance(pixel, tuple)
    return pixel


@pytest.fixture(scope="module")
def semaphore_run() -> RunRecord:
    import asyncio

    return asyncio.run(real_run(SEMAPHORE))


def test_a_real_run_is_a_png_of_the_expected_size_with_its_lanes(semaphore_run: RunRecord) -> None:
    png = ti.render_png(semaphore_run, source=SEMAPHORE, title="semaphore")
    image = open_png(png)
    probe = Probe(semaphore_run, image)
    assert image.size == (ti.WIDTH, probe.box.height) and len(probe.box.lane_top) == 6  # main + 5 jobs
    spans = task_spans(semaphore_run.events)
    runs = {s.name: [r for r in semaphore_run.segments if r.task_id == s.task_id] for s in spans}
    # each job's first step is solid, however short
    for name in ("job-1", "job-5"):
        first = runs[name][0]
        assert ti.RUNNING in probe.lane_pixels(name, first.start, first.end + 0.001), name
    # job-5 queued at the semaphore for two waves: hatched, never solid, while it waited
    queued = probe.lane_pixels("job-5", runs["job-5"][0].end + 0.05, runs["job-5"][1].start - 0.05)
    assert queued <= HATCHED and len(queued) == 2, queued
    # job-1 ended after the first wave: nothing drawn in its lane later (background, the lane's thin line)
    after = probe.lane_pixels("job-1", runs["job-1"][-1].end + 0.05, probe.box.end - 0.01, row=3)
    assert after == {ti.BACKGROUND}, after
    # one tick per output line on the axis
    x = round(probe.box.x(semaphore_run.lines[0].t))
    assert rgb(image, x, probe.box.axis_y - 4) == ti.OUTPUT


def test_blocked_periods_cross_every_lane() -> None:
    import asyncio

    run = asyncio.run(real_run(BLOCKING))
    image = open_png(ti.render_png(run, source=BLOCKING))
    probe = Probe(run, image, title=False)
    block = run.blocked[0]
    middle = (block.t + 0.05, block.t + block.duration - 0.05)
    assert probe.lane_pixels("job", *middle, row=2) == {ti.RUNNING}  # the blocking task: solid
    assert probe.lane_pixels("ticker", *middle) <= RED_HATCHED  # the others: waiting, in red
    assert probe.lane_pixels("main", *middle) <= RED_HATCHED
    x = round(probe.box.x(block.t + block.duration / 2))
    assert rgb(image, x, probe.box.axis_y - 3) == ti.BLOCKED_BAND  # between the lanes and the axis too
    outside = probe.lane_pixels("ticker", 0.02, block.t - 0.01)
    assert outside & HATCHED and not outside & RED_HATCHED


def _many(count: int, t: float = 1.0) -> list[Event]:
    events: list[Event] = [Started()]
    segments = []
    for i in range(count):
        events.append(TaskEvent(f"task-{i}", "created", 0.0, i + 1))
        segments.append(RunSegment(i + 1, 0.0, t * 0.01, t * 0.01, None))
        segments.append(RunSegment(i + 1, t * 0.5, t * 0.6, t * 0.1, 3))
    events.append(TaskRuns.of(segments, t))
    events += [TaskEvent(f"task-{i}", "done", t, i + 1) for i in range(count)]
    return [*events, Finished(Status.OK, t)]


def test_two_hundred_tasks_are_summarised_in_a_bounded_image() -> None:
    few, many = open_png(ti.render_png(_many(10))), open_png(ti.render_png(_many(200)))
    assert many.size[0] == few.size[0] == ti.WIDTH
    assert many.size[1] <= 700  # lanes capped at MAX_LANES, the rest summarised on one line
    assert len(ti.layout(timeline_data(_many(200))).lane_top) == ti.MAX_LANES


@pytest.mark.parametrize("t", [1e300, float("inf"), float("nan"), -1e300])
def test_drawing_costs_what_it_draws_whatever_the_times(t: float) -> None:
    events: list[Event] = [
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("main", "done", t, 1),
        TaskRuns.of((RunSegment(1, 0.0, t, t, 2), RunSegment(1, t, t, 0.0, 10**7)), t),
        LoopBlocked(duration=t, t=t, line=3),
        Output("stdout", "x", t),
        Finished(Status.OK, t),
    ]
    start = time.perf_counter()
    image = open_png(ti.render_png(events, source="x\n" * 3))
    assert time.perf_counter() - start < 0.5
    assert image.size[0] == ti.WIDTH


def test_a_run_without_segments_draws_each_task_as_one_bar() -> None:
    events: list[Event] = [TaskEvent("main", "created", 0.0, 1), TaskEvent("main", "done", 1.0, 1)]
    events.append(Finished(Status.OK, 1.0))
    image = open_png(ti.render_png(events))
    probe = Probe(RunRecord.from_events(events), image, title=False)
    assert probe.lane_pixels("main", 0.05, 0.95) == {ti.RUNNING}
    assert ti.render_png([Started(), Output("stdout", "hi", 0.1), Finished(Status.OK, 0.2)]) is None


@pytest.mark.skipif(font_path() is None, reason="no CJK font installed (apt-get install fonts-wqy-microhei)")
def test_chinese_labels_render_with_the_cjk_font() -> None:
    zh: Legend = legend("zh-CN")
    events = [*_many(3)[:-1], Output("stdout", "你好", 0.5), Finished(Status.OK, 1.0)]
    events[1] = TaskEvent("下载-1", "created", 0.0, 1)
    image = open_png(ti.render_png(events, title="信号量 · 1.000 s", legend=zh))
    assert image.size[0] == ti.WIDTH
    face = ti.font(22)
    assert face.getbbox("等待")[2] > face.getbbox("..")[2]  # the font has the glyphs (no .notdef boxes)
