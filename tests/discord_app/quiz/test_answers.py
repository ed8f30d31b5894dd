"""What members hit when they answer, through the emulator: errors in the member's language, an answer that does
not fit the question, a button for a choice that is no longer there, input far longer than anyone should type."""

from __future__ import annotations

from tests.discord_app.env import QuizEnv, custom_id
from tests.fakediscord import FakeInteraction, FakeMessage, FakeUser

FORMS = """\
id: forms
title: {en: Forms, zh-CN: 表单}
examples:
  - id: two
    code: |
      print("Hello")
      print("World")
quiz:
  - id: order
    type: predict_output
    prompt: {en: In which order?, zh-CN: 按什么顺序？}
    explanation: {en: Hello first., zh-CN: 先 Hello。}
    answer: [Hello, World]
  - id: seconds
    type: predict_time
    prompt: {en: How long?, zh-CN: 多久？}
    explanation: {en: No sleep at all., zh-CN: 完全没有等待。}
    answer: 0.0
    tolerance: 0.5
"""


async def forms_quiz(env: QuizEnv, starter: FakeUser) -> None:
    (env.catalog.root / "forms.yaml").write_text(FORMS, encoding="utf-8")
    assert env.catalog.refresh().ok
    await env.fd.slash(starter, "quiz", {"lesson": "forms"})


async def answer_in_form(env: QuizEnv, user: FakeUser, question: FakeMessage, text: str) -> FakeInteraction:
    form = await env.fd.click(user, question, custom_id(question, r"cq:o:"))
    assert form.modal is not None
    return await env.fd.submit_modal(user, form, {"answer": text})


def close_window(env: QuizEnv) -> None:
    """End the open question's window now (the quiz reveals it and moves on)."""
    (live,) = env.quizzes.live.values()
    env.quizzes.wake(live)


def reply(ix: FakeInteraction) -> str:
    assert ix.original is not None and ix.original.ephemeral, ix
    return ix.original.content


async def test_a_chinese_member_hears_why_an_answer_does_not_fit_in_chinese(quiz_env):
    async with quiz_env(window=30.0, gap=0.1) as env:
        li, alice = env.fd.add_user("li", locale="zh-CN"), env.fd.add_user("alice")
        await forms_quiz(env, alice)
        order = await env.question(1)
        zh = reply(await answer_in_form(env, li, order, "first Hello then World"))
        assert "不是有效的答案：请输入 1 到 2 之间的编号" in zh and "`first Hello then World`" in zh
        en = reply(await answer_in_form(env, alice, order, "3 1"))
        assert "is not an answer here: type numbers from 1 to 2" in en
        done = await answer_in_form(env, li, order, "1 2")
        assert "你的答案" in reply(done)

        close_window(env)
        seconds = await env.question(2)
        zh = reply(await answer_in_form(env, li, seconds, "很快"))
        assert "`很快` 不是秒数" in zh and "1.5" in zh
        en = reply(await answer_in_form(env, alice, seconds, "soon"))
        assert "`soon` is not a number of seconds" in en


async def test_a_button_for_a_choice_that_is_gone_names_the_choices(quiz_env):
    async with quiz_env(window=30.0) as env:
        li, alice = env.fd.add_user("li", locale="zh-CN"), env.fd.add_user("alice")
        await env.fd.slash(alice, "quiz", {"lesson": "tasks", "count": 1})
        question = await env.question(1)
        stale = custom_id(question, r"cq:c:\w+:0:0$")[:-1] + "7"  # as if the lesson had lost choices
        button = {"type": 2, "style": 1, "label": "8", "custom_id": stale}
        env.fd.message(question.id).components.append({"type": 1, "components": [button]})
        en = reply(await env.fd.click(alice, question.id, stale))
        assert "That is not one of this question's choices. The choices are: `0.3 s`, `0.6 s`, `1 s`." in en
        zh = reply(await env.fd.click(li, question.id, stale))
        assert "这不是本题的选项。选项有：`0.3 s`, `0.6 s`, `1 s`。" in zh
        (live,) = env.quizzes.live.values()
        assert not live.game.current.submissions  # nothing recorded


async def test_an_answer_thousands_of_characters_long_is_quoted_as_a_short_prefix(quiz_env):
    async with quiz_env(window=30.0, gap=0.1) as env:
        alice = env.fd.add_user("alice")
        await forms_quiz(env, alice)
        await env.question(1)
        close_window(env)
        seconds = await env.question(2)
        text = reply(await answer_in_form(env, alice, seconds, "9" * 5000 + " minutes"))  # a client ignoring limits
        assert len(text) <= 2000 and "is not a number of seconds" in text
        quoted = text.split("`")[1]
        assert quoted.startswith("999") and len(quoted) <= 60 and quoted.endswith("…")


PICKS = """\
id: picks
title: Picks
examples:
  - id: two
    code: print("hi")
quiz:
  - id: which
    type: choice
    prompt: Which run concurrently?
    explanation: gather and create_task schedule both.
    choices: [gather, create_task, sequential await]
    answer: [gather, create_task]
  - id: seconds
    type: predict_time
    prompt: How long?
    explanation: Half a second.
    choices: [0.5, 1.0]
    answer: 0.5
"""


async def test_several_choices_in_a_menu_and_seconds_on_buttons(quiz_env):
    async with quiz_env(window=30.0, gap=0.1) as env:
        fd = env.fd
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        (env.catalog.root / "picks.yaml").write_text(PICKS, encoding="utf-8")
        assert env.catalog.refresh().ok
        await fd.slash(alice, "quiz", {"lesson": "picks"})
        menu = await env.question(1)
        select = custom_id(menu, r"cq:s:")
        picked = await fd.click(alice, menu, select, values=["1", "0"])
        assert "Your answer: **`gather + create_task`**" in reply(picked)
        await fd.click(bob, menu, select, values=["2"])
        close_window(env)
        reveal = await env.wait_message("**Question 1/2**")
        assert f"<@{alice.id}> +10" in reveal.content and f"<@{bob.id}>" not in reveal.content
        buttons = await env.question(2)
        assert [b["label"] for row in buttons.components for b in row["components"]] == ["0.5 s", "1 s"]
        answered = await fd.click(bob, buttons, custom_id(buttons, r"cq:c:\w+:1:0$"))
        assert "Your answer: **`0.5 s`**" in reply(answered)


async def test_a_database_fault_is_told_in_general_terms_in_the_member_s_language(quiz_env):
    async with quiz_env(window=30.0) as env:
        alice, li = env.fd.add_user("alice"), env.fd.add_user("li", locale="zh-CN")
        await env.fd.slash(alice, "quiz", {"lesson": "tasks", "count": 1})
        question = await env.question(1)
        await env.storage.close()  # the database goes away under the bot
        text = reply(await env.fd.click(li, question, custom_id(question, r"cq:c:\w+:0:0$")))
        assert text == "暂时无法连接 corobot 的数据库。请稍后再试。"
        assert str(env.db_path) not in text
        await env.storage.open()  # back, so the bot can stop cleanly
