from tests.fakediscord import FakeDiscord

from .conftest import DemoBot


async def test_login_and_slash(fd: FakeDiscord, bot: DemoBot) -> None:
    assert bot.user is not None and bot.user.id == fd.application_id
    alice = fd.add_user("alice", locale="de")
    ix = await fd.slash(alice, "run", {"lesson": "hello", "repeat": 2})
    assert ix.response_type == 5
    await fd.wait_until(lambda: ix.original is not None and ix.original.content.startswith("done"))
    assert ix.original is not None
    assert ix.original.content == "done hello x2 (de)"
