"""/help and /reload through the emulator."""

from __future__ import annotations


async def test_help_is_ephemeral_and_names_the_commands(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "help")
        msg = ix.original
        assert msg is not None and msg.ephemeral
        for command in ("/lessons", "/lesson", "/run", "/stop"):
            assert command in msg.content


async def test_reload_refused_for_members_and_reports_broken_file_for_admins(make_env):
    async with make_env() as env:
        member = env.fd.add_user("member")
        admin = env.fd.add_user("admin", admin=True)
        refused = await env.fd.slash(member, "reload")
        assert refused.original is not None and refused.original.ephemeral
        assert "Manage Server" in refused.original.content
        (env.lessons / "broken.yaml").write_text("id: broken\ntitle: Broken\nexamples:\n  - id: x\n    cod: 1\n")
        ok = await env.fd.slash(admin, "reload")
        assert ok.original is not None and ok.original.ephemeral
        text = ok.original.content
        assert "broken.yaml:5" in text, text
        assert "3 lessons available" not in text and "2 lessons available" in text
