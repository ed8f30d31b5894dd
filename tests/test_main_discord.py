"""`corobot discord` (the composition root's Discord start-up) over a corrupt database: one clear line naming
the file, a non-zero exit, the file untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_corrupt_database_stops_discord_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "x.yaml").write_text("id: x\ntitle: X\nexamples:\n  - id: a\n    code: print(1)\n")
    data = tmp_path / "data"
    data.mkdir()
    db = data / "corobot.sqlite3"
    garbage = b"this is not a database at all\n" * 200
    db.write_bytes(garbage)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
    unreachable = "http://127.0.0.1:9/api/v10"
    environ.update(
        PYTHONPATH=str(REPO),
        DISCORD_TOKEN="a-token",
        COROBOT_DATA_DIR=str(data),
        COROBOT_DISCORD__API_BASE_URL=unreachable,
    )
    command = [sys.executable, "-m", "bot", "discord"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=environ, check=False)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("corobot: cannot use the database") and str(db) in last
    assert "Traceback" not in done.stderr and "a-token" not in done.stderr
    assert db.read_bytes() == garbage
