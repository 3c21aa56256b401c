"""The Stable Audio Tools export's pure parts: sidecars, the conditioning fragment, files
replaced in one rename."""

import json

import pytest

from mir.conditioning import DEFAULT_CONDITIONING_KEYS
from mir.config import ExportConfig
from mir.dataset.files import publish
from mir.dataset.sat_export import (
    conditioning_fragment,
    remove_other_files,
    sidecar,
)
from mir.feature_table import FEATURES

CROP_INFO = {
    "start_time": 12.5,
    "bpm": 121.3,
    "bpm_is_defined": 1,
    "lufs": -9.5,
    "tonic": 4,
    "tonic_scale": "minor",
    "danceability": 0.8,
    "spectral_flux": 0.2,  # not a conditioning key
    "crop_count": 7,  # bookkeeping leaking from the track
    "timeseries_frames": 3000,
    "dataset_crops": 7,
    "essentia_genre": {"Electronic---House": 0.9},
    "caption": "House music.",
}


def test_a_sidecar_holds_the_prompt_the_seconds_and_the_chosen_keys_only():
    out = sidecar(CROP_INFO, prompt="House.", seconds_total=200.0, keys=DEFAULT_CONDITIONING_KEYS)
    assert out == {
        "prompt": "House.",
        "seconds_start": 12.5,
        "seconds_total": 200.0,
        "bpm": 121.3,
        "lufs": -9.5,
        "tonic": 4.0,
        "tonic_scale_minor": 1.0,
        "danceability": 0.8,
    }
    json.dumps(out)  # plain JSON


def test_values_that_stand_for_nothing_found_are_left_out_not_made_up():
    info = {**CROP_INFO, "bpm": 120.0, "bpm_is_defined": 0, "tonic": 0, "tonic_scale": "unknown"}
    out = sidecar(info, prompt="", seconds_total=10.0, keys=("bpm", "tonic", "tonic_scale_minor"))
    assert set(out) == {"prompt", "seconds_start", "seconds_total"}
    major = sidecar(
        {"tonic_scale": "major"}, prompt="", seconds_total=1, keys=["tonic_scale_minor"]
    )
    assert major["tonic_scale_minor"] == 0.0


def test_the_fragment_has_stable_audio_tools_conditioners_with_the_feature_table_ranges():
    fragment = conditioning_fragment(["bpm", "lufs", "tonic_scale_minor"], seconds_max=256)
    conditioning = fragment["model"]["conditioning"]
    assert conditioning["cond_dim"] == 768
    configs = conditioning["configs"]
    assert configs[0] == {
        "id": "prompt",
        "type": "t5",
        "config": {"t5_model_name": "t5-base", "max_length": 128},
    }
    assert configs[1:3] == [
        {"id": "seconds_start", "type": "number", "config": {"min_val": 0, "max_val": 256}},
        {"id": "seconds_total", "type": "number", "config": {"min_val": 0, "max_val": 256}},
    ]
    ranges = {c["id"]: (c["config"]["min_val"], c["config"]["max_val"]) for c in configs[3:]}
    assert ranges == {
        "bpm": (FEATURES["bpm"].min, FEATURES["bpm"].max),
        "lufs": (-70, 12),  # the physical range: masters above 0 LUFS exist
        "tonic_scale_minor": (0, 1),
    }
    assert all(c["type"] == "number" for c in configs[3:])
    diffusion = fragment["model"]["diffusion"]
    assert diffusion["cross_attention_cond_ids"] == [c["id"] for c in configs]
    assert diffusion["global_cond_ids"] == ["seconds_start", "seconds_total"]


def test_every_default_key_has_a_range_and_unknown_keys_are_refused():
    conditioning_fragment(DEFAULT_CONDITIONING_KEYS)
    assert 10 <= len(DEFAULT_CONDITIONING_KEYS) <= 14
    with pytest.raises(ValueError, match="crop_count"):
        ExportConfig(conditioning_keys=("bpm", "crop_count"))


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")

    def dies(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish(target, dies)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
    publish(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new"


def test_files_of_crops_that_no_longer_exist_are_removed(tmp_path):
    for name in ("t_0.wav", "t_0.json", "t_1.wav", "t_1.json", ".t_2.wav.1.partial"):
        (tmp_path / name).write_text("")
    assert remove_other_files(tmp_path, {"t_0.wav", "t_0.json"}) == [
        ".t_2.wav.1.partial",
        "t_1.json",
        "t_1.wav",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t_0.json", "t_0.wav"]
