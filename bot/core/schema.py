"""The JSON Schema of a lesson file, generated from the pydantic models.

Editors use it for completion and inline errors: the lesson files start with
`# yaml-language-server: $schema=../lesson.schema.json`.  `lessons/lesson.schema.json` is committed and a
test keeps it equal to `lesson_json_schema()`; regenerate it with `python -m bot.core.schema` (after a model
change).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.core.lessons import Lesson

log = logging.getLogger(__name__)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def lesson_json_schema() -> dict[str, Any]:
    """`Lesson.model_json_schema()` with `$schema`, `title` and `description` first."""
    schema = Lesson.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "corobot lesson",
        "description": (
            "One lesson of corobot, the bot that teaches Python coroutines: one YAML file per lesson under "
            "lessons/. Text fields take a string or a mapping of language to string ({en: ..., zh-CN: ...}); "
            "unknown keys are errors."
        ),
        **schema,
    }


def schema_text() -> str:
    """The schema as written to disk: 2-space JSON, non-ASCII kept, trailing newline."""
    return json.dumps(lesson_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(), encoding="utf-8")
    log.info("wrote the lesson schema to %s", path)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0]) if args else Path("lessons/lesson.schema.json")
    write_schema(path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
