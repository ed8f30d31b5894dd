"""The run message text: safety (ANSI, backticks), times on every line, fitting 2000 characters, the member's
language (the timeline's legend included)."""

from __future__ import annotations

import re

from bot.core.events import Finished, LoopBlocked, Output, Queued, Started, Status, TaskEvent
from bot.core.lessons import ElapsedExpect, Expect, Text
from bot.core.record import RunRecord
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, code_safe, strip_control
from bot.discord_app.runs.message import RunView, render_run

VIEW = RunView(lesson_title="Two tasks", example_id="two-tasks", locale="en")


def _code_blocks_balanced(content: str) -> bool:
    return content.count("```") % 2 == 0


def test_ansi_and_controls_removed():
    assert strip_control("\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x1b[2K\r") == "red ok"
    assert "\x1b" not in code_safe("\x1b[1;32m```\x1b[0m")


def test_backtick_runs_cannot_close_a_block():
    safe = code_safe("before ``` after ````` end `single`")
    assert "``" not in safe
    assert safe.replace("\u200b", "") == "before ``` after ````` end `single`"


def test_every_line_has_its_time_in_order():
    record = RunRecord.from_events(
        [Started(), Output("stdout", "Hello", 0.0012), Output("stdout", "World", 1.002), Output("stderr", "warn", 1.5)]
    )
    content = render_run(record, VIEW).content
    assert "+0.001s  Hello" in content
    assert "+1.002s  World" in content
    assert "+1.500s ! warn" in content
    assert content.index("Hello") < content.index("World") < content.index("warn")
    assert _code_blocks_balanced(content)


def test_queue_position_shown_as_people_ahead():
    record = RunRecord.from_events([Queued(3)])
    assert "2 ahead of you" in render_run(record, VIEW).content
    record.add(Queued(1))
    assert "you're next" in render_run(record, VIEW).content


def test_long_output_keeps_last_lines_and_attaches_everything_at_the_end():
    events = [Started(), *(Output("stdout", f"line {i:04d} " + "x" * 40, i * 0.01) for i in range(500))]
    record = RunRecord.from_events(events)
    live = render_run(record, VIEW)
    assert len(live.content) <= MESSAGE_LIMIT
    assert live.hidden > 0 and live.attachment is None
    assert "line 0499" in live.content and "line 0000" not in live.content
    assert f"{live.hidden} earlier lines hidden" in live.content
    record.add(Finished(Status.OK, 5.0))
    final = render_run(record, VIEW, final=True)
    assert len(final.content) <= MESSAGE_LIMIT
    assert final.attachment is not None
    lines = final.attachment.splitlines()
    assert len(lines) == 500
    assert lines[0].startswith("+0.000s  line 0000") and lines[-1].startswith("+4.990s  line 0499")
    assert _code_blocks_balanced(final.content)


def test_final_summary_names_status_expectation_blocked_and_traceback():
    expect = Expect(
        output=["a"], elapsed=ElapsedExpect(seconds=1.0, tolerance=0.1), note=Text({"en": "because", "zh-CN": "因为"})
    )
    record = RunRecord.from_events(
        [
            Started(),
            TaskEvent("main", "created", 0.0, 1),
            Output("stdout", "a", 0.1),
            LoopBlocked(0.5, 0.2, line=7),
            TaskEvent("main", "failed", 1.5, 1),
            Finished(Status.ERROR, 1.5, error="ValueError: boom", traceback='File "x.py", line 7\nValueError: boom'),
        ]
    )
    content = render_run(record, RunView("T", "ex", "en", expect), final=True).content
    assert "raised an exception in 1.500s" in content
    assert "took 1.500s ❌" in content
    assert "Output as expected ✅" in content
    assert "> because" in content
    assert "blocked for 0.500s" in content and "line 7" in content
    assert "ValueError: boom" in content
    assert "main" in content  # the timeline
    zh = render_run(record, RunView("T", "ex", "zh-CN", expect), final=True).content
    assert "> 因为" in zh and "抛出异常" in zh


def test_huge_traceback_and_output_still_fit():
    tb = "\n".join(f'  File "x.py", line {i}, in f{i}' for i in range(300))
    record = RunRecord.from_events(
        [Started(), *(Output("stdout", "y" * 1000, i) for i in range(10)), Finished(Status.ERROR, 10, "E: e", tb)]
    )
    content = render_run(record, VIEW, final=True).content
    assert len(content) <= MESSAGE_LIMIT
    assert _code_blocks_balanced(content)
    assert re.search(r"\+9\.000s  y+…", content)


def test_restarting_note():
    record = RunRecord.from_events([Started(), Finished(Status.CANCELLED, 0.3)])
    view = RunView("T", "ex", "en", restarting=True)
    assert t("en", "run.restarting") in render_run(record, view, final=True).content


def test_chinese_member_gets_a_chinese_summary_and_timeline_legend():
    expect = Expect(output=["a", "b"])
    record = RunRecord.from_events(
        [
            Started(),
            TaskEvent("main", "created", 0.0, 1),
            TaskEvent("worker", "created", 0.0, 2),
            Output("stdout", "a", 0.1),
            LoopBlocked(0.3, 0.2, line=3),
            TaskEvent("worker", "cancelled", 0.5, 2),
            TaskEvent("main", "done", 0.6, 1),
            Finished(Status.OK, 0.6),
        ]
    )
    zh = render_run(record, RunView("T", "ex", "zh-CN", expect), final=True).content
    assert "任务时间线：" in zh and "已取消" in zh and "事件循环被阻塞" in zh
    assert "输出与预期不同 ❌ — 输出提前结束：预期 2 行，实际 1 行" in zh
    assert "cancelled" not in zh and "event loop blocked" not in zh and "ended early" not in zh
    en = render_run(record, RunView("T", "ex", "en", expect), final=True).content
    assert "x cancelled" in en and "▓ event loop blocked" in en
    assert "Output differs from the expected ❌ — output ended early: expected 2 lines, got 1" in en


HOSTILE_ERROR = (
    "boom`\n[click here](https://evil.example) ``` @everyone \x1b]8;;https://x\x07link\x1b]8;;\x07 \x1b[31mred"
)


def test_an_exception_message_stays_in_its_span_in_the_run_message():
    record = RunRecord.from_events(
        [Started(), Output("stdout", "fine", 0.1), Finished(Status.ERROR, 0.2, exit_code=1, error=HOSTILE_ERROR)]
    )
    content = render_run(record, VIEW, final=True).content
    error_line = next(line for line in content.splitlines() if "boom" in line)
    assert error_line.count("`") == 2 and error_line.startswith("`") and error_line.endswith("`")
    assert "https://evil.example" not in content.replace(error_line, "")
    assert _code_blocks_balanced(content)


def test_untrusted_timings_are_said_in_both_languages():
    record = RunRecord.from_events([Started(), Finished(Status.OK, 0.5, exit_code=0, timings_trusted=False)])
    english = render_run(record, VIEW, final=True).content
    chinese = render_run(record, RunView("Two tasks", "two-tasks", "zh-CN"), final=True).content
    assert t("en", "run.timings_untrusted") in english and "timings not trusted" in english
    assert t("zh-CN", "run.timings_untrusted") in chinese and "计时不可信" in chinese
    trusted = RunRecord.from_events([Started(), Finished(Status.OK, 0.5, exit_code=0)])
    assert "timings not trusted" not in render_run(trusted, VIEW, final=True).content
