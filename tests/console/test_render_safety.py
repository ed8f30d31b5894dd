"""The console shows program text without passing terminal escape sequences through."""

from __future__ import annotations

import io

from rich.console import Console

from bot.console.render import event_text, print_summary
from bot.core.events import Finished, Output, Started, Status, TaskEvent
from bot.core.record import RunRecord
from bot.locales import t

ESCAPES = "\x1b]0;pwned title\x07\x1b]8;;https://evil.example\x07link\x1b]8;;\x07\x1b[2J\x1b[31mred\x9b1m\x00bell\x07"


def test_output_lines_lose_their_escape_sequences() -> None:
    for stream in ("stdout", "stderr"):
        text = event_text(Output(stream, "hi " + ESCAPES, 0.5))
        assert text is not None
        assert "\x1b" not in text.plain and "\x07" not in text.plain and "\x9b" not in text.plain
        assert "link" in text.plain and "red" in text.plain


def test_summary_timeline_and_traceback_lose_them_too() -> None:
    events = [
        Started(),
        TaskEvent("task" + ESCAPES, "created", 0.0, 1),
        TaskEvent("task" + ESCAPES, "done", 0.2, 1),
        Finished(Status.ERROR, 0.3, exit_code=1, error="E: " + ESCAPES, traceback="Traceback\n" + ESCAPES),
    ]
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=80, color_system=None)
    print_summary(console, RunRecord.from_events(events), None, "en")
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "E: " in shown and "timeline" in shown


def test_untrusted_timings_are_said_in_the_console_s_language() -> None:
    record = RunRecord.from_events([Started(), Finished(Status.OK, 0.3, exit_code=0, timings_trusted=False)])
    for locale, words in (("en", "timings not trusted"), ("zh-CN", "计时不可信")):
        out = io.StringIO()
        console = Console(file=out, force_terminal=False, width=120, color_system=None)
        print_summary(console, record, None, locale)
        assert t(locale, "run.timings_untrusted") in out.getvalue() and words in out.getvalue()
    out = io.StringIO()
    trusted = RunRecord.from_events([Started(), Finished(Status.OK, 0.3, exit_code=0)])
    print_summary(Console(file=out, force_terminal=False, width=120, color_system=None), trusted, None, "en")
    assert "timings not trusted" not in out.getvalue()
