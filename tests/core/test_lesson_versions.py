"""The lesson format's Python versions: `versions`, `compare`, `expect.by_version` — and their mistakes, each
reported at its line."""

from __future__ import annotations

from pathlib import Path

from bot.core.catalog import Catalog

GOOD = """\
id: good
title: Good
examples:
  - id: compared
    versions: ["3.11", "3.12"]
    compare: true
    code: print(1)
    expect:
      output: ["1"]
      by_version:
        "3.11": {output: ["one"], note: "3.11 spells it out"}
"""

BAD = {
    "numbers.yaml": (
        'id: numbers\ntitle: N\nexamples:\n  - id: e\n    versions: [3.10, "3.12"]\n    code: print(1)\n',
        ':5:16: examples.0.versions.0: write each version in quotes, e.g. "3.12": YAML reads 3.1 as a number',
    ),
    "lonely.yaml": (
        'id: lonely\ntitle: L\nexamples:\n  - id: e\n    versions: ["3.12"]\n    compare: true\n    code: print(1)\n',
        ":6:14: examples.0.compare: a version comparison (compare: true) needs at least two `versions`",
    ),
    "stranger.yaml": (
        'id: stranger\ntitle: S\nexamples:\n  - id: e\n    versions: ["3.11"]\n    code: print(1)\n'
        '    expect:\n      by_version:\n        "3.13": {output: ["x"]}\n',
        ":9:9: examples.0.expect.by_version.3.13: expect.by_version names Python 3.13, which is not among",
    ),
    "twice.yaml": (
        'id: twice\ntitle: T\nexamples:\n  - id: e\n    versions: ["3.12", "3.12"]\n    code: print(1)\n',
        ":5:24: examples.0.versions.1: version '3.12' is listed twice",
    ),
    "shape.yaml": (
        'id: shape\ntitle: S\nexamples:\n  - id: e\n    versions: ["three"]\n    code: print(1)\n',
        ":5:16: examples.0.versions.0: ",
    ),
}


def test_versions_compare_and_by_version_load(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    catalog = Catalog(tmp_path)
    assert catalog.load().ok
    _, example = catalog.example("good", "compared")
    assert example.versions == ["3.11", "3.12"] and example.compare
    assert example.expect is not None
    on_311 = example.expect.for_version("3.11")
    assert on_311.output == ["one"] and str(on_311.note) == "3.11 spells it out"
    assert example.expect.for_version("3.12").output == ["1"] and example.expect.for_version(None).output == ["1"]


def test_each_mistake_is_reported_at_its_line_and_the_others_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    for name, (text, _) in BAD.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    catalog = Catalog(tmp_path)
    report = catalog.load()
    assert [lesson.id for lesson in catalog.lessons()] == ["good"]
    errors = {Path(error.path).name: str(error) for error in report.errors}
    assert set(errors) == set(BAD)
    for name, (_, wanted) in BAD.items():
        assert wanted in errors[name], (name, errors[name])
