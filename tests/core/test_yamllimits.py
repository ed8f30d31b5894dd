"""Hostile YAML costs bounded work: each limit with a file built to break it, reported as file:line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.core.catalog import Catalog
from bot.core.errors import LessonError
from bot.core.lesson_files import read_lesson
from bot.core.yamllimits import LIMITS, Builder, YamlLimits
from bot.core.yamlsource import load_yaml

REPO = Path(__file__).resolve().parents[2]

GOOD = "id: good\ntitle: Good\nexamples:\n  - id: e\n    code: print(1)\n"


def laughs(levels: int = 9, width: int = 9, *, merge: bool = False) -> str:
    """The 'billion laughs' file: each level repeats the previous one `width` times through aliases."""
    lines = ["id: laughs", 'title: &l0 "lol"']
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        if merge:  # the merge-key variant: PyYAML copies every merged pair into the mapping
            lines.append(f"k{level}: &l{level} {{<<: [{refs}], x{level}: 1}}" if level > 1 else "k1: &l1 {a: 1}")
        else:
            lines.append(f"k{level}: &l{level} [{refs}]")
    lines.append(f"examples: *l{levels}")
    return "\n".join(lines) + "\n"


def build(text: str, limits: YamlLimits = LIMITS) -> tuple[Builder, yaml.YAMLError | None]:
    """Compose `text` and build its data: the builder (for its counters) and the error it stopped with."""
    loader = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
    builder = Builder(loader, limits)
    try:
        builder.build(loader.get_single_node())
    except yaml.YAMLError as exc:
        return builder, exc
    finally:
        loader.dispose()
    return builder, None


def test_billion_laughs_stops_at_the_first_value_past_the_budget_having_built_almost_nothing() -> None:
    text = laughs()
    assert len(text.encode()) < 800  # a few hundred bytes that expand to 9**9 values
    with pytest.raises(LessonError) as caught:
        load_yaml(text, "laughs.yaml")
    # level 5 holds 9**5 = 59,049 > 50,000 values: reported on its line
    assert str(caught.value) == (
        "laughs.yaml:7:5: more than 50,000 values here once its aliases (*name) are expanded, the limit for one file"
    )
    builder, error = build(text)
    assert error is not None
    assert builder.values < 60  # structure, not time: each node is built once however often it is repeated


def test_billion_laughs_through_merge_keys_is_caught_before_pyyaml_copies_the_pairs() -> None:
    with pytest.raises(LessonError, match=r"laughs.yaml:\d+:\d+: more than 50,000 values here"):
        load_yaml(laughs(merge=True), "laughs.yaml")
    # a small merge still means what it means in YAML
    data, _ = load_yaml("base: &b {a: 1, b: 2}\nmine: {<<: *b, b: 3}\n", "f.yaml")
    assert data["mine"] == {"a": 1, "b": 3}


def test_the_billion_laughs_file_does_not_stall_the_cli_and_the_other_lessons_load(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "good.yaml").write_text(GOOD)
    (lessons / "laughs.yaml").write_text(laughs())
    env = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_") and k != "DISCORD_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--lessons", str(lessons), "lessons", "list"],
        capture_output=True,
        text=True,
        timeout=60,  # generous: before the limits this file ran for minutes at full CPU
        cwd=tmp_path,
        env={**env, "COROBOT_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("good  Good")
    assert f"{lessons / 'laughs.yaml'}:7:5: more than 50,000 values" in done.stderr


def test_nesting_deeper_than_the_limit_names_the_line() -> None:
    text = "id: deep\nexamples:\n" + "".join("  " * (i + 1) + f"- k{i}:\n" for i in range(40))
    with pytest.raises(LessonError) as caught:
        load_yaml(text, "deep.yaml")
    assert "values nested more than 32 levels deep, the limit" in caught.value.message
    assert caught.value.line is not None and 10 < caught.value.line < 40
    # flow style too, and beyond what libyaml itself accepts (1000 levels) it is libyaml's error
    with pytest.raises(LessonError, match="nested more than 32 levels"):
        load_yaml("a: " + "[" * 100 + "]" * 100 + "\n", "deep.yaml")
    with pytest.raises(LessonError, match=r"deep.yaml:1:\d+: invalid YAML: .*exceeded maximum nesting depth"):
        load_yaml("a: " + "[" * 5000 + "]" * 5000 + "\n", "deep.yaml")


def test_too_many_values_without_any_alias() -> None:
    text = "id: big\nitems:\n" + "- a\n" * 50_001
    assert len(text) < LIMITS.max_bytes
    with pytest.raises(LessonError) as caught:
        load_yaml(text, "big.yaml")
    assert str(caught.value) == (
        "big.yaml:3:1: more than 50,000 values here once its aliases (*name) are expanded, the limit for one file"
    )
    small = YamlLimits(max_values=10)
    with pytest.raises(LessonError, match="more than 10 values"):
        load_yaml("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", "f.yaml", small)
    assert load_yaml("[1, 2, 3, 4, 5, 6, 7, 8, 9]\n", "f.yaml", small)[0] == list(range(1, 10))


def test_too_many_alias_uses() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 1_001) + "]\n"
    with pytest.raises(LessonError) as caught:
        load_yaml(text, "aliases.yaml")
    assert str(caught.value) == "aliases.yaml:2:4: more than 1,000 aliases (*name) in one file, the limit"
    builder, error = build("a: &a x\nb: [" + ", ".join(["*a"] * 1_000) + "]\n")
    assert error is None and builder.aliases == 1_000


def test_a_recursive_alias_is_an_error_not_an_endless_structure() -> None:
    with pytest.raises(LessonError, match=r"f.yaml:1:\d+: an alias here refers to a value that contains it"):
        load_yaml("a: &a {b: *a}\n", "f.yaml")
    with pytest.raises(LessonError, match="recursive alias"):
        load_yaml("&a [1, *a]\n", "f.yaml")


def test_a_file_over_the_size_limit_is_reported_where_it_crosses_and_never_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = "# " + "x" * 97 + "\n"  # 100 bytes a line
    path.write_text(GOOD + line * (LIMITS.max_bytes // 100 + 10))
    parsed = read_lesson(path)
    assert parsed.lesson is None
    [error] = parsed.errors
    assert error.line == GOOD.count("\n") + (LIMITS.max_bytes - len(GOOD)) // 100 + 1
    assert error.message.startswith("the file is larger than 512 KiB, the limit for one file")
    # a sparse 64 GiB file: only the first max_bytes + 1 bytes are read, or this would not end
    sparse = tmp_path / "sparse.yaml"
    with sparse.open("wb") as out:
        out.truncate(64 << 30)
    assert "the file is larger than 512 KiB" in read_lesson(sparse).errors[0].message


def test_the_limits_apply_to_load_yaml_text_too() -> None:
    with pytest.raises(LessonError, match=r"f.yaml:205: the file is larger than 1 KiB"):
        load_yaml("a: 1\n" * 250, "f.yaml", YamlLimits(max_bytes=1024))  # 5 bytes a line: 1024 is on 205


def test_hostile_files_cost_nothing_to_the_rest_of_the_catalog(tmp_path: Path) -> None:
    root = tmp_path / "lessons"
    root.mkdir()
    (root / "a-good.yaml").write_text(GOOD)
    (root / "laughs.yaml").write_text(laughs())
    (root / "deep.yaml").write_text("a: " + "[" * 40 + "]" * 40 + "\n")
    deep_code = "x = " + "1+" * 100_000 + "1"
    (root / "code.yaml").write_text(GOOD.replace("id: good", "id: code").replace("print(1)", deep_code))
    catalog = Catalog(root)
    report = catalog.load()
    assert [lesson.id for lesson in catalog.lessons()] == ["good"]
    messages = {Path(e.path).name: e.message for e in report.errors}
    assert messages["laughs.yaml"].startswith("more than 50,000 values")
    assert messages["deep.yaml"].startswith("values nested more than 32 levels")
    assert messages["code.yaml"] == "examples.0.code: the code is nested too deeply for Python to compile"


def test_the_builder_means_what_pyyaml_means() -> None:
    text = (
        "a: [1, 1.5, .inf, -2, 0x1f, 0o17, 1_000, 1:30, yes, No, ~, null, '', 2024-01-02, '5', !!str 5, -]\n"
        "b: !!set {x, y}\nc: !!binary aGVsbG8=\nd: {1: 2, false: 3}\ne: !!omap [{a: 1}]\n"
        "f: {<<: {k: 1, j: 0}, j: 2}\ng: &s shared\nh: [*s, *s]\n"
    )
    expected = yaml.load(text, Loader=yaml.SafeLoader)
    data, _ = load_yaml(text, "f.yaml")
    assert repr(data) == repr(expected)
    with pytest.raises(LessonError, match=r"f.yaml:3:1: invalid YAML: while constructing a mapping found duplicate"):
        load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    with pytest.raises(LessonError, match="found unhashable key"):
        load_yaml("{[1]: 2}\n", "f.yaml")
    with pytest.raises(LessonError, match="could not determine a constructor"):
        load_yaml("a: !!python/object/apply:os.system [echo]\n", "f.yaml")
