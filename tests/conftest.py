"""Shared fixtures: a project on a temporary folder, synthesised audio, a Dagster instance."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

warnings.filterwarnings("ignore", category=DeprecationWarning)


@dataclass
class Project:
    """A pipeline configuration whose inbox, library and DuckDB live under tmp_path."""

    root: Path
    config_path: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def library(self) -> Path:
        return self.root / "library"

    @property
    def duckdb(self) -> Path:
        return self.root / "mir.duckdb"

    def settings(self):
        from resources.settings import PipelineSettings

        return PipelineSettings(config_path=str(self.config_path))

    def resources(self):
        from mir_assets.definitions import make_resources

        return make_resources(str(self.config_path))

    def add_audio(self, name: str, samples: np.ndarray, sr: int = 44100) -> Path:
        path = self.inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), samples, sr)
        return path


def write_config(root: Path, **overrides) -> Path:
    cfg = {
        "paths": {
            "inbox": str(root / "inbox"),
            "library": str(root / "library"),
            "duckdb": str(root / "mir.duckdb"),
            "models": str(root / "models"),
        },
        "sensor": {"stable_seconds": 0.0, "max_new_tracks_per_tick": 50, "interval_seconds": 30},
    }
    for section, values in overrides.items():
        cfg.setdefault(section, {}).update(values)
    path = root / "config" / "master_pipeline.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Project:
    for var in ("MIR_CONFIG", "MIR_INBOX", "MIR_LIBRARY", "MIR_DUCKDB"):
        monkeypatch.delenv(var, raising=False)
    root = tmp_path / "project"
    (root / "inbox").mkdir(parents=True)
    return Project(root=root, config_path=write_config(root))


@pytest.fixture
def instance(tmp_path: Path):
    from dagster import instance_for_test

    home = tmp_path / "dagster_home"
    home.mkdir()
    with instance_for_test(temp_dir=str(home)) as inst:
        yield inst


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", os.environ.get("DAGSTER_HOME", "/tmp/mir-test-dagster-home"))
