"""The command line: `mir analyze` (no Dagster) and `mir run` (through Dagster)."""

import json
import re
import subprocess
import sys

import numpy as np
import soundfile as sf

from mir.analysis import analysis_families
from mir.feature_table import HARMONIC_STEMS, RHYTHM_STEMS, STEMS
from mir.info import read_info, read_times
from mir.synth import render_song

SR = 44100
#: the keys every analysed track has: those of the families `mir analyze` runs
AUDIO_FEATURES = {
    f.key for family in analysis_families() for f in family.keys if not (f.optional or f.pattern)
}


def _mir(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "mir_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_analyze_json_prints_every_key_and_out_writes_a_track_folder(tmp_path):
    song = render_song(bpm=120, bars=4, tonic="G", scale="major")
    path = tmp_path / "03 - Little Song.wav"
    sf.write(str(path), song.mix, SR)
    stems = tmp_path / "stems"
    stems.mkdir()
    for name, stem in song.stems.items():
        sf.write(str(stems / f"{name}.flac"), stem, SR)
    out = tmp_path / "out"
    proc = _mir("analyze", str(path), "--stems", str(stems), "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    values = json.loads(proc.stdout)
    assert set(AUDIO_FEATURES) <= set(values), sorted(set(AUDIO_FEATURES) - set(values))
    assert abs(values["bpm"] - 120) < 1.2
    assert values["tonic"] == 7 and values["tonic_scale"] == "major"
    folder = out / "Little Song"
    assert read_info(folder / "Little Song.INFO")["bpm"] == values["bpm"]
    assert read_times(folder / "Little Song.BEATS_GRID").size == values["beat_count"]
    assert (folder / "Little Song.DOWNBEATS").exists() and (folder / "Little Song.ONSETS").exists()
    assert len(STEMS) + len(RHYTHM_STEMS) + len(HARMONIC_STEMS) > 0


def test_analyze_a_broken_file_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.flac"
    path.write_bytes(b"fLaC" + bytes(100))
    proc = _mir("analyze", str(path), "--json")
    assert proc.returncode == 2
    assert "broken.flac" in proc.stderr and "error:" in proc.stderr


def asset_table(stdout: str) -> dict[str, dict[str, str]]:
    """`mir run`'s per-asset summary: {asset: {column: value}}."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("asset "))
    columns = ["ok", "up_to_date", "failed", "skipped", "no_stems", "no_model", "time", "pace"]
    table = {}
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith(" "):
            break
        name, *values = line.split()
        table[name] = dict(zip(columns, values, strict=True))
    return table


def test_mir_run_registers_the_inbox_and_prints_a_summary(project, tmp_path):
    import os

    from tests.conftest import write_config

    write_config(project.root, features={"timbral_features": False})
    y = render_song(bpm=100, bars=4).mix
    sf.write(str(project.inbox / "01 - One.wav"), y, SR)
    sf.write(str(project.inbox / "02 - Two.flac"), np.ascontiguousarray(y[::-1]), SR)
    broken = project.inbox / "03 - Broken.mp3"
    broken.write_text("an error page saved as mp3\n" * 50)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home")}
    proc = _mir("run", "--config", str(project.config_path), env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one file needs attention
    # a quiet run: no Dagster beta/preview notices, no library chatter, in the parent or
    # in the worker processes
    chatter = ("BetaWarning", "PreviewWarning", "UserWarning", "DeprecationWarning", "[   INFO   ]")
    assert not [
        line for line in (proc.stdout + proc.stderr).splitlines() if any(c in line for c in chatter)
    ]
    assert f"rejected {broken}: not a readable audio file" in proc.stdout
    assert "1 file(s) rejected" in proc.stdout
    assert not any(line.startswith("Broken") for line in proc.stdout.splitlines())  # no track
    assert "mir run: 100%" in proc.stderr and "2/2 [" in proc.stderr  # the progress bar
    assert "One" in proc.stdout and "Two" in proc.stdout
    table = asset_table(proc.stdout)
    assert table["beat_grid"]["ok"] == "2"  # ok for both tracks
    assert float(table["beat_grid"]["time"]) > 0 and float(table["beat_grid"]["pace"]) > 0
    assert table["stem_rhythm"]["no_model"] == "2"  # no stems yet, reported, not failed
    assert re.search(
        r"2 track\(s\), 0:\d\d of audio, in \d+:\d\d \(\d+\.\dx realtime\)", proc.stdout
    )
    again = _mir("run", "--config", str(project.config_path), env=env)
    assert again.returncode == 1 and f"rejected {broken}" in again.stdout  # still reported
    assert asset_table(again.stdout)["beat_grid"]["up_to_date"] == "2"
    # stems placed in one track's folder by hand: its per-stem features run, without a model
    (one,) = [p for p in project.library.iterdir() if p.name.endswith("One")]
    for stem in ("drums", "bass", "other", "vocals"):
        sf.write(str(one / f"{stem}.wav"), y * 0.25, SR)
    third = asset_table(_mir("run", "--config", str(project.config_path), env=env).stdout)
    assert third["stem_rhythm"]["ok"] == "1" and third["stem_rhythm"]["no_model"] == "1"
    assert third["beat_grid"]["up_to_date"] == "2"


def test_mir_run_takes_every_key_of_its_config_file_rocm_included(project, tmp_path):
    import os

    from tests.conftest import write_config

    write_config(project.root, rocm={"HIP_FORCE_DEV_KERNARG": "7"}, features={"loudness": False})
    env = {k: v for k, v in os.environ.items() if k not in ("HIP_FORCE_DEV_KERNARG", "MIR_CONFIG")}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    proc = _mir("run", "--config", str(project.config_path), "--dry-run", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = dict(line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
    assert lines["config"].strip() == str(project.config_path)
    assert lines["inbox"].strip() == str(project.inbox)
    assert "HIP_FORCE_DEV_KERNARG=7" in lines["rocm"]  # the file's, not the default's 1
    would_run = [a.strip() for a in lines["would run"].split(",")]
    assert "beat_grid" in would_run and "loudness" not in would_run  # the file's switches
    env["HIP_FORCE_DEV_KERNARG"] = "3"  # a shell export still wins
    proc = _mir("run", "--config", str(project.config_path), "--dry-run", env=env)
    assert "HIP_FORCE_DEV_KERNARG=3" in proc.stdout


def test_mir_run_starts_the_longest_tracks_first(tmp_path):
    from mir_assets.run_command import audio_length, longest_first

    short, long_ = tmp_path / "short.wav", tmp_path / "long.flac"
    sf.write(str(short), np.zeros(SR), SR)
    sf.write(str(long_), np.zeros(3 * SR + SR // 2), SR)
    odd = tmp_path / "song.m4a"  # no header libsndfile reads: its size stands in
    odd.write_bytes(b"\0" * 32000)
    lengths = {"a": audio_length(short), "b": audio_length(long_), "c": audio_length(odd)}
    assert lengths == {"a": 1.0, "b": 3.5, "c": 2.0}
    plan = {"a": ["loudness"], "b": ["loudness"], "c": [], "d": ["loudness"]}
    assert list(longest_first(plan, lengths)) == ["b", "c", "a", "d"]
