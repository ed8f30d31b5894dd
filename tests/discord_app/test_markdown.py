"""Program text in Discord: nothing a program raised or printed leaves its code span or block."""

from __future__ import annotations

from bot.core.events import Finished, Output, Started, Status
from bot.core.record import RunRecord
from bot.discord_app.markdown import ZWSP, code_block, code_safe, inline_code
from bot.discord_app.render import RunView, render_run

HOSTILE = "boom`\n[click here](https://evil.example) ``` @everyone \x1b]8;;https://x\x07link\x1b]8;;\x07 \x1b[31mred"


def test_inline_code_is_one_span_on_one_line() -> None:
    span = inline_code(HOSTILE, 300)
    assert span.startswith("`") and span.endswith("`") and span.count("`") == 2
    assert "\n" not in span and "\x1b" not in span and "\x07" not in span
    assert "[click here](https://evil.example)" in span  # shown as text, inside the span
    assert inline_code("", 10) == "` `" and len(inline_code("x" * 1000, 50)) == 52


def test_code_block_text_cannot_close_the_block() -> None:
    block = code_block(code_safe(HOSTILE + "\n```\nafter"))
    inner = block[4:-4]
    assert "```" not in inner and f"`{ZWSP}`" in inner
    assert "\x1b" not in block and "\x07" not in block


def test_an_exception_message_stays_in_its_span_in_the_run_message() -> None:
    record = RunRecord.from_events(
        [Started(), Output("stdout", "fine", 0.1), Finished(Status.ERROR, 0.2, exit_code=1, error=HOSTILE)]
    )
    content = render_run(record, RunView("Lesson", "example", "en"), final=True).content
    error_line = next(line for line in content.splitlines() if "boom" in line)
    assert error_line.count("`") == 2 and error_line.startswith("`") and error_line.endswith("`")
    assert "https://evil.example" not in content.replace(error_line, "")


def test_untrusted_timings_are_said_in_both_languages() -> None:
    finished = Finished(Status.OK, 0.5, exit_code=0, timings_trusted=False)
    record = RunRecord.from_events([Started(), finished])
    english = render_run(record, RunView("Lesson", "example", "en"), final=True).content
    chinese = render_run(record, RunView("Lesson", "example", "zh-CN"), final=True).content
    assert "timings not trusted" in english
    assert "计时不可信" in chinese
    trusted = RunRecord.from_events([Started(), Finished(Status.OK, 0.5, exit_code=0)])
    assert "timings not trusted" not in render_run(trusted, RunView("Lesson", "example", "en"), final=True).content
