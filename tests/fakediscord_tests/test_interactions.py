"""Slash commands, autocomplete, components, modals and interaction tokens, answered by a real bot."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord, running

from .conftest import DemoBot


async def test_defer_followup_edit(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice", locale="de")
    ix = await fd.slash(alice, "run", {"lesson": "hello", "repeat": 2})
    assert ix.response_type == 5 and ix.deferred
    await fd.wait_until(lambda: ix.original is not None and ix.original.content.startswith("done"))
    original = ix.original
    assert original is not None and original.content == "done hello x2 (de)"
    # The first follow-up after a "thinking" defer filled in the deferred message (no second message).
    assert ix.followups == []
    assert [h["content"] for h in original.history] == ["", "running hello x2"]
    assert [m.id for m in fd.messages()] == [original.id]
    paths = [(r.method, r.path.split("/")[1]) for r in fd.requests if r.path.startswith(("/interactions", "/webhooks"))]
    assert paths == [("POST", "interactions"), ("POST", "webhooks"), ("PATCH", "webhooks")]


async def test_autocomplete_returns_the_bots_choices(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice")
    choices = await fd.autocomplete(alice, "run", {"lesson": "ta"}, focused="lesson")
    assert [c["value"] for c in choices] == ["taskgroup"]
    choices = await fd.autocomplete(alice, "run", {"lesson": ""}, focused="lesson")
    assert len(choices) == 5


async def test_button_click_updates_the_message(fd: FakeDiscord, bot: DemoBot) -> None:
    alice, bob = fd.add_user("alice"), fd.add_user("bob")
    ix = await fd.slash(alice, "menu")
    menu = ix.original
    assert menu is not None and menu.custom_ids() == ["again", "lesson"]
    click = await fd.click(bob, menu, "again")
    assert click.response_type == 7
    assert menu.content == "again by bob" and menu.edits == 1
    pick = await fd.click(alice, menu, "lesson", values=["gather"])
    assert pick.response_type == 4
    assert pick.original is not None and pick.original.ephemeral and pick.original.content == "picked gather"
    with pytest.raises(ValueError, match="no component"):
        await fd.click(alice, menu, "nope")


async def test_modal_and_subcommand_group(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice")
    opened = await fd.slash(alice, "feedback")
    assert opened.response_type == 9 and opened.modal is not None
    submitted = await fd.submit_modal(alice, opened, {"text": "tasks are cheap"})
    assert submitted.original is not None and submitted.original.content == "thanks: tasks are cheap"
    quiz = await fd.slash(alice, "quiz", {"topic": "gather"}, subcommand="start")
    assert quiz.original is not None and quiz.original.content == "quiz on gather"
    with pytest.raises(ValueError, match="required"):
        await fd.slash(alice, "quiz", {}, subcommand="start")
    with pytest.raises(LookupError):
        await fd.slash(alice, "missing")


async def test_member_permissions_reach_the_bot(fd: FakeDiscord, bot: DemoBot) -> None:
    admin, member = fd.add_user("teacher", admin=True), fd.add_user("student")
    a = await fd.slash(admin, "admin")
    m = await fd.slash(member, "admin")
    assert a.original is not None and a.original.content == "manage_guild=True" and a.original.ephemeral
    assert m.original is not None and m.original.content == "manage_guild=False"


async def test_expired_token_makes_the_followup_fail(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice")
    ix = await fd.slash(alice, "slow", {"delay": 0.3})
    fd.expire_interaction(ix)
    await fd.wait_until(lambda: bot.errors, timeout=10)
    err = bot.errors[0]
    assert isinstance(err, discord.HTTPException) and err.status == 401 and err.code == 50027
    assert ix.original is not None and ix.original.loading  # never filled in


async def test_callback_rules_double_ack_and_deadline() -> None:
    async with FakeDiscord(response_deadline=0.1) as fd:
        alice = fd.add_user("alice")
        # No bot connected: answer the callbacks by hand.
        fd.world.commands[None] = [{"id": "1", "name": "ping", "type": 1, "options": [], "description": "p"}]
        first = await fd.slash(alice, "ping", wait=False)
        late = await fd.slash(alice, "ping", wait=False)
        url = f"{fd.api_base}/interactions/{first.id}/{first.token}/callback?with_response=1"
        async with aiohttp.ClientSession() as s:
            async with s.post(url, json={"type": 4, "data": {"content": "pong"}}) as r:
                body = await r.json()
                assert r.status == 200 and body["resource"]["message"]["content"] == "pong"
            async with s.post(url, json={"type": 4, "data": {"content": "again"}}) as r:
                assert r.status == 400 and (await r.json())["code"] == 40060
            await asyncio.sleep(0.5)
            late_url = f"{fd.api_base}/interactions/{late.id}/{late.token}/callback"
            async with s.post(late_url, json={"type": 5}) as r:
                assert r.status == 404 and (await r.json())["code"] == 10062


async def test_bot_sees_locale_and_uses_its_own_session(fd: FakeDiscord) -> None:
    client = DemoBot(fd.guild)
    async with running(client, fd):
        user = fd.add_user("jp", locale="ja")
        ix = await fd.slash(user, "run", {"lesson": "queues"})
        await fd.wait_until(lambda: ix.original is not None and "done" in ix.original.content)
        assert ix.original is not None and ix.original.content.endswith("(ja)")
        assert client.interactions_seen == [ix.id]


async def test_original_response_ephemeral_followup_and_delete(fd: FakeDiscord, bot: DemoBot) -> None:
    ix = await fd.slash(fd.add_user("alice"), "steps")
    original = ix.original
    assert original is not None
    await fd.wait_until(lambda: original.content.startswith("step 2"))
    assert original.content == f"step 2 of {original.id}" and not original.ephemeral
    [extra] = ix.followups
    assert extra.ephemeral and extra.deleted and extra.content == "private"
    assert [r.status for r in fd.requests_matching("GET", r"/messages/@original$")] == [200]
    assert [m.id for m in fd.messages()] == [original.id]  # deleted follow-up is gone
