"""Versioned schema migrations: MIGRATIONS[n] takes `PRAGMA user_version` from n to n + 1.

Append only; never edit a migration that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: runs, lesson progress, quizzes with their answers, study sessions
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        lesson_id TEXT NOT NULL,
        example_id TEXT NOT NULL,
        status TEXT NOT NULL,
        elapsed REAL NOT NULL,
        at REAL NOT NULL
    );
    CREATE INDEX runs_user ON runs (guild_id, user_id);
    CREATE TABLE lesson_progress (
        guild_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        lesson_id TEXT NOT NULL,
        started_at REAL NOT NULL,
        completed_at REAL,
        PRIMARY KEY (guild_id, user_id, lesson_id)
    );
    CREATE TABLE quizzes (
        id TEXT PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        state TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        updated_at REAL NOT NULL
    );
    CREATE TABLE answers (
        quiz_id TEXT NOT NULL,
        question_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        guild_id INTEGER NOT NULL,
        answer TEXT NOT NULL,
        at REAL NOT NULL,
        changes INTEGER NOT NULL DEFAULT 0,
        correct INTEGER,
        points INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (quiz_id, question_id, user_id)
    );
    CREATE INDEX answers_board ON answers (guild_id, at);
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        guild_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        state TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        updated_at REAL NOT NULL
    );
    CREATE UNIQUE INDEX one_session_per_channel ON sessions (channel_id) WHERE active = 1
    """,
    # 2: per-user look-ups for /progress, per-example run statistics
    """
    CREATE INDEX answers_user ON answers (guild_id, user_id);
    CREATE INDEX runs_example ON runs (lesson_id, example_id)
    """,
]
