"""The Discord front-end: the only package that imports discord.  A feature lives in its own folder.

    lessons/    /lessons, /lesson: the catalogue and lesson pages
    runs/       /run, /stop: one streamed, edited message per run
    quiz/       /quiz: answer controls and forms, reveals, predict-then-run
    study/      /study start: a host walks a group through a lesson
    progress/   /progress, /leaderboard
    admin/      /help, /reload
    fallback/   a polite answer to buttons and forms no feature claims

Each feature folder is a discord.py extension: `__init__.py` has `setup(bot)`, which builds the feature's
service and adds its cog (`cog.py`); the cog registers the feature's stateless components (`components.py`)
and restores saved state when it loads, and stops its work when it unloads.  Text builders (`texts.py`,
`message.py`, `pages.py`) are pure functions; every word comes from the catalog in `bot/locales`.

Shared by every feature: `context.py` (the services, typed, without importing the client), `feature.py`
(the cogs' base), `components.py` (component plumbing), `errors.py` (the one error handler), `i18n.py`
(a member's language, command translations), `markdown.py` (safe text), `autocomplete.py`,
`permissions.py`.  `client.py` starts the bot, loads the extensions and syncs the commands; `app.py` runs
it until a signal (`bot.discord_app.app.run_discord(settings, token, catalog, runner, storage)`).
"""
