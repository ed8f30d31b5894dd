"""Message text for a run: pure functions of a `RunRecord` (no discord import, easy to test).

Safety rules applied to everything a program printed: ANSI escape sequences and control characters are
removed, and runs of backticks are broken with a zero-width space so output can never close its code block.
(Pings are prevented separately: every message goes out with `AllowedMentions.none()`.)

The message always fits Discord's 2000 characters: the summary under the output is shortened first
(timeline, then traceback), then only the last output lines are shown with a count of the hidden ones; the
full output, with times, is attached as a text file when the run ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core.events import Status
from bot.core.lessons import Expect
from bot.core.record import Line, RunRecord
from bot.core.timeline import format_offset, render_timeline
from bot.discord_app.i18n import t
from bot.discord_app.markdown import clip, code_block, code_safe, inline_code, strip_ansi

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000
LINE_LIMIT = 300  # characters of one output line shown in the message (the attachment has it all)
MIN_OUTPUT = 400  # characters kept for output before the summary gets shortened
ATTACHMENT_NAME = "output.txt"


def format_line(line: Line, limit: int | None = LINE_LIMIT) -> str:
    """`+1.002s  World` (stdout) / `+1.002s ! boom` (stderr), cleaned for a code block."""
    text = code_safe(line.text)
    if limit is not None:
        text = clip(text, limit)
    mark = "  " if line.stream == "stdout" else " ! "
    return f"{format_offset(line.t)}{mark}{text}"


def output_text(record: RunRecord) -> str:
    """The whole output with times, for the attachment (ANSI removed, nothing clipped)."""
    lines = [f"{format_offset(x.t)}{'  ' if x.stream == 'stdout' else ' ! '}{strip_ansi(x.text)}" for x in record.lines]
    return "\n".join(lines) + ("\n" if lines else "")


@dataclass(frozen=True, slots=True)
class RunView:
    """What to show for a run, decided by the caller."""

    lesson_title: str
    example_id: str
    locale: str
    expect: Expect | None = None
    restarting: bool = False  # the bot is shutting down: say so in the final state
    continued: bool = False  # this is the fallback channel message (the interaction expired)


@dataclass(frozen=True, slots=True)
class Rendered:
    content: str
    hidden: int  # output lines not shown in the message
    attachment: str | None  # full output, when the run is over and not everything fit


def _state_line(record: RunRecord, view: RunView) -> str:
    loc = view.locale
    if record.finished is not None:
        status = t(loc, f"run.status.{record.finished.status.value}")
        total = t(loc, "run.total", status=status, elapsed=record.finished.elapsed)
        return total if record.finished.timings_trusted else f"{total} · {t(loc, 'run.timings_untrusted')}"
    if record.queue_position is not None:
        ahead = record.queue_position - 1
        return t(loc, "run.queued", ahead=ahead) if ahead > 0 else t(loc, "run.queued_next")
    return t(loc, "run.running") if record.started else t(loc, "run.starting")


def _summary_parts(record: RunRecord, view: RunView) -> tuple[list[str], str, str]:
    """(plain lines, traceback block or "", timeline block or "") for a finished run."""
    loc = view.locale
    finished = record.finished
    assert finished is not None
    lines: list[str] = []
    if view.restarting and finished.status == Status.CANCELLED:
        lines.append(t(loc, "run.restarting"))
    summary = record.summary(view.expect, loc)
    if finished.error and finished.status != Status.CANCELLED:
        lines.append(inline_code(finished.error, 300))
    if view.expect is not None and finished.status != Status.CANCELLED:
        if summary.expected_status:
            lines.append(
                t(loc, "run.expected_status", expected=summary.expected_status, actual=summary.status, mark="❌")
            )
        if view.expect.elapsed is not None:
            target = view.expect.elapsed
            lines.append(
                t(
                    loc,
                    "run.expected_time",
                    expected=target.seconds,
                    tolerance=target.tolerance,
                    actual=finished.elapsed,
                    mark="✅" if summary.elapsed_ok else "❌",
                )
            )
        if summary.output_ok is not None:
            if summary.output_ok:
                lines.append(t(loc, "run.expected_output", mark="✅"))
            else:
                detail = f" — {clip(strip_ansi(summary.output_check or ''), 200)}" if summary.output_check else ""
                lines.append(t(loc, "run.unexpected_output", mark="❌") + detail)
        if summary.note:
            lines.append("> " + clip(summary.note, 400).replace("\n", "\n> "))
    for blocked in record.blocked[:3]:
        where = t(loc, "run.blocked_line", line=blocked.line) if blocked.line is not None else ""
        lines.append(t(loc, "run.blocked", duration=blocked.duration, t=blocked.t, where=where))
    if len(record.blocked) > 3:
        lines.append(t(loc, "run.blocked_more", count=len(record.blocked) - 3))
    tb = ""
    if finished.traceback and finished.status != Status.CANCELLED:
        tb = code_block(code_safe(finished.traceback.rstrip("\n")), "py")
    timeline = render_timeline(record, width=56)
    tl = t(loc, "run.timeline") + "\n" + code_block(code_safe(timeline)) if timeline else ""
    return lines, tb, tl


def _trim_traceback(traceback: str, keep: int) -> str:
    lines = traceback.rstrip("\n").splitlines()
    return "\n".join(["…", *lines[-keep:]]) if len(lines) > keep else "\n".join(lines)


def render_run(record: RunRecord, view: RunView, *, final: bool = False, limit: int = MESSAGE_LIMIT) -> Rendered:
    """The run message: header, output block (last lines when long), state or final summary."""
    header = f"**{clip(strip_ansi(view.lesson_title), 200)}** · {inline_code(view.example_id, 100)}"
    if view.continued:
        header += "\n-# " + t(view.locale, "run.continued")
    state = _state_line(record, view)
    lines: list[str] = []
    tb = tl = ""
    if record.finished is not None:
        lines, tb, tl = _summary_parts(record, view)

    def footer() -> str:
        parts = [state, *lines]
        if tb:
            parts.append(tb)
        if tl:
            parts.append(tl)
        return "\n".join(parts)

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
