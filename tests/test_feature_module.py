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
"""Zero crossings: the share of samples at which the mix changes sign."""

import numpy as np
from dagster import AssetExecutionContext, asset

from mir.feature_table import Feature
from mir_assets.runtime import decoded, feature_asset_args, for_each_track, full_mix_path
from resources.settings import PipelineSettings

FEATURES = [
    Feature("zero_crossing_rate", 0, 1, "", "share of samples where the mix changes sign"),
]


@asset(**feature_asset_args("spectral", features=FEATURES, kinds={"numpy", "duckdb"}))
def zero_crossings(
    context: AssetExecutionContext, settings: PipelineSettings, source_audio: dict[str, dict]
) -> dict[str, dict]:
    """`zero_crossing_rate` of the 44.1 kHz mono mix."""

    def compute(track_id: str) -> dict:
        y = decoded(full_mix_path(settings, track_id, source_audio[track_id])).mono(44100)
        return {"zero_crossing_rate": float(np.mean(np.signbit(y[1:]) != np.signbit(y[:-1])))}

    return for_each_track(context, settings, compute)
'''

DESCRIBE = """
import json
from dagster import AssetKey
from mir_assets.definitions import defs
graph = defs.resolve_asset_graph()
node = graph.get(AssetKey("zero_crossings"))
print(json.dumps({
    "keys": str(node.metadata["keys"].value),
    "group": node.group_name,
    "checks": sorted(k.name for k in node.check_keys),
    "children": sorted(k.path[-1] for k in node.child_keys),
}))
"""


def _zcr(y: np.ndarray) -> float:
    return float(np.mean(np.signbit(y[1:]) != np.signbit(y[:-1])))


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
    (project.root / "features" / "zero_crossings.py").write_text(FEATURE_MODULE)
    with project.config_path.open("a") as f:
        f.write("feature_modules: [features/zero_crossings.py]\n")
    second = _mir("run", "--config", str(project.config_path), env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    table = asset_table(second.stdout)
    assert table["zero_crossings"]["ok"] == "2"
    assert table["beat_grid"]["up_to_date"] == "2"  # nothing else is computed again
    assert table["loudness"]["up_to_date"] == "2"
    assert table["training_crops"]["ok"] == "2"  # stale after the new feature: made again
    assert table["sat_dataset"]["ok"] == "2"

    # the feature materialized again for one track outside `mir run` (as from the UI):
    # its readers are behind for that track, and `mir run` makes them again, only them
    materialized = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize",
         "-m", "mir_assets.definitions", "--select", "zero_crossings", "--partition", "One"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env={**env, "MIR_CONFIG": str(project.config_path)},
    )  # fmt: skip
    assert materialized.returncode == 0, materialized.stderr[-3000:]
    third = _mir("run", "--config", str(project.config_path), env=env)
    assert third.returncode == 0, third.stdout + third.stderr
    table = asset_table(third.stdout)
    assert table["zero_crossings"]["up_to_date"] == "2"
    assert table["beat_grid"]["up_to_date"] == "2"
    assert (table["training_crops"]["ok"], table["training_crops"]["up_to_date"]) == ("1", "1")
    assert (table["sat_dataset"]["ok"], table["sat_dataset"]["up_to_date"]) == ("1", "1")

    expected = {
        name: _zcr(song.mix.mean(axis=1).astype(np.float32)) for name, song in songs.items()
    }
    con = duckdb.connect(str(project.duckdb), read_only=True)
    rows = dict(con.execute("SELECT track_id, zero_crossing_rate FROM zero_crossings").fetchall())
    comment = con.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'zero_crossings' "
        "AND column_name = 'zero_crossing_rate'"
    ).fetchone()[0]
    con.close()
    assert rows == pytest.approx(expected, abs=1e-6)
    assert "share of samples where the mix changes sign, range 0..1" in comment
    for name, value in expected.items():
        info = json.loads((project.library / name / f"{name}.INFO").read_text())
        assert info["zero_crossing_rate"] == pytest.approx(value, abs=1e-6)
        crop_infos = sorted((project.root / "data" / "crops" / name).glob("*.INFO"))
        assert crop_infos, name
        for crop_info in crop_infos:  # the crops inherit the track's value
            crop = json.loads(crop_info.read_text())
            assert crop["zero_crossing_rate"] == pytest.approx(value, abs=1e-6)
    report = (project.root / "data" / "reports" / "feature_statistics.md").read_text()
    assert "zero_crossing_rate" in report

    described = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(DESCRIBE)],
        capture_output=True,
        text=True,
        env={**env, "MIR_CONFIG": str(project.config_path)},
        timeout=300,
    )
    assert described.returncode == 0, described.stderr
    node = json.loads(described.stdout.strip().splitlines()[-1])
    assert "`zero_crossing_rate`: share of samples where the mix changes sign" in node["keys"]
    assert node["group"] == "spectral"
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
    from mir_assets.definitions import load_feature_modules

    cfg = config_from_dict({"feature_modules": ["features/missing.py"]}, root=tmp_path)
    with pytest.raises(ConfigError, match="feature_modules: cannot load 'features/missing.py'"):
        load_feature_modules(cfg)
