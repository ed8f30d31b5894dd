"""A version comparison in the terminal (`run` of a `compare: true` example, in the console and `corobot run`).

While the runs go, each line is printed as it comes, tagged with its version.  Then the outputs side by side: a
table with a column per version, one row per merged line (`bot.core.compare.merge_lines`), the rows that not
every version printed marked `≠`; then, one version after another, its summary (against what the lesson expects
on that version) and its timeline; last, the lanes that differ between the versions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from bot.console.render import print_summary_of
from bot.core.compare import Comparison, RunGroup, VersionsRunner, record_comparison
from bot.core.events import Event, Output
from bot.core.lessons import Example, Lesson
from bot.core.runner.text import strip_control
from bot.core.timeline import format_offset
from bot.locales import language_of, t
from bot.locales.comparing import DIFFERS, lane_difference_text, releases_text

LIVE_TAG = "dim cyan"


def comparison_table(comparison: Comparison, release: Callable[[str], str]) -> Table:
    """The outputs side by side: a column per version, `≠` on the rows not every version printed."""
    versions = comparison.versions
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False, expand=False)
    table.add_column(DIFFERS, style="yellow", no_wrap=True)
    for version in versions:
        table.add_column(release(version), overflow="fold")
    for row in comparison.rows():
        differs = len(row.times) != len(versions)
        cells: list[Text | str] = [DIFFERS if differs else ""]
        for version in versions:
            if version not in row.times:
                cells.append("")
                continue
            cell = Text(format_offset(row.times[version]) + "  ", style="dim")
            body = strip_control(row.text)
            cell.append(body if row.stream == "stdout" else "! " + body, style="yellow" if differs else "")
            cells.append(cell)
        table.add_row(*cells)
    return table


def print_comparison(
    console: Console, comparison: Comparison, release: Callable[[str], str], locale: str | None, *, width: int = 60
) -> None:
    """The finished comparison: outputs side by side, then each version's summary, timeline and differences."""
    language = language_of(locale)
    console.print(Rule(style="dim"))
    if comparison.same_output:
        console.print(Text(t(locale, "compare.same_output"), style="green"))
    console.print(comparison_table(comparison, release), no_wrap=False)
    for version in comparison.versions:
        console.print()
        console.print(Rule(Text(t(locale, "compare.python", release=release(version)), style="bold")))
        record = comparison.records[version]
        print_summary_of(console, record, comparison.verdict(version), locale, width=width)
    console.print()
    differences = comparison.differences()
    for diff in differences:
        console.print(Text(lane_difference_text(diff, language), style="yellow"))
    if not differences and any(record.tasks for record in comparison.records.values()):
        console.print(Text(t(locale, "compare.same_lanes"), style="dim"))


async def show_comparison(
    console: Console,
    runner: VersionsRunner,
    lesson: Lesson,
    example: Example,
    versions: Sequence[str],
    locale: str | None,
    *,
    width: int = 60,
    owner: int | None = None,
    on_start: Callable[[RunGroup], None] | None = None,
) -> Comparison:
    """Run `example` on each of `versions` at once, printing lines live (tagged with their version), then the
    comparison.  Raises `RunnerError` (busy, queue full, no such Python) before anything is printed."""
    pythons = runner.pythons

    def started(group: RunGroup) -> None:
        title = Text(f"▶ {lesson.id}/{example.id}", style="bold")
        if example.title is not None:
            title.append(f"  {example.title.get(locale)}", style="dim")
        console.print(title)
        shown = releases_text(pythons, versions)
        console.print(Text(t(locale, "compare.header", versions=shown, mark=DIFFERS), style="dim"))
        if on_start is not None:
            on_start(group)

    tag_width = max(len(version) for version in versions)

    def show(version: str, event: Event) -> None:
        if isinstance(event, Output):
            line = Text(version.ljust(tag_width) + " ", style=LIVE_TAG)
            line.append(format_offset(event.t) + "  ", style="dim")
            text = strip_control(event.text)
            line.append(text if event.stream == "stdout" else t(locale, "console.stderr", text=text))
            console.print(line, soft_wrap=True)

    comparison = await record_comparison(runner, example, versions, owner=owner, on_start=started, on_event=show)
    print_comparison(console, comparison, pythons.release, locale, width=width)
    return comparison
