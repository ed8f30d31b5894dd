"""The text catalog (`bot/locales`): complete in every shipped language, every id the code uses exists and every
entry is used, the calls pass the placeholders their texts need, and no user-facing text lives outside it."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.locales import LANGUAGES, SOURCE, Messages, language_of, messages, po_path

BOT = Path(__file__).resolve().parents[2] / "bot"
FRONT_ENDS = [BOT / "discord_app", BOT / "console", BOT / "locales"]
ID = re.compile(r"^[a-z][a-z_]*(?:\.[a-z0-9_]+)+$")


def plural_forms(language: str) -> int:
    """How many plural forms the language has (Babel's CLDR data): English 2, Chinese 1."""
    with po_path(language).open("rb") as source:
        return read_po(source, locale=language.replace("-", "_")).num_plurals


def entries(language: str) -> dict[str, tuple[str, ...] | str]:
    """id -> its text, or a tuple with one text per plural form for a plural message."""
    with po_path(language).open("rb") as source:
        catalog = read_po(source, locale=language.replace("-", "_"))
    out: dict[str, tuple[str, ...] | str] = {}
    for message in catalog:
        if message.id:
            assert not message.fuzzy, (language, message.id)
            key = message.id[0] if message.pluralizable else message.id
            out[key] = tuple(message.string) if message.pluralizable else message.string
    return out


def texts_of(entry: tuple[str, ...] | str) -> tuple[str, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


def is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def fields(template: str) -> set[tuple[str, str]]:
    """The placeholders of a `str.format` template with their format specs: {("count", ""), ("t", ".3f")}."""
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


SOURCE_ENTRIES = entries(SOURCE)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_id_is_in_every_shipped_language_with_the_same_placeholders(language: str) -> None:
    found, forms = entries(language), plural_forms(language)
    assert sorted(set(SOURCE_ENTRIES) - set(found)) == [], f"missing in {language}"
    assert sorted(set(found) - set(SOURCE_ENTRIES)) == [], f"unknown ids in {language}"
    for msgid, entry in found.items():
        source = SOURCE_ENTRIES[msgid]
        assert isinstance(entry, tuple) == isinstance(source, tuple), (language, msgid, "plural in one language only")
        if isinstance(entry, tuple):
            assert len(entry) == forms, (language, msgid, "one text per plural form")
            assert all("{count" in text for text in entry), (language, msgid, "a plural text shows its count")
        wanted = fields(texts_of(source)[0])
        for text in texts_of(entry):
            assert text.strip(), (language, msgid, "empty")
            assert fields(text) == wanted, (language, msgid, text)


def test_plural_messages_pick_the_language_s_form_and_missing_ids_fall_back_to_english(tmp_path: Path) -> None:
    assert (plural_forms("en"), plural_forms("zh-CN")) == (2, 1)
    catalog = messages()
    assert catalog.text("en", "run.stopped", count=1) == "Stopping 1 run."
    assert catalog.text("en", "run.stopped", count=2) == "Stopping 2 runs."
    assert catalog.text("zh-CN", "run.stopped", count=1) == "正在停止 1 个运行。"
    assert catalog.text("zh-CN", "run.stopped", count=2) == "正在停止 2 个运行。"  # Chinese has one form
    with pytest.raises(TypeError):
        catalog.text("en", "run.stopped")  # a plural message needs its count
    assert language_of("zh-TW") == language_of("zh") == "zh-CN" and language_of("fr") == language_of(None) == "en"
    # a catalog whose Chinese file lacks an entry: English shows instead of the id
    for language in LANGUAGES:
        target = po_path(language, tmp_path)
        target.parent.mkdir(parents=True)
        text = po_path(language).read_text(encoding="utf-8")
        if language != SOURCE:
            text = re.sub(r'\nmsgid "run\.stop"\nmsgstr "[^"]*"\n', "\n", text)
        target.write_text(text, encoding="utf-8")
    trimmed = Messages.load(tmp_path)
    assert trimmed.text("zh-CN", "run.stop") == "Stop" and trimmed.text("zh-CN", "run.again") == "再运行一次"


# --- the code's side --------------------------------------------------------------------------------------


def modules(*roots: Path) -> Iterator[tuple[Path, ast.Module]]:
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def id_constants() -> dict[str, list[str]]:
    """Every string constant in bot/ that names a catalog namespace (`quiz.`, `run.` ...): id -> where."""
    namespaces = {msgid.split(".")[0] for msgid in SOURCE_ENTRIES}
    found: dict[str, list[str]] = {}
    for path, tree in modules(BOT):
        for node in ast.walk(tree):
            if is_str(node) and ID.match(node.value) and node.value.split(".")[0] in namespaces:
                found.setdefault(node.value, []).append(f"{path.relative_to(BOT.parent)}:{node.lineno}")
    return found


def test_every_id_the_code_names_exists_and_every_entry_is_used() -> None:
    named = id_constants()
    unknown = {msgid: where for msgid, where in named.items() if msgid not in SOURCE_ENTRIES}
    assert not unknown, f"ids the code uses but the catalog lacks: {unknown}"
    unused = sorted(set(SOURCE_ENTRIES) - set(named))
    assert not unused, f"catalog entries nothing uses: {unused}"


TEXT_CALLS = {"t", "say"}  # t(locale, id, **params); ConsoleQuiz.say(id, style, **params)
ERROR_CALLS = {"QuizError", "InvalidAnswer", "SessionError"}  # core errors: Class("id", **params)


def literal_calls() -> Iterator[tuple[str, str, set[str], str]]:
    """(id, kind, keyword names passed, where) for every call that names a message with a literal id."""
    for path, tree in modules(BOT):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            where = f"{path.relative_to(BOT.parent)}:{node.lineno}"
            if any(k.arg is None for k in node.keywords):
                continue  # **params: checked where they are built
            keywords = {k.arg for k in node.keywords if k.arg}
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            ids = [a for a in args if ID.match(a) and a in SOURCE_ENTRIES]
            if name in TEXT_CALLS | ERROR_CALLS and ids:
                yield ids[0], name, keywords, where
            message_id = next((k.value for k in node.keywords if k.arg == "message_id"), None)
            if isinstance(message_id, ast.Constant) and isinstance(message_id.value, str):
                params = next((k.value for k in node.keywords if k.arg == "params"), None)
                keys = set()
                if isinstance(params, ast.Dict):
                    keys = {k.value for k in params.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                yield message_id.value, "message_id", keys, where


def test_calls_pass_every_placeholder_their_text_needs() -> None:
    checked = 0
    for msgid, _kind, keywords, where in literal_calls():
        needed = {name for name, _ in fields(texts_of(SOURCE_ENTRIES[msgid])[0])}
        if msgid in messages().plural_ids:
            needed.add("count")
        missing = needed - keywords
        assert not missing, f"{where}: {msgid} needs {sorted(missing)}"
        checked += 1
    assert checked > 150  # the scan sees the calls (a broken scan would check nothing)


# --- no user-facing text outside the catalog -----------------------------------------------------------------

PROSE = re.compile(r"\b[A-Za-z]{2,}[,;:.]? +[A-Za-z]{2,}\b|[\u4e00-\u9fff]")
WORD = re.compile(r"[A-Za-z]{2,}|[\u4e00-\u9fff]")
STYLE_WORDS = {"bold", "dim", "italic", "red", "green", "yellow", "cyan"}
LOGGING = {"debug", "info", "warning", "error", "exception", "critical"}
SINKS = {"send", "send_message", "edit", "edit_message", "edit_original_response", "send_ephemeral", "print"}
WIDGETS = {"Button", "Select", "SelectOption", "TextInput", "Choice", "Text", "Markdown", "Rule"}
SHOWN_KEYWORDS = {"content", "label", "placeholder", "title", "description"}  # in any call


def _is_style(text: str) -> bool:
    return bool(text) and set(text.split()) <= STYLE_WORDS


def exempt_nodes(tree: ast.Module) -> set[int]:
    """Nodes whose strings are not shown to members: docstrings, log messages, internal exceptions' messages,
    rich style names, type expressions, custom-id templates (module constants in capitals)."""
    skip: set[int] = set()

    def under(node: ast.AST) -> None:
        skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and is_str(body[0].value):
            under(body[0])
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in LOGGING and getattr(func.value, "id", "") == "log":
                under(node)
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name.endswith(("Error", "Exception")) and name not in {"QuizError", "SessionError", "CorobotError"}:
                under(node)
            if name in {"cast", "TypeVar"}:
                under(node)
            for keyword in node.keywords:
                if keyword.arg in {"style", "name"} and name not in WIDGETS:
                    under(keyword)
                if keyword.arg == "style":
                    under(keyword)
        if isinstance(node, ast.Subscript):
            under(node)
        constant = isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id.isupper() for t in node.targets
        )
        if constant and isinstance(node.value, ast.Constant | ast.JoinedStr):  # custom-id templates: RUN = r"cb:…"
            under(node)
    return skip


def prose_literals(tree: ast.Module) -> Iterator[tuple[int, str]]:
    skip = exempt_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.Constant) or not isinstance(node.value, str):
            continue
        if PROSE.search(node.value) and not _is_style(node.value):  # is_str checked above
            yield node.lineno, node.value


def test_no_prose_in_front_end_code_outside_the_catalog() -> None:
    found = [
        f"{path.relative_to(BOT.parent)}:{line}: {text!r}"
        for path, tree in modules(*FRONT_ENDS)
        for line, text in prose_literals(tree)
    ]
    assert not found, "user-facing text belongs in bot/locales/*.po:\n" + "\n".join(found)


def test_what_is_shown_is_never_a_literal_word() -> None:
    """At the sinks (messages, labels, console output) an argument is a catalog text or computed, never a
    literal with a word in it: catches single words (`"Hint"`) the prose scan lets through."""
    found: list[str] = []
    for path, tree in modules(BOT / "discord_app", BOT / "console"):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            shown = [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
            if name in SINKS | WIDGETS:
                shown += list(node.args) + [k.value for k in node.keywords if k.arg == "name"]
            for value in shown:
                parts = value.values if isinstance(value, ast.JoinedStr) else [value]
                for part in parts:
                    if is_str(part) and WORD.search(part.value) and not _is_style(part.value):
                        found.append(f"{path.relative_to(BOT.parent)}:{node.lineno}: {part.value!r}")
    assert not found, "shown text must come from the catalog:\n" + "\n".join(found)
