"""Dataset hygiene: duplicates by fingerprint, fake lossless, clipping, silence, too short,
and the export filter, on audio the tests make."""

import lameenc
import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from dagster import AssetKey

from mir import quality
from mir.audio import Audio, load_audio
from mir.config import config_from_dict
from mir.errors import ConfigError
from mir.info import info_path, read_info
from mir.synth import render_song
from mir_assets.quality import FINGERPRINTS_TABLE, QUALITY_TABLE
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track

SR = 44100
QUALITY = ["source_audio", "audio_quality"]


def write_mp3(path, samples: np.ndarray, *, kbps: int = 128, sr: int = SR):
    """Encode stereo float samples as an MP3 with lameenc (LAME's own low-pass included)."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(sr)
    encoder.set_channels(2)
    encoder.set_quality(2)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(encoder.encode(pcm.tobytes()) + encoder.flush()))
    return path


def low_passed(samples: np.ndarray, hz: float = 16000.0, order: int = 16) -> np.ndarray:
    """A steep low-pass, as a lossy encoder leaves a track (then saved as FLAC: fake)."""
    sos = scipy.signal.butter(order, hz, fs=SR, output="sos")
    return scipy.signal.sosfiltfilt(sos, samples, axis=0).astype(np.float32)


@pytest.fixture(scope="module")
def songs():
    return {
        "a": render_song(bpm=120, bars=16, tonic="A", scale="minor").mix,  # 33 s
        "b": render_song(bpm=100, bars=16, tonic="D", scale="major", seed=3).mix,  # 40 s
        "c": render_song(bpm=140, bars=16, tonic="E", scale="minor", seed=5).mix,  # 28 s
    }


# -- mir/quality.py --------------------------------------------------------------------


def test_mp3_and_trimmed_copies_are_similar_and_an_unrelated_song_is_not(tmp_path, songs):
    a = songs["a"]
    sf.write(str(tmp_path / "a.flac"), a, SR)
    write_mp3(tmp_path / "a_128k.mp3", a)
    sf.write(str(tmp_path / "a_trimmed.flac"), a[3 * SR :], SR)
    sf.write(str(tmp_path / "b.flac"), songs["b"], SR)
    fp = {p.stem: quality.fingerprint(p) for p in tmp_path.iterdir()}
    assert fp["a"].dtype == np.uint32 and fp["a"].size == pytest.approx(33 * 8, rel=0.1)
    mp3 = quality.fingerprint_similarity(fp["a"], fp["a_128k"])
    trimmed = quality.fingerprint_similarity(fp["a"], fp["a_trimmed"])
    unrelated = quality.fingerprint_similarity(fp["a"], fp["b"])
    assert mp3 > 0.9 and trimmed > 0.9, (mp3, trimmed)
    assert unrelated < 0.7, unrelated
    assert quality.DUPLICATE_SIMILARITY > unrelated + 0.1
    assert quality.share_items(fp["a"], fp["a_trimmed"]) and not quality.share_items(
        fp["a"], fp["b"]
    )
    # the decoded track piped to fpcalc gives the file's own fingerprint
    from_audio = quality.fingerprint_audio(load_audio(tmp_path / "a.flac"))
    assert quality.fingerprint_similarity(fp["a"], from_audio) > 0.99


def test_a_missing_fpcalc_is_an_error_naming_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(quality.FingerprintError, match="libchromaprint-tools"):
        quality.fingerprint(tmp_path / "x.flac")


def test_a_16_khz_low_pass_is_found_and_a_full_band_or_dull_mix_is_not(songs):
    a = songs["a"]
    cutoff = quality.lossy_cutoff_hz(Audio(low_passed(a), SR))
    assert cutoff == pytest.approx(16000, abs=1000)
    assert quality.lossy_cutoff_hz(Audio(low_passed(a, 19500.0), SR)) == pytest.approx(
        19500, abs=1000
    )
    assert quality.lossy_cutoff_hz(Audio(a, SR)) is None
    # dull: a gentle 2nd-order slope from 3 kHz, no cliff
    assert quality.lossy_cutoff_hz(Audio(low_passed(a, 3000.0, order=2), SR)) is None
    # a 32 kHz file ends at 16 kHz by its rate, not by an encoder
    at_32k = scipy.signal.resample_poly(a, 320, 441, axis=0).astype(np.float32)
    assert quality.lossy_cutoff_hz(Audio(at_32k, 32000)) is None


def test_clipped_runs_are_counted_once_across_blocks():
    x = np.zeros((quality._BLOCK_SAMPLES + 1000, 2), np.float32)
    x[quality._BLOCK_SAMPLES - 2 : quality._BLOCK_SAMPLES + 3, 0] = 1.0  # 5 samples, 2 blocks
    x[100:102, 1] = -1.0  # 2 samples: not a run
    x[200:204, 1] = -1.0
    found = quality.clipping(x)
    assert found["clipped_runs"] == 2
    assert found["clipped_ratio"] == pytest.approx(9 / x.size, rel=1e-5)


def test_the_best_copy_is_kept_lossless_then_bitrate_then_longer():
    flac = quality.Copy("flac", True, False, 0, 44100, 200.0)
    trimmed = quality.Copy("trimmed", True, False, 0, 44100, 197.0)
    mp3 = quality.Copy("mp3", False, False, 320, 48000, 200.0)
    low = quality.Copy("low", False, False, 128, 48000, 200.0)
    clipped = quality.Copy("clipped", True, True, 0, 96000, 200.0)
    assert quality.keeper([mp3, trimmed, low, flac, clipped]).track_id == "flac"
    assert quality.keeper([low, mp3]).track_id == "mp3"
    assert quality.keeper([clipped, mp3]).track_id == "clipped"  # still lossless
    assert quality.keeper([quality.Copy("b", True, False, 0, 44100, 200.0), flac]).track_id == "b"


def test_export_exclude_names_an_unknown_category():
    assert config_from_dict({}).export.exclude == ("duplicate", "fake_lossless")
    with pytest.raises(ConfigError, match=r"export\.exclude.*'loud'"):
        config_from_dict({"export": {"exclude": ["duplicate", "loud"]}})


# -- the asset, through Dagster --------------------------------------------------------


def _rows(project):
    return DuckDBTables(project.duckdb).read(QUALITY_TABLE)


def _quality(project, instance, name, samples, *, mp3=False):
    if mp3:
        path = write_mp3(project.inbox / name, samples)
    else:
        path = project.add_audio(name, samples)
    (track_id,) = register(project, [path], instance)
    assert run_track(project, instance, track_id, selection=QUALITY).success
    return track_id


def test_copies_of_one_recording_point_at_the_flac_whatever_arrives_first(project, instance, songs):
    a = songs["a"]
    mp3 = _quality(project, instance, "Lossy Copy.mp3", a, mp3=True)
    assert _rows(project)[mp3]["duplicate_of"] == ""
    trimmed = _quality(project, instance, "Trimmed Copy.flac", a[3 * SR :])
    assert _rows(project)[mp3]["duplicate_of"] == trimmed  # a lossless copy arrived
    original = _quality(project, instance, "Original.flac", a)
    rows = _rows(project)
    assert rows[original]["duplicate_of"] == ""
    assert rows[mp3]["duplicate_of"] == original and rows[trimmed]["duplicate_of"] == original
    assert rows[mp3]["duplicate_similarity"] > 0.9 and rows[trimmed]["duplicate_similarity"] > 0.9
    assert read_info(info_path(project.library / mp3))["duplicate_of"] == original
    assert rows[mp3]["lossy_cutoff_hz"] == pytest.approx(16500, abs=1000)  # LAME's, but lossy
    assert not rows[mp3]["fake_lossless"] and not rows[original]["fake_lossless"]
    assert rows[original].get("lossy_cutoff_hz") is None
    fake = _quality(project, instance, "Fake Lossless.flac", low_passed(songs["b"]))
    clipped = _quality(project, instance, "Clipped Master.flac", np.clip(3 * songs["c"], -1, 1))
    silent = _quality(project, instance, "Silence.flac", np.zeros((20 * SR, 2), np.float32))
    short = _quality(project, instance, "Blip.flac", a[SR : 5 * SR])  # < 75 % of 11.9 s
    rows = _rows(project)
    assert rows[fake]["fake_lossless"] and rows[fake]["lossy_cutoff_hz"] == pytest.approx(
        16000, abs=1000
    )
    assert rows[clipped]["clipped"] and rows[clipped]["clipped_runs"] > 100
    assert not rows[original]["clipped"] and rows[original]["clipped_runs"] == 0
    assert rows[silent]["silent"] and rows[silent]["silence_ratio"] == 1.0
    assert rows[short]["too_short"] and not rows[original]["too_short"]
    assert not any(rows[t]["duplicate_of"] for t in (fake, clipped, silent, short))
    info = read_info(info_path(project.library / fake))
    assert {"fake_lossless", "lossy_cutoff_hz", "clipped", "clipped_runs", "silence_ratio"} <= set(
        info
    )
    assert {"too_short", "silent", "duplicate_of", "duplicate_similarity"} <= set(info)
    assert "fingerprint" not in info  # the items live in DuckDB only
    with DuckDBTables(project.duckdb).connect(read_only=True) as con:
        stored = dict(
            con.execute(
                f"SELECT track_id, octet_length(fingerprint) FROM {FINGERPRINTS_TABLE}"
            ).fetchall()
        )
    assert stored[original] == pytest.approx(4 * 33 * quality.ITEMS_PER_SECOND, rel=0.1)


def test_excluded_tracks_leave_the_stable_audio_tools_dataset(project, instance, songs):
    write_config(
        project.root,
        crops={"length_samples": 2 * SR, "timeseries": False, "features": False},
        paths={"crops": str(project.root / "crops"), "dataset": str(project.root / "dataset")},
    )
    pipeline = ["source_audio", "beat_grid", "audio_quality", "training_crops", "sat_dataset"]
    dataset = project.root / "dataset"
    song = songs["c"][: 16 * SR]

    def run(name, samples, mp3=False):
        path = write_mp3(project.inbox / name, samples) if mp3 else project.add_audio(name, samples)
        (track_id,) = register(project, [path], instance)
        assert run_track(project, instance, track_id, selection=pipeline).success
        return track_id

    mp3 = run("Song.mp3", song, mp3=True)
    assert any((dataset / mp3).glob("*.json"))  # the only copy so far: in the dataset
    flac = run("Song.flac", song)
    assert any((dataset / flac).glob("*.json"))
    assert not (dataset / mp3).exists()  # the better copy's run took the MP3 out
    result = run_track(project, instance, mp3, selection=["sat_dataset"])
    (mat,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == AssetKey("sat_dataset")
    ]
    assert (
        mat.materialization.metadata["dataset_excluded"]
        .value[mp3]
        .startswith(f"duplicate of {flac}")
    )
    info = read_info(info_path(project.library / mp3))
    assert info["dataset_crops"] == 0 and info["dataset_excluded"].startswith("duplicate of")
    fake = run("Fake.flac", low_passed(songs["b"][: 16 * SR]))
    assert not (dataset / fake).exists()
    assert read_info(info_path(project.library / fake))["dataset_excluded"].startswith(
        "fake lossless"
    )
    assert read_info(info_path(project.library / flac))["dataset_excluded"] == ""


def test_without_fpcalc_mir_run_leaves_audio_quality_out_and_the_dataset_still_gets_the_track(
    project, tmp_path
):
    import os
    import shutil
    import sys

    from tests.test_cli import _mir, asset_table

    light = {
        "stems": False, "timbral_features": False, "chords": False, "classification": False,
        "aesthetics": False, "drum_transcription": False, "pitch_transcription": False,
        "track_metadata": False, "rhythm_features": False, "harmonic_features": False,
        "spectral_features": False, "track_timeseries": False,
    }  # fmt: skip
    write_config(project.root, features=light, crops={"length_samples": 4 * SR})
    sf.write(str(project.inbox / "01 - One.wav"), render_song(bpm=120, bars=8).mix, SR)
    tools = tmp_path / "bin"  # a PATH with Python and ffmpeg, without fpcalc
    tools.mkdir()
    if shutil.which("ffmpeg"):
        (tools / "ffmpeg").symlink_to(shutil.which("ffmpeg"))
    path = f"{os.path.dirname(sys.executable)}:{tools}"
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "PATH": path}
    proc = _mir("run", "--config", str(project.config_path), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    table = asset_table(proc.stdout)
    assert table["audio_quality"]["skipped"] == "1"
    assert table["sat_dataset"]["ok"] == "1"  # the dataset does not wait for the flags
    assert "audio_quality was skipped: fpcalc (Chromaprint) is not on PATH" in proc.stdout
    assert "libchromaprint-tools" in proc.stdout
    assert list((project.root / "data" / "sat_dataset" / "One").glob("*.json"))
