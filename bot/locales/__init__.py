"""The one text catalog of every front-end: gettext `.po` files, read with Babel.

    bot/locales/en/LC_MESSAGES/corobot.po       English, the source language
    bot/locales/zh-CN/LC_MESSAGES/corobot.po    Simplified Chinese

Message ids are symbolic (`quiz.window_closed`, `console.help`); texts are `str.format` templates (`{count}`).
An entry with a `msgid_plural` is a plural message: `text()` picks its form from the `count` parameter with
the language's own plural rule (English has two forms, Chinese one).

The `.po` files are the only thing anyone edits.  `Messages.load()` reads them with Babel and compiles them in
memory with Babel's `.mo` writer into `gettext` translations (≈ 30 ms once, at start-up), so no compiled
file is committed that could fall out of step with its source.  A language lacking an id falls back to
English; `tests/locales/test_catalog.py` refuses that for the shipped languages.

`messages()` is the catalog of the installed package, loaded once: read-only data like a module constant.
`t(language, id, **params)` is the short form every front-end uses.
"""

from __future__ import annotations

import functools
import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent
DOMAIN = "corobot"
SOURCE = "en"
LANGUAGES = ("en", "zh-CN")


def po_path(language: str, root: Path = ROOT) -> Path:
    return root / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def language_of(tag: str | None) -> str:
    """The catalog language for a locale tag: any Chinese (`zh`, `zh-CN`, `zh-TW`, `zh_Hans`) -> zh-CN, else en."""
    return "zh-CN" if (tag or "").lower().replace("_", "-").startswith("zh") else SOURCE


@dataclass(frozen=True)
class Messages:
    """Every shipped language of the catalog, ready to format."""

    translations: Mapping[str, gettext.GNUTranslations]
    plural_ids: frozenset[str]
    ids: frozenset[str]  # the source language's ids: every id a front-end may use

    @classmethod
    def load(cls, root: Path = ROOT, languages: tuple[str, ...] = LANGUAGES) -> Messages:
        translations: dict[str, gettext.GNUTranslations] = {}
        plural_ids: set[str] = set()
        ids: set[str] = set()
        for language in languages:
            with po_path(language, root).open("rb") as source:
                catalog = read_po(source, locale=language.replace("-", "_"), domain=DOMAIN)
            compiled = io.BytesIO()
            write_mo(compiled, catalog)
            compiled.seek(0)
            translations[language] = gettext.GNUTranslations(compiled)
            if language == SOURCE:
                for message in catalog:
                    if message.id:
                        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
                        ids.add(key)
                        if message.pluralizable:
                            plural_ids.add(key)
        source_translation = translations[SOURCE]
        for language, translation in translations.items():
            if language != SOURCE:
                translation.add_fallback(source_translation)
        return cls(translations, frozenset(plural_ids), frozenset(ids))

    def text(self, language: str, msgid: str, **params: object) -> str:
        """The message `msgid` in `language` (falling back to English), filled with `params`."""
        translation = self.translations.get(language) or self.translations[SOURCE]
        if msgid in self.plural_ids:
            count = params.get("count")
            if not isinstance(count, int):
                raise TypeError(f"the plural message {msgid!r} needs an integer count, got {count!r}")
            template = translation.ngettext(msgid, msgid, count)
        else:
            template = translation.gettext(msgid)
        return template.format(**params)


@functools.cache
def messages() -> Messages:
    """The installed package's catalog (read on first use; `CorobotBot` and the console load it at start)."""
    return Messages.load()


def t(language: str | None, msgid: str, **params: object) -> str:
    """`msgid` in the catalog language for `language` (any locale tag), filled with `params`."""
    return messages().text(language_of(language), msgid, **params)
