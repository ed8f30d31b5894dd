"""config.example.yaml documents every setting with its default: keep it true."""

from pathlib import Path

from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_loads_and_equals_the_defaults() -> None:
    assert load_settings(ROOT / "config.example.yaml", environ={}) == Settings()


def _leaf_keys(model: type, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():  # type: ignore[attr-defined]
        annotation = field.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys |= _leaf_keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_example_config_mentions_every_setting() -> None:
    import yaml

    data = yaml.safe_load((ROOT / "config.example.yaml").read_text(encoding="utf-8"))

    def flatten(node: dict, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for key, value in node.items():
            if isinstance(value, dict):
                out |= flatten(value, f"{prefix}{key}.")
            else:
                out.add(f"{prefix}{key}")
        return out

    assert _leaf_keys(Settings) == flatten(data)
