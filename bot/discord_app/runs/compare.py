"""A version comparison in one Discord message: `/run` of a `compare: true` example (no `python` chosen).

`CompareStream` is a `RunStream` that feeds several runs (a `RunGroup`) into a `Comparison` and renders it with
`render_comparison`; the edit cadence, the token fallback and the buttons are the run message's.

The message, always within 2000 characters, top to bottom: the header with the releases compared; the merged
output in one code block, a row per line, a row not every version printed marked `≠` and tagged with the
versions that printed it (`≠ 3.12,3.13 │ a: runs, never waits`) — a phone-width layout, where columns side by
side would not fit; a line per version (status, time, expected vs actual on that version); the lesson's notes;
then each version's timeline and the lanes that differ (`≠ say: only on Python 3.11`).  What does not fit goes
in this order: the timelines but the first version's and those with lanes of their own, then all timelines (the
lane differences stay), then the notes, then the oldest output rows (counted).  When anything was left out, the
final message attaches the whole comparison as text (the run message's `output.txt`): each version's output with
times, `≠` on the lines not every version printed, and its timeline.
"""

from __future__ import annotations

import dataclasses
import logging

from bot.core.compare import Comparison, RunGroup, expect_on
from bot.core.events import Finished, Output, Started, Status
from bot.core.lessons import Example
from bot.core.timeline import format_offset, render_timeline
from bot.core.versions import Pythons
from bot.discord_app.context import Interaction
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code, strip_control
from bot.discord_app.runs.message import Rendered, RunView, status_text
from bot.discord_app.runs.stream import Controls, RunStream, RunTicket
from bot.locales import language_of
from bot.locales.comparing import DIFFERS, lane_difference_text, releases_text, row_tag
from bot.locales.wording import difference_text, legend

log = logging.getLogger(__name__)

ROW_LIMIT = 120  # characters of one output row shown in the message (the attachment has it all)
TIMELINE_WIDTH = 48
FULL_WIDTH = 60
SEPARATOR = "│"


@dataclasses.dataclass(frozen=True, slots=True)
class CompareView:
    """What the comparison message shows besides the runs: the run message's view, the example (its `expect` on
    each version) and the releases."""

    run: RunView
    example: Example
    pythons: Pythons


def _version_line(comparison: Comparison, version: str, locale: str) -> str:
    """`**3.12** ✅ ok in 0.112s · Output as expected ✅ · …` (or where the run is)."""
    record = comparison.records[version]
    head = f"**{version}**"
    finished = record.finished
    if finished is None:
        if record.queue_position is not None:
            ahead = record.queue_position - 1
            return f"{head} " + (t(locale, "run.queued", count=ahead) if ahead > 0 else t(locale, "run.queued_next"))
        return f"{head} " + (t(locale, "run.running") if record.started else t(locale, "run.starting"))
    parts = [t(locale, "run.total", status=status_text(finished.status, locale), elapsed=finished.elapsed)]
    if finished.error and finished.status != Status.CANCELLED:
        parts.append(inline_code(finished.error, 120))
    verdict = comparison.verdict(version)
    if finished.status != Status.CANCELLED and expect_on(comparison.example, version) is not None:
        if not verdict.status_ok:
            actual = finished.status.value
            parts.append(t(locale, "run.expected_status", expected=verdict.expected_status, actual=actual, mark="❌"))
        if verdict.output is not None:
            detail = difference_text(verdict.output, language_of(locale), inline_code)
            parts.append(t(locale, "run.unexpected_output", mark="❌", detail=detail))
        elif verdict.output_ok:
            parts.append(t(locale, "run.expected_output", mark="✅"))
        want = verdict.expect_elapsed
        if want is not None:
            mark = "✅" if verdict.elapsed_ok else "❌"
            expected, tolerance, took = want.seconds, want.tolerance, finished.elapsed
            parts.append(t(locale, "run.expected_time", expected=expected, tolerance=tolerance, actual=took, mark=mark))
    return f"{head} " + " · ".join(parts)


def _notes(comparison: Comparison, locale: str) -> list[str]:
    """The lesson's notes on what to expect: once when alike on every version, else each with its versions."""
    by_text: dict[str, list[str]] = {}
    for version in comparison.versions:
        note = comparison.verdict(version).note
        if note is not None:
            by_text.setdefault(note.get(locale), []).append(version)
    if len(by_text) == 1 and len(next(iter(by_text.values()))) == len(comparison.versions):
        return ["> " + clip(next(iter(by_text)), 400).replace("\n", "\n> ")]
    return ["> **" + ", ".join(vs) + "** " + clip(text, 300).replace("\n", "\n> ") for text, vs in by_text.items()]


def _rows(comparison: Comparison) -> list[str]:
    versions = comparison.versions
    rows = comparison.rows()
    tags = [row_tag(row, versions) for row in rows]
    width = max((len(tag) for tag in tags), default=0)
    out = []
    for row, tag in zip(rows, tags, strict=True):
        mark = DIFFERS if tag else " "
        text = clip(code_safe(row.text), ROW_LIMIT)
        stream = "" if row.stream == "stdout" else "! "
        out.append(f"{mark} {tag:<{width}} {SEPARATOR} {stream}{text}" if width else f"{stream}{text}")
    return out


def _timelines(comparison: Comparison, locale: str, only: set[str] | None, width: int) -> list[str]:
    """Each version's timeline (`only`: these versions' alone), then the lanes that differ, each once."""
    differences = comparison.differences()
    language = language_of(locale)
    out: list[str] = []
    for version in comparison.versions:
        if only is None or version in only:
            drawing = render_timeline(comparison.records[version], width=width, legend=legend(language))
            if drawing:
                out.append(f"**{version}**\n" + code_block(code_safe(drawing)))
    out += [clip(lane_difference_text(d, language), 200) for d in differences]
    if not differences and comparison.done and any(comparison.records[v].tasks for v in comparison.versions):
        out.append(t(locale, "compare.same_lanes"))
    return out


def _fewer_timelines(comparison: Comparison) -> set[str]:
    """The timelines worth their room: the first version's, and those of versions whose lanes differ."""
    differences = comparison.differences()
    return {comparison.versions[0]} | {
        v for v in comparison.versions if any(d.kind == "only" and v in d.ends for d in differences)
    }


def comparison_text(comparison: Comparison, pythons: Pythons, locale: str) -> str:
    """The whole comparison as a text file: each version's output with times (`≠` on lines not every version
    printed), its summary line and its timeline with the lanes that differ."""
    language = language_of(locale)
    versions = comparison.versions
    lines: list[str] = []
    differences = comparison.differences()
    for version in versions:
        record = comparison.records[version]
        lines.append(t(locale, "compare.python", release=pythons.release(version)))
        lines.append("=" * FULL_WIDTH)
        shared = _shared_lines(comparison, version)
        for index, line in enumerate(record.lines):
            mark = " " if index in shared else DIFFERS
            stream = "  " if line.stream == "stdout" else " ! "
            lines.append(f"{mark} {format_offset(line.t)}{stream}{strip_control(line.text)}")
        finished = record.finished
        if finished is not None:
            lines.append(t(locale, "run.total", status=status_text(finished.status, locale), elapsed=finished.elapsed))
        drawing = render_timeline(record, width=FULL_WIDTH, legend=legend(language))
        if drawing:
            lines += ["", strip_control(drawing)]
        lines.append("")
    lines += [lane_difference_text(d, language) for d in differences]
    return "\n".join(lines)


def _shared_lines(comparison: Comparison, version: str) -> set[int]:
    """Indexes of `version`'s output lines that every version printed (at the same place)."""
    shared: set[int] = set()
    index = 0
    for row in comparison.rows():
        if version not in row.times:
            continue
        if len(row.times) == len(comparison.versions):
            shared.add(index)
        index += 1
    return shared


def render_comparison(
    comparison: Comparison, view: CompareView, *, final: bool = False, limit: int = MESSAGE_LIMIT
) -> Rendered:
    """The comparison message (see the module doc for what goes first when it does not fit)."""
    run_view, locale = view.run, view.run.locale
    releases = releases_text(view.pythons, comparison.versions)
    header = f"**{clip(strip_control(run_view.lesson_title), 200)}** · {inline_code(run_view.example_id, 100)}"
    header += "\n-# " + t(locale, "compare.header", versions=releases, mark=DIFFERS)
    if run_view.continued:
        header += "\n-# " + t(locale, "run.continued")
    states = [_version_line(comparison, v, locale) for v in comparison.versions]
    if run_view.restarting and comparison.done:
        states.append(t(locale, "run.restarting"))
    notes = _notes(comparison, locale) if comparison.done else []
    drawn: set[str] | None = None
    timelines = _timelines(comparison, locale, drawn, TIMELINE_WIDTH) if comparison.done else []
    budget = limit - 40
    rows = _rows(comparison)
    output_room = min(600, sum(len(r) + 1 for r in rows) + 8)

    def size() -> int:
        return sum(len(part) + 1 for part in (header, *states, *notes, *timelines)) + output_room

    if size() > budget and comparison.done:  # the first version's timeline, and those with lanes of their own
        drawn = _fewer_timelines(comparison)
        timelines = _timelines(comparison, locale, drawn, TIMELINE_WIDTH)
    if size() > budget:
        timelines = _timelines(comparison, locale, set(), TIMELINE_WIDTH) if comparison.done else []
    if size() > budget:
        notes = []
    foot = "\n".join(part for part in (*states, *notes, *timelines) if part)
    room = max(budget - len(header) - len(foot) - 80, 0)
    shown: list[str] = []
    used = 0
    for row in reversed(rows):
        if used + len(row) + 1 > room:
            break
        shown.append(row)
        used += len(row) + 1
    shown.reverse()
    hidden = len(rows) - len(shown)
    clipped = any(len(code_safe(line.text)) > ROW_LIMIT for r in comparison.records.values() for line in r.lines)
    left_out = hidden > 0 or clipped or drawn is not None
    attach = final and comparison.done and left_out
    parts = [header]
    if hidden:
        note = t(locale, "run.hidden", count=hidden)
        if attach:
            note += " · " + t(locale, "run.attached")
        parts.append("-# " + note)
    if shown:
        parts.append(code_block("\n".join(shown)))
    elif comparison.started and not comparison.done:
        parts.append(code_block(t(locale, "run.no_output")))
    parts.append(foot)
    content = "\n".join(part for part in parts if part)
    if len(content) > limit:  # defensive: never send something Discord refuses
        log.warning("comparison message over %d characters (%d); clipped", limit, len(content))
        content = content[: limit - 4] + "\n```"
    attachment = comparison_text(comparison, view.pythons, locale) if attach else None
    return Rendered(content=content, hidden=hidden, attachment=attachment)


class CompareStream(RunStream):
    """Streams a comparison's runs into one message; `record` is the group as one run (for the buttons)."""

    def __init__(
        self,
        interaction: Interaction,
        group: RunGroup,
        view: CompareView,
        ticket: RunTicket,
        *,
        edit_interval: float,
        controls: Controls,
    ) -> None:
        super().__init__(interaction, group, view.run, ticket, edit_interval=edit_interval, controls=controls)
        self.group = group
        self.comparison = Comparison.start(view.example, list(group.runs))
        self.compare_view = view

    async def _consume(self) -> None:
        async for version, event in self.group.events():
            self.comparison.add(version, event)
            if isinstance(event, Started) and not self.record.started:
                self.record.add(Started())
            if isinstance(event, Output):
                self._has_output.set()
            if isinstance(event, Finished):
                overall = self.comparison.overall()
                if overall is not None:
                    self.record.add(overall)
            self._dirty.set()

    def _render(self, final: bool) -> Rendered:
        run_view = dataclasses.replace(self.view, restarting=self.restarting, continued=self._continued)
        view = dataclasses.replace(self.compare_view, run=run_view)
        return render_comparison(self.comparison, view, final=final)

