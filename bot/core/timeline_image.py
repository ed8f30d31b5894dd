"""The run's timeline as a PNG (Pillow): one lane per task, who ran when and where each one waited.

Within a task's life its lane is solid where it ran and hatched where it was suspended, each wait labelled
with the program line of the `await` it was parked on (`12  async with sem:` when the program's source is
given); periods when the event loop was blocked are red across all lanes (a waiting task's hatch turns red:
it could not have run); `x`, `!` and `>` mark a task cancelled, failed or still pending at exit; the time
axis is in seconds, with a tick for every output line.  The card has its own opaque background, so it reads
the same on Discord's dark and light themes, and its text stays legible at about half size (the width of
Discord's preview in the desktop client).

`render_png` costs O(events + segments + lanes × width + labels), whatever the times say: lanes are capped at
`MAX_LANES`, each lane is reduced to one state per pixel column (difference arrays, never a loop over a
segment's pixels), and at most one label fits per wait that is wide enough to hold it.  It takes ~10–40 ms
of CPU: callers on an event loop run it in a thread (`asyncio.to_thread`).  Renders are serialised (one
lock): with the GIL Pillow's font calls are atomic anyway, and on a free-threaded build a FreeType face must
not be used by two threads at once.
"""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bot.core.events import Event
from bot.core.fonts import Font, font
from bot.core.record import RunRecord
from bot.core.timeline import ENGLISH, Legend, TaskSpan, TimelineData, tick_label, tick_step, timeline_data

WIDTH = 900
PAD = 20
LABEL_WIDTH = 150  # task names
MAX_LANES = 14  # more tasks: the first MAX_LANES - 1 and a "… n more" line
MIN_LABEL = 30  # pixels a wait needs to carry its line label
MIN_RUN = 3  # pixels a run is drawn at least (a 0.2 ms step still shows)
BACKGROUND = (30, 31, 36)
BORDER = (84, 88, 99)
LANE = (41, 43, 50)  # a lane outside its task's life
TEXT = (236, 238, 242)
MUTED = (160, 166, 178)
RUNNING = (88, 166, 255)
WAITING = (66, 70, 80)  # the hatch's ground
HATCH = (98, 104, 118)
BLOCKED_BAND = (96, 34, 40)
BLOCKED_WAIT = (120, 44, 52)
BLOCKED_HATCH = (232, 88, 96)
UNMEASURED = (72, 74, 80)
OUTPUT = (250, 176, 40)
LABEL_BG = (24, 25, 29)
MARKS = {"cancelled": ("x", (255, 160, 60)), "failed": ("!", (240, 80, 80)), "pending": (">", MUTED)}
_OUT, _WAIT, _BLOCKED, _RUN, _UNMEASURED, _SPARSE = range(6)
DENSE = 0.5  # a segment that held the loop at least this share of its length is drawn solid
_render_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Layout:
    """Where things are drawn (tests sample pixels with it)."""

    width: int
    height: int
    plot_left: int
    plot_right: int
    lane_top: tuple[int, ...]  # per lane shown
    lane_height: int
    axis_y: int
    end: float  # seconds at plot_right

    def x(self, t: float) -> float:
        return self.plot_left + max(0.0, min(t, self.end)) / self.end * (self.plot_right - self.plot_left)


def layout(data: TimelineData, *, title: bool = True) -> Layout:
    shown = min(len(data.spans), MAX_LANES)
    rows = shown + (1 if len(data.spans) > MAX_LANES else 0)
    lane_height = max(24, min(44, 460 // max(rows, 1)))
    top = PAD + (44 if title else 4)
    lanes = tuple(top + i * (lane_height + 6) for i in range(shown))
    axis_y = top + rows * (lane_height + 6) + 8
    height = axis_y + 34 + 44 + PAD
    end = data.end if 0 < data.end < float("inf") else 1.0
    return Layout(WIDTH, height, PAD + LABEL_WIDTH + 12, WIDTH - PAD - 28, lanes, lane_height, axis_y, end)


class _Columns:
    """Per pixel column of the plot: how many intervals touch it (difference arrays, O(intervals + width))."""

    def __init__(self, box: Layout) -> None:
        self.box = box
        self.width = box.plot_right - box.plot_left

    def span(self, start: float, end: float) -> tuple[int, int]:
        a = self.box.x(start) - self.box.plot_left
        b = self.box.x(end) - self.box.plot_left
        first = min(self.width - 1, max(0, int(a)))
        return first, min(self.width, max(first + 1, int(b + 0.999)))

    def coverage(
        self, intervals: Iterable[tuple[float, float]], least: int = 1, within: tuple[int, int] | None = None
    ) -> list[int]:
        """How many intervals touch each column, each at least `least` wide, kept `within` (first, last)."""
        low, high = within or (0, self.width)
        diff = [0] * (self.width + 1)
        for start, end in intervals:
            first, last = self.span(start, end)
            first = min(max(first, low), high - 1)
            last = min(high, max(last, first + least))
            diff[first] += 1
            diff[last] -= 1
        total, out = 0, [0] * self.width
        for i in range(self.width):
            total += diff[i]
            out[i] = total
        return out


def _states(span: TaskSpan, data: TimelineData, cols: _Columns, blocked: list[int]) -> tuple[list[int], list[float]]:
    """Per pixel column of a lane: its state, and for `_SPARSE` columns the share of the time the task ran
    (a merged segment of many brief steps).  O(segments + width)."""
    first, last = cols.span(span.start, span.end if span.end is not None else data.end)
    states, shares = [_OUT] * cols.width, [0.0] * cols.width
    if not data.measured:
        states[first:last] = [_RUN] * (last - first)
        return states, shares
    dense: list[tuple[float, float]] = []
    for segment in data.segments.get(span.task_id, ()):
        a, b = cols.span(segment.start, segment.end)
        length = segment.end - segment.start
        if segment.busy >= DENSE * length or b - a <= MIN_RUN:
            dense.append((segment.start, segment.end))
        else:  # one task's segments never overlap: O(width) in all
            share = segment.busy / length
            for i in range(a, b):
                shares[i] = max(shares[i], share)
    ran = cols.coverage(dense, MIN_RUN, (first, last))
    cap = cols.span(data.capped, data.capped)[0] if data.capped is not None else cols.width
    for i in range(first, last):
        if ran[i]:
            states[i] = _RUN
        elif shares[i]:
            states[i] = _SPARSE
        elif blocked[i]:
            states[i] = _BLOCKED
        elif i >= cap:
            states[i] = _UNMEASURED
        else:
            states[i] = _WAIT
    return states, shares


def _runs(states: list[int]) -> Iterable[tuple[int, int, int]]:
    """(state, first, last) for each run of equal states."""
    start = 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[start]:
            yield states[start], start, i
            start = i


def _hatch(width: int, height: int, ground: tuple[int, int, int], line: tuple[int, int, int]) -> Image.Image:
    tile = Image.new("RGB", (width, height), ground)
    draw = ImageDraw.Draw(tile)
    for x in range(-height, width, 10):
        draw.line((x, height, x + height, 0), fill=line, width=2)
    return tile


def _fit(text: str, face: Font, room: float, advance: float | None = None) -> str:
    """`text` clipped with … to `room` pixels ("" when not even one character fits).  `advance`: the width of
    every character of a monospaced face, so ASCII text is measured by counting (getlength costs ~0.2 ms)."""
    if advance is not None and text.isascii():
        if len(text) * advance <= room:
            return text
        keep = int(room // advance) - 1
        return text[:keep] + "…" if keep > 0 else ""
    if face.getlength(text) <= room:
        return text
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if face.getlength(text[:mid] + "…") <= room:
            low = mid
        else:
            high = mid - 1
    return text[:low] + "…" if low else ""


def _waits(span: TaskSpan, data: TimelineData) -> Iterable[tuple[float, float, int | None]]:
    """(from, to, line) for each wait between a task's runs, and its last one when it ended waiting."""
    runs = data.segments.get(span.task_id, [])
    for before, after in itertools.pairwise(runs):
        yield before.end, after.start, after.wait_line
    if runs:
        end = span.end if span.end is not None else data.end
        parked = [line for since, line in data.parked.get(span.task_id, ()) if since >= runs[-1].end - 1e-6]
        if parked:
            yield runs[-1].end, end, parked[-1]


class _Painter:
    def __init__(self, data: TimelineData, box: Layout, source: str | None, legend: Legend) -> None:
        self.data, self.box, self.legend = data, box, legend
        self.lines = (source or "").splitlines()
        self.image = Image.new("RGB", (box.width, box.height), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)
        self.cols = _Columns(box)
        h = box.lane_height
        self.hatch = _hatch(self.cols.width, h, WAITING, HATCH)
        self.red_hatch = _hatch(self.cols.width, h, BLOCKED_WAIT, BLOCKED_HATCH)
        self.name_font, self.small, self.code = font(22), font(18), font(18, mono=True)
        # one advance for every ASCII character when the face is monospaced (wqy-microhei's is)
        widths = {float(self.code.getlength(c)) for c in "iM0 "}
        self.advance: float | None = widths.pop() if len(widths) == 1 else None

    def paint(self, title: str) -> None:
        box, draw = self.box, self.draw
        draw.rectangle((0, 0, box.width - 1, box.height - 1), outline=BORDER, width=2)
        if title:
            draw.text((PAD, PAD - 4), _fit(title, font(26), box.width - 2 * PAD), font=font(26), fill=TEXT)
        blocked = self.cols.coverage((b.t, b.t + b.duration) for b in self.data.blocks)
        band_top = box.lane_top[0] - 3 if box.lane_top else box.axis_y - 30
        for state, first, last in _runs([1 if b else 0 for b in blocked]):
            if state:
                x0 = box.plot_left + first
                draw.rectangle((x0, band_top, x0 + last - first - 1, box.axis_y), fill=BLOCKED_BAND)
        for index, top in enumerate(box.lane_top):
            self.lane(self.data.spans[index], top, blocked)
        self.block_labels(blocked)
        hidden = len(self.data.spans) - len(box.lane_top)
        if hidden > 0:
            y = box.lane_top[-1] + box.lane_height + 6 if box.lane_top else box.axis_y - 30
            draw.text((PAD, y), self.legend.more_tasks(hidden), font=self.small, fill=MUTED)
        self.axis()
        self.key()

    def lane(self, span: TaskSpan, top: int, blocked: list[int]) -> None:
        box, draw, h = self.box, self.draw, self.box.lane_height
        name = _fit(" ".join(span.name.split()) or "?", self.name_font, LABEL_WIDTH)
        draw.text((PAD, top + h // 2), name, font=self.name_font, fill=TEXT, anchor="lm")
        draw.line((box.plot_left, top + h // 2, box.plot_right - 1, top + h // 2), fill=LANE, width=2)
        states, shares = _states(span, self.data, self.cols, blocked)
        for state, first, last in _runs(states):
            x0, x1 = box.plot_left + first, box.plot_left + last - 1
            if state == _RUN:
                draw.rectangle((x0, top, x1, top + h - 1), fill=RUNNING)
            elif state in (_WAIT, _BLOCKED, _SPARSE):
                tile = self.red_hatch if state == _BLOCKED else self.hatch
                self.image.paste(tile.crop((first, 0, last, h)), (x0, top))
                if state == _SPARSE:  # many brief steps: a solid bar as high as the share of time it ran
                    height = max(4, round(h * max(shares[first:last])))
                    draw.rectangle((x0, top + h - height, x1, top + h - 1), fill=RUNNING)
            elif state == _UNMEASURED:
                draw.rectangle((x0, top + h // 3, x1, top + h - h // 3), fill=UNMEASURED)
        if self.data.measured:
            self.wait_labels(span, top)
        mark = MARKS.get(span.outcome)
        lived = [i for i, state in enumerate(states) if state != _OUT]
        if mark and lived:
            x = box.plot_left + lived[-1]
            draw.rectangle((x - 14, top, x, top + h - 1), fill=LABEL_BG)
            draw.text((x - 7, top + h // 2), mark[0], font=self.name_font, fill=mark[1], anchor="mm")

    def wait_labels(self, span: TaskSpan, top: int) -> None:
        box, h = self.box, self.box.lane_height
        right = -1.0
        for start, end, line in _waits(span, self.data):
            if line is None:
                continue
            x0, x1 = max(box.x(start) + 3, right + 4), box.x(end) - 3
            if x1 - x0 < MIN_LABEL:
                continue
            text = self.line_label(line, x1 - x0 - 8)
            if not text:
                continue
            where = (x0 + 4, top + h // 2)
            self.draw.text(where, text, font=self.code, fill=TEXT, anchor="lm", stroke_width=3, stroke_fill=LABEL_BG)
            width = len(text) * self.advance if self.advance and text.isascii() else self.code.getlength(text)
            right = x0 + width + 8

    def line_label(self, line: int, room: float) -> str:
        """`12  await asyncio.sleep(1)` clipped to `room` pixels; just `12` when little of the code would fit."""
        code = " ".join(self.lines[line - 1].split()) if 0 < line <= len(self.lines) else ""
        text = _fit(f"{line}  {code}".rstrip(), self.code, room, self.advance)
        if len(text) < len(str(line)) + 6 and text != f"{line}  {code}".rstrip():
            number = str(line)
            text = number if _fit(number, self.code, room, self.advance) == number else ""
        return text

    def block_labels(self, blocked: list[int]) -> None:
        """Each blocked period's line, on the lane of the task that held the loop (the one that ran then)."""
        box, h = self.box, self.box.lane_height
        for block in self.data.blocks[:20]:
            if block.line is None:
                continue
            middle = block.t + block.duration / 2
            for index, top in enumerate(box.lane_top):
                runs = self.data.segments.get(self.data.spans[index].task_id, ())
                if any(r.start <= middle <= r.end for r in runs):
                    x0, x1 = box.x(block.t) + 4, box.x(block.t + block.duration) - 4
                    text = self.line_label(block.line, x1 - x0)
                    if text:
                        self.draw.text((x0, top + h // 2), text, font=self.code, fill=LABEL_BG, anchor="lm")
                    break

    def axis(self) -> None:
        box, draw = self.box, self.draw
        y = box.axis_y
        draw.line((box.plot_left, y, box.plot_right, y), fill=MUTED, width=2)
        seen: set[int] = set()
        for t in self.data.outputs:  # one tick per pixel column however many lines
            x = round(box.x(t))
            if x not in seen:
                seen.add(x)
                draw.line((x, y - 9, x, y - 1), fill=OUTPUT, width=2)
        step = tick_step(box.end, 8)
        k = 0
        while k * step <= box.end * 1.0001 and k < 100:
            at = box.x(k * step)
            draw.line((at, y, at, y + 6), fill=MUTED, width=2)
            draw.text((at, y + 8), tick_label(k * step, step), font=self.small, fill=MUTED, anchor="mt")
            k += 1
        draw.text((box.plot_right + 26, y + 8), "s", font=self.small, fill=MUTED, anchor="rt")

    def key(self) -> None:
        box, draw, legend = self.box, self.draw, self.legend
        y, x = box.axis_y + 44, float(PAD)
        items: list[tuple[str, str]] = []
        if self.data.measured:
            items += [("run", legend.running), ("wait", legend.waiting)]
        else:
            items.append(("run", legend.lifetime))
        if self.data.blocks:
            items.append(("blocked", legend.blocked))
        if self.data.capped is not None:
            items.append(("unmeasured", legend.unmeasured))
        if self.data.outputs:
            items.append(("output", legend.output))
        for kind, words in items:
            swatch = (x, y, x + 26, y + 18)
            if kind == "run":
                draw.rectangle(swatch, fill=RUNNING)
            elif kind in ("wait", "blocked"):
                tile = self.hatch if kind == "wait" else self.red_hatch
                self.image.paste(tile.crop((0, 0, 27, 19)), (int(x), y))
            elif kind == "unmeasured":
                draw.rectangle((x, y + 6, x + 26, y + 12), fill=UNMEASURED)
            else:
                draw.line((x + 13, y + 2, x + 13, y + 16), fill=OUTPUT, width=3)
            text = _fit(words, self.small, box.width - PAD - x - 40)
            draw.text((x + 34, y + 9), text, font=self.small, fill=TEXT, anchor="lm")
            x += 34 + self.small.getlength(text) + 22
            if x > box.width - PAD - 80:
                break


def render_png(
    events: Iterable[Event] | RunRecord,
    *,
    source: str | None = None,
    title: str = "",
    legend: Legend = ENGLISH,
) -> bytes | None:
    """The timeline as PNG bytes, or None when the run recorded no task and no blocked loop.  `source` (the
    program's text) turns each wait's line number into the line itself."""
    data = timeline_data(events)
    if not data.spans and not data.blocks:
        return None
    box = layout(data, title=bool(title))
    with _render_lock:
        painter = _Painter(data, box, source, legend)
        painter.paint(title)
        out = io.BytesIO()
        painter.image.save(out, format="PNG", compress_level=3)
    return out.getvalue()
