"""A feature is one module: a file outside the project, named by one line of the config,
becomes an asset with its keys in DuckDB, `.INFO`, the crops, the statistics, the range
check and the UI metadata, and is backfilled over tracks processed before it existed."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import pytest
import soundfile as sf

from mir.config import config_from_dict
from mir.errors import ConfigError
from mir.synth import render_song
from tests.conftest import write_config
from tests.dagster_dev import ROOT
from tests.test_cli import _mir, asset_table

SR = 44100
#: a quick pipeline that still makes crops, a dataset and statistics
LIGHT = {
    "stems": False, "timbral_features": False, "chords": False, "classification": False,
    "aesthetics": False, "drum_transcription": False, "pitch_transcription": False,
    "track_metadata": False, "rhythm_features": False, "harmonic_features": False,
    "spectral_features": False, "track_timeseries": False, "audio_quality": False,
}  # fmt: skip

FEATURE_MODULE = '''
"""Crest factor: how far the mix's peak stands above its RMS level."""

import numpy as np

from mir.family import Family, Feature, Track


def crest_factor(track: Track) -> dict:
    """`crest_factor_db` of the 44.1 kHz mono mix (dB)."""
    y = track.audio.mono(44100).astype(np.float64)
    rms = float(np.sqrt(np.mean(y**2)))
    if rms == 0.0:
        return {"crest_factor_db": None}  # digital silence: undefined
    return {"crest_factor_db": float(20 * np.log10(np.max(np.abs(y)) / rms))}


FAMILY = Family(
    name="crest_factor",
    group="loudness",
    version="1",
    keys=(Feature("crest_factor_db", 0, 200, "dB", "peak level of the mix above its RMS level"),),
    compute=crest_factor,
    kinds={"numpy", "duckdb"},
)
'''

DESCRIBE = """
import json
from dagster import AssetKey
from mir_assets.definitions import defs
graph = defs().resolve_asset_graph()
node = graph.get(AssetKey("crest_factor"))
print(json.dumps({
    "keys": str(node.metadata["keys"].value),
    "group": node.group_name,
    "checks": sorted(k.name for k in node.check_keys),
    "children": sorted(k.path[-1] for k in node.child_keys),
}))
"""


def _crest_db(y: np.ndarray) -> float:
    y = y.astype(np.float64)
    return float(20 * np.log10(np.max(np.abs(y)) / np.sqrt(np.mean(y**2))))


def test_a_feature_module_is_one_file_and_one_line_and_is_backfilled(project, tmp_path):
    songs = {  # track id: song ("01 - One.wav" becomes the track "One")
        "One": render_song(bpm=120, bars=8, tonic="A", scale="minor", seed=1),
        "Two": render_song(bpm=96, bars=8, tonic="D", scale="major", seed=2),
    }
    for number, (name, song) in enumerate(songs.items(), 1):
        path = project.inbox / f"{number:02d} - {name}.wav"
        sf.write(str(path), song.mix.mean(axis=1), SR, subtype="FLOAT")
    crops = {"length_samples": 4 * SR}
    write_config(project.root, features=LIGHT, crops=crops)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    env.pop("MIR_CONFIG", None)
    first = _mir("run", "--config", str(project.config_path), env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert asset_table(first.stdout)["training_crops"]["ok"] == "2"

    # the user's one file, and one line of config
    (project.root / "features").mkdir()
    (project.root / "features" / "crest_factor.py").write_text(FEATURE_MODULE)
    with project.config_path.open("a") as f:
        f.write("feature_modules: [features/crest_factor.py]\n")
    second = _mir("run", "--config", str(project.config_path), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    table = asset_table(second.stdout)
    assert table["crest_factor"]["ok"] == "2"
    assert table["beat_grid"]["up_to_date"] == "2"  # nothing else is computed again
    assert table["loudness"]["up_to_date"] == "2"
    assert table["training_crops"]["ok"] == "2"  # stale after the new feature: made again
    assert table["sat_dataset"]["ok"] == "2"

    # the feature materialized again for one track outside `mir run` (as from the UI):
    # its readers are behind for that track, and `mir run` makes them again, only them
    materialized = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize",
         "-m", "mir_assets.definitions", "--select", "crest_factor", "--partition", "One"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**env, "MIR_CONFIG": str(project.config_path)},
    )  # fmt: skip
    assert materialized.returncode == 0, materialized.stderr[-3000:]
    third = _mir("run", "--config", str(project.config_path), env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    table = asset_table(third.stdout)
    assert table["crest_factor"]["up_to_date"] == "2"
    assert table["beat_grid"]["up_to_date"] == "2"
    assert (table["training_crops"]["ok"], table["training_crops"]["up_to_date"]) == ("1", "1")
    assert (table["sat_dataset"]["ok"], table["sat_dataset"]["up_to_date"]) == ("1", "1")

    expected = {
        name: _crest_db(song.mix.mean(axis=1).astype(np.float32)) for name, song in songs.items()
    }
    con = duckdb.connect(str(project.duckdb), read_only=True)
    rows = dict(con.execute("SELECT track_id, crest_factor_db FROM crest_factor").fetchall())
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'crest_factor' "
        "AND column_name = 'crest_factor_db'"
    ).fetchone()[0]
    con.close()
    assert rows == pytest.approx(expected, abs=1e-6)
    assert "peak level of the mix above its RMS level [dB], range 0..200" in comment
    for name, value in expected.items():
        info = json.loads((project.library / name / f"{name}.INFO").read_text())
        assert info["crest_factor_db"] == pytest.approx(value, abs=1e-6)
        crop_infos = sorted((project.root / "data" / "crops" / name).glob("*.INFO"))
        assert crop_infos, name
        for crop_info in crop_infos:  # the crops inherit the track's value
            crop = json.loads(crop_info.read_text())
            assert crop["crest_factor_db"] == pytest.approx(value, abs=1e-6)
    report = (project.root / "data" / "reports" / "feature_statistics.md").read_text()
    assert "crest_factor_db" in report

    described = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DESCRIBE)],
        capture_output=True,
        text=True,
        env={**env, "MIR_CONFIG": str(project.config_path)},
        timeout=300,
    )
    assert described.returncode == 0, described.stderr
    node = json.loads(described.stdout.strip().splitlines()[-1])
    assert "`crest_factor_db`: peak level of the mix above its RMS level" in node["keys"]
    assert node["group"] == "loudness"
    assert node["checks"] == ["values_in_range"]
    assert {"training_crops", "sat_dataset", "feature_statistics"} <= set(node["children"])


def test_a_switch_for_an_unknown_asset_is_an_error_naming_it():
    from mir_assets.definitions import all_assets, check_switches

    cfg = config_from_dict({"features": {"timbral_feature": False}})
    with pytest.raises(ConfigError, match="no asset named 'timbral_feature'"):
        check_switches(cfg, all_assets)
    check_switches(config_from_dict({"features": {"timbral_features": False}}), all_assets)
    assert config_from_dict({}).features.enabled("a_feature_added_next_month")


def test_a_feature_module_that_cannot_load_names_the_entry(tmp_path):
    from mir.feature_modules import load_feature_modules

    cfg = config_from_dict({"feature_modules": ["features/missing.py"]}, root=tmp_path)
    with pytest.raises(ConfigError, match="feature_modules: cannot load 'features/missing.py'"):
        load_feature_modules(cfg)
