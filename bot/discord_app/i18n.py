"""The Discord side of the text catalog (`bot/locales`): a member's language, and command translations.

`t(locale, id, **params)` formats a catalog message for a Discord locale (`zh-CN`/`zh-TW` -> Chinese, every
other locale -> English).  Command names, descriptions, option names and choices are declared with `ls(id)`
(the English text, with the id in its extras) and translated by `CatalogTranslator`, which discord.py asks
for every locale when it builds the command payload.  `error_text` words any `CorobotError` for a member.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.core.errors import CorobotError
from bot.discord_app.markdown import inline_code
from bot.locales import SOURCE, language_of, messages, wording

Locale = discord.Locale | str | None


def lesson_locale(locale: Locale) -> str:
    """The locale tag handed to `Text.get` for lesson text (`zh-CN` -> zh-CN, zh, en)."""
    if isinstance(locale, discord.Locale):
        return locale.value
    return locale or SOURCE


def t(locale: Locale, msgid: str, **params: object) -> str:
    """The catalog message `msgid` in the member's language, filled with `params`."""
    return messages().text(language_of(lesson_locale(locale)), msgid, **params)


def ls(msgid: str) -> app_commands.locale_str:
    """A command string: its English text (what Discord shows by default) and its catalog id."""
    return app_commands.locale_str(messages().text(SOURCE, msgid), id=msgid)


def error_text(error: CorobotError, locale: Locale) -> str:
    """A domain error in the member's language; what it quotes cannot break out of its inline code."""
    return wording.error_text(error, lesson_locale(locale), inline_code)


class CatalogTranslator(app_commands.Translator):
    """Command names, descriptions, option names and choices in Chinese for Chinese clients."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        msgid = string.extras.get("id")
        if not isinstance(msgid, str) or msgid not in messages().ids:
            return None
        language = language_of(locale.value)
        return None if language == SOURCE else messages().text(language, msgid)
