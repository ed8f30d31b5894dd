"""Every interaction gets an answer, through the emulator: a button or form no feature knows (left by an older
version, or garbled) gets a polite private reply, and a message whose buttons are all dead loses them."""

from __future__ import annotations

from tests.discord_app.env import custom_id


def button(custom: str, label: str = "Old") -> dict:
    return {"type": 1, "components": [{"type": 2, "style": 1, "label": label, "custom_id": custom}]}


async def test_a_button_from_an_older_version_is_answered_and_taken_off(make_env):
    async with make_env() as env:
        fd = env.fd
        alice, li = fd.add_user("alice"), fd.add_user("li", locale="zh-CN")
        old = fd.world.new_message(fd.channel, fd.bot_user, content="an old run message")
        old.components = [button("run-again:hello:hello"), button("legacy:stop:1")]
        ix = await fd.click(alice, old, "run-again:hello:hello")
        await fd.wait_until(lambda: bool(ix.followups))
        (note,) = ix.followups
        assert note.ephemeral and "This button is no longer active" in note.content
        assert fd.message(old.id).components == [] and fd.message(old.id).content == "an old run message"

        older = fd.world.new_message(fd.channel, fd.bot_user, content="another")
        older.components = [button("legacy:next")]
        zh = await fd.click(li, older, "legacy:next")
        await fd.wait_until(lambda: bool(zh.followups))
        assert zh.followups[0].ephemeral and "这个按钮已失效" in zh.followups[0].content


async def test_a_garbled_button_among_live_ones_is_answered_and_the_live_ones_stay(make_env):
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        page = (await fd.slash(alice, "lesson", {"lesson": "hello"})).original
        assert page is not None
        live_ids = page.custom_ids()
        garbled = "cb:lp:n:x:hello"  # the page number is not a number: no template matches it
        fd.message(page.id).components.append(button(garbled))
        ix = await fd.click(alice, page.id, garbled)
        assert ix.original is not None and ix.original.ephemeral and "no longer active" in ix.original.content
        assert set(live_ids) <= set(fd.message(page.id).custom_ids())  # the working buttons are kept
        await fd.click(alice, page.id, "cb:lp:n:1:hello")
        assert "Section 2/2" in fd.message(page.id).content


async def test_a_form_no_feature_knows_is_answered(quiz_env):
    async with quiz_env(window=30.0) as env:
        fd = env.fd
        alice = fd.add_user("alice")
        await fd.slash(alice, "quiz", {"lesson": "tasks", "count": 2})
        await fd.wait_until(lambda: bool(env.quizzes.live))
        (live,) = env.quizzes.live.values()
        env.quizzes.wake(live)
        question = await env.question(2)
        form = await fd.click(alice, question, custom_id(question, r"cq:o:"))
        assert form.modal is not None
        form.modal["custom_id"] = "legacy-form:7"  # as if an older version had opened it
        sent = await fd.submit_modal(alice, form, {"answer": "await"})
        assert sent.original is not None and sent.original.ephemeral
        assert "This form is no longer active" in sent.original.content
        assert not live.game.current.submissions


async def test_a_command_this_version_no_longer_has_is_answered(make_env):
    async with make_env() as env:
        fd = env.fd
        li = fd.add_user("li", locale="zh-CN")
        ghost = {"id": "1", "name": "runs", "type": 1, "options": [], "guild_id": str(fd.guild)}  # renamed since
        ix = fd.interactions.new(li, 2, ghost, channel_id=fd.channel)
        await fd.dispatch("INTERACTION_CREATE", ix.payload)
        await ix.wait_response(10)
        assert ix.original is not None and ix.original.ephemeral
        assert "这个命令已经改变" in ix.original.content
