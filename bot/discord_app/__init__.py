"""The Discord front-end: the only package that imports discord.

A thin renderer of the runner's event stream.  Entry point: `bot.discord_app.app.run_discord(settings,
token, catalog, runner)`.  Layout: `client.py` (the Bot, command sync, shutdown), `runs.py` (starting and
stopping runs, rate limit), `streaming.py` (one run -> one coalesced, edited message), `render.py` /
`pages.py` (pure text), `i18n.py` (en + zh-CN strings, command translator), `errors.py` (the one error
handler), `views/` (stateless buttons), `cogs/` (app commands).
"""
