"""Shared by the learner-code tests: waiting for a learner run's final message, reading a form's fields."""

from __future__ import annotations

from tests.fakediscord import FakeDiscord, FakeInteraction, FakeMessage


def is_done(msg: FakeMessage | None) -> bool:
    """A learner run's message once its final edit has landed: filled in, and no Stop button any more (every
    edit while the run goes carries one)."""
    return (
        msg is not None
        and not msg.loading
        and bool(msg.content)
        and not any(c.startswith("cb:pgstop:") for c in msg.custom_ids())
    )


async def final(fd: FakeDiscord, ix: FakeInteraction, limit: float = 30.0) -> FakeMessage:
    """The reply of `ix` once the learner run in it has finished."""
    await fd.wait_until(lambda: is_done(ix.original), limit)
    assert ix.original is not None
    return ix.original


def fields(ix: FakeInteraction) -> dict[str, dict[str, object]]:
    """The text inputs of the form the bot opened in answer to `ix`, by custom id."""
    assert ix.modal is not None, ix.response
    found: dict[str, dict[str, object]] = {}
    for top in ix.modal["components"]:
        inner = top.get("components") or [top.get("component")]
        for field in inner:
            if isinstance(field, dict) and "custom_id" in field:
                found[field["custom_id"]] = field
    return found


def reply_text(ix: FakeInteraction) -> str:
    """The text the bot answered `ix` with (an ephemeral reply, usually)."""
    msg = ix.original or (ix.followups[0] if ix.followups else None)
    assert msg is not None, ix.response
    return msg.content
