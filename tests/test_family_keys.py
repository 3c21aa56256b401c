"""Each family returns exactly the keys it declares: every family on a rendered song, as
`mir analyze` runs them and as the assets store them (with tiny models of the real
architectures, so that the model families run too)."""

import pytest
import soundfile as sf

from mir.analysis import analysis_families, analyze_track
from mir.audio import Audio
from mir.config import MasterConfig
from mir.families import FAMILIES
from mir.family import Track, resolve
from mir.feature_table import family_of
from mir.info import info_path, read_info
from mir.synth import render_song
from mir_assets.definitions import all_assets
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track

SR = 44100
#: what the feature store adds to every row
BOOKKEEPING = {"track_id", "materialized_at"}


@pytest.fixture(scope="module")
def song():
    return render_song(bpm=120, bars=8, tonic="A", scale="minor", seed=5)


def _problems(family, values) -> list[str]:
    """What `values` (a family's result) holds beyond or lacks of its declaration."""
    out = [f"{family.name} returns undeclared {k!r}" for k in family.undeclared(values)]
    out += [f"{family.name} lacks declared {k!r}" for k in family.missing(values)]
    return out


def test_every_analysis_family_returns_exactly_its_keys(song):
    stems = {name: Audio(stem, SR) for name, stem in song.stems.items()}
    track = Track(Audio(song.mix, SR), MasterConfig(), stems=stems)
    problems = []
    for family in analysis_families():
        raw = resolve(family.compute)(track)  # what the function gives, before `finish`
        problems += _problems(family, raw)
    assert not problems, problems
    # mir analyze: the same families, every key of the result declared by one of them
    result = analyze_track(Audio(song.mix, SR), MasterConfig(), stems=stems)
    assert not result.skipped
    undeclared = [k for k in result.values if not any(f.feature(k) for f in analysis_families())]
    assert not undeclared, undeclared


@pytest.fixture
def tiny_models(tmp_path):
    """Tiny random-weight models of every family that needs one, in their published
    formats: Demucs, the Essentia classifiers, Audiobox Aesthetics, ADTOF, SAME-S."""
    import torch

    from mir import adtof
    from mir._vendor.audiobox_aesthetics.model.aes import AesMultiOutput
    from mir.aesthetics import save_checkpoint
    from mir.transcription import ADTOF_FILE
    from tests.latent_models import write_tiny_autoencoder
    from tests.tiny_models import write_tiny_demucs, write_tiny_essentia_models

    models = tmp_path / "models"
    torch.manual_seed(0)
    from tests.test_aesthetics import TARGETS

    aesthetics = save_checkpoint(
        AesMultiOutput(target_transform=TARGETS), models / "audiobox" / "checkpoint.pt"
    )
    adtof.save(adtof.FrameRNN(n_bins=adtof.n_bins()), models / "adtof" / ADTOF_FILE)
    return {
        "separation": {
            "demucs": {"model": "tiny", "repo": str(write_tiny_demucs(models / "demucs"))},
            "block_seconds": 5.0,
        },
        "classification": {"model_dir": str(write_tiny_essentia_models(models / "essentia"))},
        "aesthetics": {"model_dir": str(aesthetics.parent)},
        "transcription": {"model_dir": str(models / "adtof")},
        "latents": {
            "preset": "sa3-small",
            "window_frames": 256,
            "same_s_dir": str(write_tiny_autoencoder("same-s", models / "same-s")),
        },
    }


def test_every_asset_stores_exactly_its_family_keys(project, instance, song, tiny_models):
    write_config(
        project.root,
        crops={"length_samples": 4 * SR},
        paths={"crops": str(project.root / "crops"), "dataset": str(project.root / "dataset"),
               "latents": str(project.root / "latents")},
        **tiny_models,
    )  # fmt: skip
    path = project.inbox / "01 - Every Family.wav"
    sf.write(str(path), song.mix, SR)
    (track_id,) = register(project, [path], instance)
    names = [a.key.path[-1] for a in all_assets if a.partitions_def is not None]
    result = run_track(project, instance, track_id, selection=names, raise_on_error=False)
    failed = {e.step_key: e.step_failure_data.error.message for e in result.all_events
              if e.is_step_failure}  # fmt: skip
    # audio_quality needs fpcalc (make setup-dev installs it): every family runs
    assert not failed, failed
    tables = DuckDBTables(project.duckdb)
    info = read_info(info_path(project.library / track_id))
    problems = []
    for family in FAMILIES:
        if not family.partitioned:
            continue
        row = tables.read(family.name, [track_id]).get(track_id) or {}
        stored = [k for k in row if k not in BOOKKEEPING]
        problems += [f"{family.name} stores undeclared {k!r}" for k in family.undeclared(stored)]
        # .INFO holds every key a family returned, a null included (the store makes a
        # column at a key's first value)
        problems += [f"{family.name} lacks declared {k!r}" for k in family.missing(info)]
    problems += [f".INFO holds {k!r}, which no family declares" for k in info if not family_of(k)]
    assert not problems, problems
