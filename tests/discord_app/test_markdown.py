"""Program and member text in Discord: nothing leaves its inline code span or its code block."""

from __future__ import annotations

from bot.discord_app.markdown import ZWSP, code_block, code_safe, inline_code, strip_control

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


def test_bidi_overrides_and_line_separators_are_removed() -> None:
    tricky = "ok\u202eevil\u2066x\u2069\u2028y"
    assert strip_control(tricky) == "okevilxy"
    assert "\u202e" not in code_safe(tricky) and "\u202e" not in inline_code(tricky)
