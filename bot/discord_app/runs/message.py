"""The run message: pure functions of a `RunRecord` and what to show (`RunView`), easy to test.

Everything a program printed is made safe: output and tracebacks sit in code blocks they cannot close
(`markdown.code_safe`), an exception's text and quoted lines in inline spans they cannot leave
(`markdown.inline_code`).  The message always fits Discord's 2000 characters: the summary under the output is
shortened first (timeline, then traceback), then only the last output lines are shown with a count of the
hidden ones; the full output, with times, is attached as a text file when the run ends, and the timeline as
an image (`timeline_image`, drawn off the event loop by the stream).  Timings the program
reported outside its run are flagged after the total.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core.events import Status
from bot.core.lessons import Expect
from bot.core.record import Line, RunRecord
from bot.core.timeline import format_offset, format_seconds, render_timeline
from bot.core.timeline_image import render_png
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code, strip_control
from bot.locales import language_of
from bot.locales.wording import difference_text, legend, timings_warning

log = logging.getLogger(__name__)

LINE_LIMIT = 300  # characters of one output line shown in the message (the attachment has it all)
MIN_OUTPUT = 400  # characters kept for output before the summary gets shortened
ATTACHMENT_NAME = "output.txt"
TIMELINE_IMAGE = "run-timeline.png"
TIMELINE_WIDTH = 56
STATUS = {
    Status.OK: "run.status.ok",
    Status.ERROR: "run.status.error",
    Status.TIMEOUT: "run.status.timeout",
    Status.OUTPUT_LIMIT: "run.status.output_limit",
    Status.MEMORY_LIMIT: "run.status.memory_limit",
    Status.CPU_LIMIT: "run.status.cpu_limit",
    Status.KILLED: "run.status.killed",
    Status.CANCELLED: "run.status.cancelled",
}


def status_text(status: Status, locale: str) -> str:
    return t(locale, STATUS[status]) if status in STATUS else str(status)


def format_line(line: Line, limit: int | None = LINE_LIMIT) -> str:
    """`+1.002s  World` (stdout) / `+1.002s ! boom` (stderr), cleaned for a code block."""
    text = code_safe(line.text)
    if limit is not None:
        text = clip(text, limit)
    mark = "  " if line.stream == "stdout" else " ! "
    return f"{format_offset(line.t)}{mark}{text}"


def output_text(record: RunRecord) -> str:
    """The whole output with times, for the attachment (ANSI removed, nothing clipped)."""
    marks = {"stdout": "  ", "stderr": " ! "}
    lines = [f"{format_offset(x.t)}{marks[x.stream]}{strip_control(x.text)}" for x in record.lines]
    return "\n".join(lines) + ("\n" if lines else "")


def timeline_block(record: RunRecord, locale: str) -> str:
    """The run's task timeline with its title, in the member's language ("" when there is nothing to draw)."""
    drawing = render_timeline(record, width=TIMELINE_WIDTH, legend=legend(language_of(locale)))
    return t(locale, "run.timeline") + "\n" + code_block(code_safe(drawing)) if drawing else ""


def timeline_image(record: RunRecord, view: RunView) -> bytes | None:
    """The run's timeline as a PNG in the member's language (None when there is nothing to draw).  CPU work
    of tens of milliseconds: call it in a thread."""
    elapsed = record.elapsed
    title = view.example_id + (f" · {format_seconds(elapsed)}" if elapsed is not None else "")
    return render_png(record, source=view.source, title=title, legend=legend(language_of(view.locale)))


@dataclass(frozen=True, slots=True)
class RunView:
    """What to show for a run, decided by the caller."""

    lesson_title: str
    example_id: str
    locale: str
    expect: Expect | None = None
    restarting: bool = False  # the bot is shutting down: say so in the final state
    continued: bool = False  # this is the fallback channel message (the interaction expired)
    python: str | None = None  # the Python release it runs on, shown when the bot offers several
    source: str | None = None  # the program, so the timeline image can quote the line each task waited on


@dataclass(frozen=True, slots=True)
class Rendered:
    content: str
    hidden: int  # output lines not shown in the message
    attachment: str | None  # full output, when the run is over and not everything fit


def _state_line(record: RunRecord, view: RunView) -> str:
    loc = view.locale
    if record.finished is not None:
        finished = record.finished
        total = t(loc, "run.total", status=status_text(finished.status, loc), elapsed=finished.elapsed)
        warning = timings_warning(finished, language_of(loc))
        return total if warning is None else f"{total} · {warning}"
    if record.queue_position is not None:
        ahead = record.queue_position - 1
        return t(loc, "run.queued", count=ahead) if ahead > 0 else t(loc, "run.queued_next")
    return t(loc, "run.running") if record.started else t(loc, "run.starting")


def _expectations(record: RunRecord, view: RunView) -> list[str]:
    """Expected vs actual, in the member's language: status, time, output, the lesson's note."""
    loc = view.locale
    verdict = record.verdict(view.expect)
    finished = record.finished
    assert finished is not None
    lines: list[str] = []
    if not verdict.status_ok:
        actual = finished.status.value
        lines.append(t(loc, "run.expected_status", expected=verdict.expected_status, actual=actual, mark="❌"))
    want, took = verdict.expect_elapsed, finished.elapsed
    if want is not None:  # a run that ended otherwise than expected did not take the expected time either
        mark = "✅" if verdict.elapsed_ok else "❌"
        lines.append(
            t(loc, "run.expected_time", expected=want.seconds, tolerance=want.tolerance, actual=took, mark=mark)
        )
    if verdict.output is not None:
        detail = difference_text(verdict.output, language_of(loc), inline_code)
        lines.append(t(loc, "run.unexpected_output", mark="❌", detail=detail))
    elif verdict.output_ok:
        lines.append(t(loc, "run.expected_output", mark="✅"))
    if verdict.note is not None:
        lines.append("> " + clip(verdict.note.get(loc), 400).replace("\n", "\n> "))
    return lines


def _summary_parts(record: RunRecord, view: RunView) -> tuple[list[str], str, str]:
    """(plain lines, traceback block or "", timeline block or "") for a finished run."""
    loc = view.locale
    finished = record.finished
    assert finished is not None
    lines: list[str] = []
    stopped = finished.status == Status.CANCELLED
    if view.restarting and stopped:
        lines.append(t(loc, "run.restarting"))
    if finished.error and not stopped:
        lines.append(inline_code(finished.error, 300))
    if view.expect is not None and not stopped:
        lines.extend(_expectations(record, view))
    for blocked in record.blocked[:3]:
        where = t(loc, "run.blocked_line", line=blocked.line) if blocked.line is not None else ""
        lines.append(t(loc, "run.blocked", duration=blocked.duration, t=blocked.t, where=where))
    if len(record.blocked) > 3:
        lines.append(t(loc, "run.blocked_more", count=len(record.blocked) - 3))
    tb = code_block(code_safe(finished.traceback.rstrip("\n")), "py") if finished.traceback and not stopped else ""
    return lines, tb, timeline_block(record, loc)


def _trim_traceback(traceback: str, keep: int) -> str:
    lines = traceback.rstrip("\n").splitlines()
    return "\n".join(["…", *lines[-keep:]]) if len(lines) > keep else "\n".join(lines)


def render_run(record: RunRecord, view: RunView, *, final: bool = False, limit: int = MESSAGE_LIMIT) -> Rendered:
    """The run message: header, output block (last lines when long), state or final summary."""
    header = f"**{clip(strip_control(view.lesson_title), 200)}** · {inline_code(view.example_id, 100)}"
    if view.python:
        header += " · " + t(view.locale, "compare.python", release=view.python)
    if view.continued:
        header += "\n-# " + t(view.locale, "run.continued")
    state = _state_line(record, view)
    lines: list[str] = []
    tb = tl = ""
    if record.finished is not None:
        lines, tb, tl = _summary_parts(record, view)

    def footer() -> str:
        return "\n".join(part for part in (state, *lines, tb, tl) if part)

    # Shorten the summary until the output keeps a fair share of the message.
    budget = limit - 20  # slack for separators and the "hidden" note
    if len(header) + len(footer()) + MIN_OUTPUT > budget and tl:
        tl = ""
    if len(header) + len(footer()) + MIN_OUTPUT > budget and tb and record.finished and record.finished.traceback:
        tb = code_block(code_safe(_trim_traceback(record.finished.traceback, 6)), "py")
    if len(header) + len(footer()) + MIN_OUTPUT > budget:
        tb = ""
    while len(header) + len(footer()) + MIN_OUTPUT > budget and lines:
        lines.pop()
    foot = footer()

    hidden_note_room = 80
    room = budget - len(header) - len(foot) - hidden_note_room - 8  # 8 = the code fences and newlines
    shown: list[str] = []
    used = 0
    for line in reversed(record.lines):
        text = format_line(line)
        if used + len(text) + 1 > room:
            break
        shown.append(text)
        used += len(text) + 1
    shown.reverse()
    hidden = len(record.lines) - len(shown)
    clipped = any(len(code_safe(x.text)) > LINE_LIMIT for x in record.lines)
    attach = final and record.finished is not None and (hidden > 0 or clipped)

    parts = [header]
    if hidden:
        note = t(view.locale, "run.hidden", count=hidden)
        if attach:
            note += " · " + t(view.locale, "run.attached")
        parts.append("-# " + note)
    if shown:
        parts.append(code_block("\n".join(shown)))
    elif record.started and record.finished is None:
        parts.append(code_block(t(view.locale, "run.no_output")))
    parts.append(foot)
    content = "\n".join(parts)
    if len(content) > limit:  # defensive: never send something Discord refuses
        log.warning("run message over %d characters (%d); clipped", limit, len(content))
        content = content[: limit - 4] + "\n```"
    return Rendered(content=content, hidden=hidden, attachment=output_text(record) if attach else None)
