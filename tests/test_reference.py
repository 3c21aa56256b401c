"""The documentation's generated references hold every key, every configuration key and
every environment variable the code reads (mir/reference.py)."""

import re
from pathlib import Path

from pydantic import BaseModel

from mir import reference
from mir.config import MasterConfig
from mir.families import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mir", "mir_cli", "mir_assets", "resources", "sensors", "store")


def _environment_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "_vendor" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"[\"'](MIR_[A-Z_]+)[\"']", text))
            names |= set(re.findall(r"environ(?:\.get\(|\[)[\"']([A-Z_]+)[\"']", text))
    return names


def test_every_environment_variable_the_code_reads_is_documented():
    read = _environment_read_by_the_code()
    assert {"MIR_CONFIG", "MIR_EXECUTOR", "MIR_THREADS", "SPOTIFY_CLIENT_ID"} <= read
    assert read - set(reference.ENVIRONMENT) == set()
    page = reference.config_reference()
    for name in reference.ENVIRONMENT:
        assert f"| `{name}` |" in page


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel) and name != "features":
            out += _leaves(ann, f"{prefix}{name}.")
        elif name != "features":
            out.append(f"{prefix}{name}")
    return out


def test_the_configuration_reference_holds_every_key_with_its_default():
    page = reference.config_reference()
    keys = _leaves(MasterConfig)
    assert len(keys) > 100
    for key in keys:
        assert f"| `{key}` |" in page, key
    assert "| `crops.length_samples` | integer (≥ 4096) | `524288` |" in page
    assert "| `paths.inbox` | path | `data/inbox` |" in page
    assert "`$MIR_INBOX` overrides it" in page
    for family in FAMILIES:
        assert f"| `features.{family.name}` | `true` |" in page
    # every key has a meaning (a comment in config/master_pipeline.yaml or config.py)
    unexplained = [row.split("|")[1] for row in page.splitlines() if row.endswith("|  |")]
    assert unexplained == []


def test_yaml_comments_describe_the_keys_below_them(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(
        "# the section\nbeats:\n  # the tracker\n  # in two lines\n  tracker: madmom\n\n"
        "  fps: 100   # frames per second\n  min_bpm: 55\n"
    )
    assert reference.yaml_comments(config) == {
        "beats": "the section",
        "beats.tracker": "the tracker in two lines",
        "beats.fps": "frames per second",
    }
    named = tmp_path / "n.yaml"
    named.write_text("s:\n  # a below lo and b\n  a: 1\n  b: 2\n  c: 3\n")
    assert reference.yaml_comments(named) == {"s.a": "a below lo and b", "s.b": "a below lo and b"}


def test_the_feature_reference_holds_every_key_unit_range_and_model_licence():
    page = reference.feature_reference()
    for family in FAMILIES:
        assert f"\n## {family.name}\n" in page
        for feature in family.keys:
            assert f"| `{feature.key}` |" in page, feature.key
    assert "| `lufs` | number | LUFS |" in page
    assert "| `zero_crossing_rate` | number |  | 0 … 1 |" in page
    section = page.split("\n## classification\n")[1].split("\n## ")[0]
    assert "CC BY-NC-ND 4.0" in section  # the Essentia models' licence, from the manifest
    latents = page.split("\n## latents\n")[1].split("\n## ")[0]
    assert "Stability AI Community License" in latents


def test_the_readers_named_in_the_reference_are_the_code_locations():
    from mir_assets.definitions import CONSUMER_ASSETS

    assert reference.READERS == CONSUMER_ASSETS


def test_the_versions_table_is_the_lock():
    table = reference.versions_table()
    for family in FAMILIES:
        assert f"| `{family.name}` | {family.group} | {family.version} | `" in table
