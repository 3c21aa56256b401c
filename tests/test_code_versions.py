"""A family's code version that moves marks that asset and its consumers stale in the UI,
and nothing else; `mir run` then recomputes exactly those, and every other family's values
in `.INFO` and DuckDB stay as they were."""

import os
import subprocess
import sys

import duckdb
import soundfile as sf

from mir.info import info_path, read_info
from mir.synth import render_song
from tests.conftest import write_config
from tests.dagster_dev import ROOT, dagster_dev_on_instance
from tests.test_cli import _mir, asset_table
from tests.test_dataset import _stale

SR = 44100
ON = ["source_audio", "beat_grid", "rhythm_features", "loudness", "spectral_features",
      "training_crops", "sat_dataset", "feature_statistics"]  # fmt: skip
OFF = [
    "stems", "timbral_features", "chords", "classification", "aesthetics",
    "drum_transcription", "pitch_transcription", "track_metadata", "harmonic_features",
    "track_timeseries", "audio_quality", "captions", "latent_windows", "latents",
]  # fmt: skip
UNTOUCHED = ["source_audio", "beat_grid", "rhythm_features", "loudness"]


def _rows(db, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY track_id").fetchall()
    finally:
        con.close()


def test_a_version_bump_marks_its_family_and_consumers_stale_and_mir_run_redoes_only_them(
    project, tmp_path
):
    song = render_song(bpm=110, bars=8, tonic="C", scale="major", seed=3)
    sf.write(str(project.inbox / "01 - Versioned.wav"), song.mix, SR)
    write_config(
        project.root,
        features=dict.fromkeys(OFF, False),
        crops={"length_samples": 4 * SR},
        paths={"crops": str(project.root / "crops"), "dataset": str(project.root / "dataset"),
               "reports": str(project.root / "reports")},
    )  # fmt: skip
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "config" / "dagster.yaml").read_text())
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    env.pop("MIR_CONFIG", None)
    first = _mir("run", "--config", str(project.config_path), env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    track = "Versioned"
    before_rows = {t: _rows(project.duckdb, t) for t in UNTOUCHED}
    before_info = read_info(info_path(project.library / track))

    config = {"MIR_CONFIG": str(project.config_path)}
    with dagster_dev_on_instance(home, config) as url:
        assert _stale(url, track, ON) == dict.fromkeys(ON)
    bump = {**config, "MIR_TEST_BUMP": "spectral_features"}
    with dagster_dev_on_instance(home, bump, module="tests.fixtures.bumped_location") as url:
        stale = _stale(url, track, ON)
    print("stale causes after bumping spectral_features:", stale)  # shown with pytest -s
    consumers = {"spectral_features", "training_crops", "sat_dataset", "feature_statistics"}
    assert {name for name, cause in stale.items() if cause} == consumers, stale

    run = subprocess.run(
        [sys.executable, "-c",
         "import sys; import tests.fixtures.bumped_location; from mir_cli import main; "
         "sys.exit(main(sys.argv[1:]))", "run", "--config", str(project.config_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
        env={**env, "MIR_TEST_BUMP": "spectral_features", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    print(run.stdout)
    table = asset_table(run.stdout)
    for name in ("spectral_features", "training_crops", "sat_dataset"):
        assert (table[name]["ok"], table[name]["up_to_date"]) == ("1", "0"), (name, table)
    for name in UNTOUCHED:
        assert (table[name]["ok"], table[name]["up_to_date"]) == ("0", "1"), (name, table)
    # the other families' rows were not written again (their materialized_at included),
    # and their values in .INFO are those of the first run
    assert {t: _rows(project.duckdb, t) for t in UNTOUCHED} == before_rows
    after_info = read_info(info_path(project.library / track))
    for key in ("bpm", "beat_count", "lufs", "lra", "onset_count", "duration_s"):
        assert after_info[key] == before_info[key]
    with dagster_dev_on_instance(home, bump, module="tests.fixtures.bumped_location") as url:
        assert _stale(url, track, ON) == dict.fromkeys(ON)
