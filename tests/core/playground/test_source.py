"""Where learner code comes from: a message's first Python block (others with a note), size limits, the hash."""

from __future__ import annotations

import hashlib

import pytest

from bot.core.playground.source import CodeTooLarge, NoCode, checked, code_from_message, code_hash


def test_the_first_python_block_wins_over_earlier_other_blocks() -> None:
    text = "look:\n```js\nconsole.log(1)\n```\nand\n```py\nprint('a')\n```\n```python\nprint('b')\n```"
    source = code_from_message(text)
    assert source.code == "print('a')\n" and source.origin == "python_block" and not source.noted


@pytest.mark.parametrize("tag", ["py", "python", "Python3", "PY"])
def test_python_tags(tag: str) -> None:
    assert code_from_message(f"```{tag}\nx = 1\n```").code == "x = 1\n"


def test_an_untagged_block_or_plain_text_is_accepted_with_a_note() -> None:
    block = code_from_message("try this\n```\nprint(1)\n```")
    assert (block.code, block.origin, block.noted) == ("print(1)\n", "plain_block", True)
    plain = code_from_message("  print('plain')  ")
    assert (plain.code, plain.origin, plain.noted) == ("print('plain')\n", "plain_text", True)
    inline = code_from_message("`print('inline')`")
    assert inline.code == "print('inline')\n"


@pytest.mark.parametrize("text", ["", "   ", "```py\n\n```", "``"])
def test_nothing_to_run(text: str) -> None:
    with pytest.raises(NoCode):
        code_from_message(text)


def test_size_limit_and_empty_code() -> None:
    assert checked("x" * 10, 10) == "x" * 10
    with pytest.raises(CodeTooLarge) as refused:
        checked("x" * 11, 10)
    assert refused.value.params == {"size": 11, "limit": 10}
    with pytest.raises(NoCode):
        checked(" \n\t", 10)


def test_the_hash_is_sha256_of_the_utf8_code() -> None:
    assert code_hash("print('协程')") == hashlib.sha256("print('协程')".encode()).hexdigest()
    assert code_hash("\ud800") != code_hash("\ud801")  # a lone surrogate still hashes, distinctly
