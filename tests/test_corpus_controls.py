"""The corpus's control arrays and their normalisation: the median and half the 16-84 %
span of each channel, from a bounded, stable sample of the items, kept while a new sample
stays close to it, so that a run reads its own items and the sample, not the corpus."""

import json

import numpy as np
import pytest

from mir.dataset import corpus as corpus_lib

T = 64


def _item(corpus, name, rng, *, shift=0.0, f0=True, valid=T):
    """An item whose series are random around `shift`: band RMS, HPCP, bass f0 with a
    voiced half."""
    mask = [1] * valid + [0] * (T - valid)
    series = {
        "rms_energy_bass_ts": rng.normal(-20 + shift, 4, T).astype(np.float32),
        "hpcp_ts": rng.uniform(0, 1, (T, 12)).astype(np.float32),
        "position_ts": np.linspace(0, 1, T, dtype=np.float32),
    }
    if f0:
        voiced = (np.arange(T) % 2 == 0).astype(np.float32)
        series["f0_bass_ts"] = (rng.uniform(40, 80, T) * voiced).astype(np.float32)
        series["f0_bass_voiced_ts"] = voiced
    corpus_lib.write_item(
        corpus,
        name,
        latents=np.zeros((4, T), np.float32),
        metadata={"prompt": "x", "seconds_start": 0, "seconds_total": 1, "padding_mask": mask},
        series=series,
        series_meta={"frames": T, "padding_mask": mask},
    )
    return series, np.asarray(mask, bool)


def _expected(items, field, b=None, voiced_only=False):
    values = []
    for series, mask in items:
        column = series[field] if b is None else series[field][:, b]
        keep = mask.copy()
        if voiced_only:
            keep &= series[field.replace("_ts", "_voiced_ts")] > 0.5
        values.append(column[keep].astype(np.float64))
    lo, med, hi = np.percentile(np.concatenate(values), [16, 50, 84])
    return med, (hi - lo) / 2


@pytest.fixture
def corpus(tmp_path):
    return tmp_path / "mix", tmp_path / "mix_ctrl"


def test_a_small_corpus_is_normalised_over_every_audio_frame(corpus):
    folder, ctrl = corpus
    rng = np.random.default_rng(0)
    items = {f"{i:06d}": _item(folder, f"{i:06d}", rng, valid=T - 8 * i) for i in range(3)}
    norm = corpus_lib.write_controls(folder, ctrl)
    channels = norm["channels"]
    assert channels[:1] == ["rms_energy_bass_ts"] and "hpcp_ts[11]" in channels
    assert channels[-2:] == ["position_ts", "f0_bass_ts"]
    med, half = _expected(items.values(), "rms_energy_bass_ts")
    i = channels.index("rms_energy_bass_ts")
    assert norm["median"][i] == pytest.approx(med) and norm["half_span"][i] == pytest.approx(half)
    med_f0, half_f0 = _expected(items.values(), "f0_bass_ts", voiced_only=True)
    j = channels.index("f0_bass_ts")
    assert norm["median"][j] == pytest.approx(med_f0)
    assert norm["half_span"][j] == pytest.approx(half_f0)
    series, _ = items["000001"]
    array = np.load(ctrl / "000001.npy")
    assert array.shape == (len(channels), T) and array.dtype == np.float16
    np.testing.assert_allclose(array[i], (series["rms_energy_bass_ts"] - med) / half, atol=2e-2)
    assert (array[j][series["f0_bass_voiced_ts"] == 0] == 0).all()  # unvoiced: 0
    stored = json.loads((ctrl / "normalisation.json").read_text())
    assert stored["median"] == norm["median"] and "sample" in stored["rule"]


def test_a_run_reads_the_sample_and_its_own_items_not_the_corpus(corpus, monkeypatch):
    folder, ctrl = corpus
    monkeypatch.setattr(corpus_lib, "CONTROL_SAMPLE_ITEMS", 4)
    rng = np.random.default_rng(1)
    names = [f"{i:06d}" for i in range(40)]
    items = {n: _item(folder, n, rng) for n in names}
    first = corpus_lib.write_controls(folder, ctrl)
    sample = corpus_lib.sample_items(names, 4)
    assert len(sample) == 4 and first["sample_items"] == 4
    med, half = _expected([items[n] for n in sample], "rms_energy_bass_ts")
    assert first["median"][0] == pytest.approx(med) and first["half_span"][0] == pytest.approx(half)
    assert first["rewritten"] == 40
    # a new item of the same music that does not displace one of the sample
    new = next(
        f"{i:06d}"
        for i in range(40, 400)
        if f"{i:06d}" not in corpus_lib.sample_items([*names, f"{i:06d}"], 4)
    )
    _item(folder, new, rng)
    before = {n: (ctrl / f"{n}.npy").stat().st_mtime_ns for n in names}
    reads = []
    real_read = corpus_lib.read_npz
    monkeypatch.setattr(corpus_lib, "read_npz", lambda p: reads.append(p.name) or real_read(p))
    second = corpus_lib.write_controls(folder, ctrl, written=[new])
    assert second["rewritten"] == 1 and second["median"] == first["median"]
    assert (ctrl / f"{new}.npy").is_file()
    assert {n: (ctrl / f"{n}.npy").stat().st_mtime_ns for n in names} == before
    assert len(reads) <= 4 + 2  # the sample, and the new item (its fields, its array)


def test_music_that_moves_the_sample_renormalises_every_item(corpus, monkeypatch):
    folder, ctrl = corpus
    monkeypatch.setattr(corpus_lib, "CONTROL_SAMPLE_ITEMS", 4)
    rng = np.random.default_rng(2)
    names = [f"{i:06d}" for i in range(8)]
    for n in names:
        _item(folder, n, rng)
    first = corpus_lib.write_controls(folder, ctrl)
    louder = [f"{i:06d}" for i in range(8, 40)]
    for n in louder:
        _item(folder, n, rng, shift=30.0)  # 30 dB louder: most of the sample now
    second = corpus_lib.write_controls(folder, ctrl, written=louder)
    assert second["rewritten"] == 40
    assert second["median"][0] > first["median"][0] + 10
    # an item without f0 takes the f0 channel out of every array
    _item(folder, "000040", rng, f0=False)
    third = corpus_lib.write_controls(folder, ctrl, written=["000040"])
    assert "f0_bass_ts" not in third["channels"] and third["rewritten"] == 41
    assert np.load(ctrl / "000003.npy").shape == (len(third["channels"]), T)
    # an item removed from the corpus loses its array
    corpus_lib.remove_item(folder, ctrl, "000040")
    (folder / "000001.npy").unlink()
    corpus_lib.write_controls(folder, ctrl)
    assert not (ctrl / "000001.npy").exists()


def test_the_sample_is_stable_as_the_corpus_grows():
    names = [f"{i:06d}" for i in range(1000)]
    sample = corpus_lib.sample_items(names, 50)
    grown = corpus_lib.sample_items([*names, *(f"{i:06d}" for i in range(1000, 1100))], 50)
    # about 50 * 100 / 1100 newcomers, each displacing one member
    assert len(set(sample) & set(grown)) >= 40
    assert set(grown) - set(sample) <= {f"{i:06d}" for i in range(1000, 1100)}
