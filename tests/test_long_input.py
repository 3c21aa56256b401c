"""Long inputs in bounded memory: the block-wise paths give the numbers of one piece.

The blocks are made small here so that short signals cross many block edges;
`bench/growth.py` measures time and memory of every asset at 1, 4, 15 and 60 minutes.
"""

import numpy as np
import pytest
import scipy.signal

import mir.beats as beats
import mir.harmonic as harmonic
import mir.intermediates as intermediates
import mir.loudness as loudness
import mir.spectral as spectral
from mir.synth import render_song

SR = 44100


@pytest.fixture(scope="module")
def song():
    return render_song(bpm=120.0, bars=40, seed=5)  # 81 s


@pytest.fixture(scope="module")
def madmom_processors():
    from mir._madmom import import_madmom

    madmom = import_madmom()
    rnn = madmom.features.downbeats.RNNDownBeatProcessor()
    dbn = madmom.features.downbeats.DBNDownBeatTrackingProcessor(
        beats_per_bar=[3, 4], min_bpm=55.0, max_bpm=215.0, fps=100
    )
    return rnn, dbn


@pytest.fixture(scope="module")
def activation(song, madmom_processors):
    from madmom.audio.signal import Signal

    rnn, _ = madmom_processors
    y = song.mix.mean(axis=1).astype(np.float32)
    return rnn(Signal(y, sample_rate=SR, num_channels=1))


def test_network_features_taken_in_blocks_give_madmoms_activation_of_one_piece(
    song, madmom_processors, activation, monkeypatch
):
    monkeypatch.setattr(beats, "FEATURE_BLOCK_S", 7.3)
    y = song.mix.mean(axis=1).astype(np.float32)
    blocked = beats._downbeat_activation(madmom_processors[0], y, sr=SR)
    assert blocked.shape == activation.shape
    np.testing.assert_allclose(blocked, activation, atol=1e-5)


def test_a_long_activation_decoded_in_blocks_finds_the_beats_of_one_piece(
    song, madmom_processors, activation, monkeypatch
):
    import mir_eval

    dbn = madmom_processors[1]
    whole = dbn(activation)
    monkeypatch.setattr(beats, "DBN_BLOCK_S", 15.0)
    monkeypatch.setattr(beats, "DBN_OVERLAP_S", 6.0)
    blocked = beats._decode_downbeats(dbn, activation)  # five seams
    assert mir_eval.beat.f_measure(whole[:, 0], blocked[:, 0]) > 0.98
    assert mir_eval.beat.f_measure(song.beats, blocked[:, 0]) > 0.98
    assert mir_eval.beat.f_measure(song.downbeats, blocked[blocked[:, 1] == 1, 0]) > 0.95
    assert np.diff(blocked[:, 0]).min() > 60.0 / 215.0 * 0.9  # no beat twice at a seam


def test_loudness_in_blocks_is_the_loudness_of_one_piece(song, monkeypatch):
    monkeypatch.setattr(loudness, "BLOCK_SAMPLES", 100_003)
    x = song.mix * np.linspace(0.1, 1.0, song.mix.shape[0])[:, None]  # a range to measure
    for sr in (44100, 48000, 22050):
        kw = loudness.k_weighted(x, sr=sr)
        result = loudness.measure_loudness(x, sr=sr)
        assert result.lufs == round(loudness.integrated_loudness(kw, sr=sr), 3)
        assert result.lra == round(loudness.loudness_range(kw, sr=sr), 3)
        assert result.lra > 5.0


def test_stft_spectral_shape_and_band_rms_in_blocks_equal_one_piece(song, monkeypatch):
    y = song.mix.mean(axis=1).astype(np.float32)
    whole = intermediates.magnitude_spectrogram(y)  # shorter than a block: one piece
    for n in (y.size, 512 * 3000, 512 * 3000 - 1):  # the last frame whole, or cut
        monkeypatch.setattr(intermediates, "STFT_BLOCK_FRAMES", 701)
        blocked = intermediates.magnitude_spectrogram(y[:n])
        monkeypatch.setattr(intermediates, "STFT_BLOCK_FRAMES", 10**9)
        np.testing.assert_array_equal(blocked, intermediates.magnitude_spectrogram(y[:n]))

    monkeypatch.setattr(spectral, "BLOCK_FRAMES", 1000)
    blocked, reference = spectral.spectral_shape(whole), spectral._spectral_shape(whole)
    for key in reference:  # equal to float64 rounding (reductions over other lengths)
        np.testing.assert_allclose(blocked[key], reference[key], rtol=1e-12, atol=0)

    loud = np.clip(song.mix * 1.6, -1.0, 1.0)[: 256 * 2000 + 100]  # clipped drum hits
    monkeypatch.setattr(spectral, "BLOCK_SAMPLES", 10**9)
    whole_saturation = spectral.saturation(loud, sr=SR)
    assert whole_saturation["saturation_count"] > 0
    monkeypatch.setattr(spectral, "BLOCK_SAMPLES", 1000)
    assert spectral.saturation(loud, sr=SR) == whole_saturation

    monkeypatch.setattr(spectral, "BLOCK_SAMPLES", 77_777)
    for low, high in spectral.FREQUENCY_BANDS.values():
        filtered = scipy.signal.sosfilt(spectral.band_sos(low, high, sr=SR), y.astype(float))
        expected = round(20.0 * np.log10(np.sqrt(np.mean(filtered**2))), 3)
        assert spectral.band_rms_db(y, sr=SR, low=low, high=high) == pytest.approx(
            max(expected, spectral.RMS_FLOOR_DB), abs=1e-3
        )


def test_chroma_in_blocks_equals_one_piece_with_the_tracks_tuning(song, monkeypatch):
    import librosa

    y = song.mix.mean(axis=1).astype(np.float32)
    whole = harmonic.chroma_features(y)
    # the tuning of the shared STFT is librosa's own estimate from the signal
    assert harmonic.estimate_tuning(intermediates.magnitude_spectrogram(y)) == pytest.approx(
        librosa.estimate_tuning(y=y, sr=SR, bins_per_octave=36)
    )
    chroma = librosa.feature.chroma_cqt(
        y=y, sr=SR, hop_length=2048, fmin=librosa.note_to_hz("C1"), n_octaves=7
    ).mean(axis=1)
    for i, v in enumerate(chroma / chroma.sum()):
        assert whole[f"chroma_{i}"] == pytest.approx(v, abs=1e-6)
    monkeypatch.setattr(harmonic, "CHROMA_BLOCK_FRAMES", 300)  # 14 s blocks
    blocked = harmonic.chroma_features(y)
    assert max(abs(blocked[k] - whole[k]) for k in whole) < 1e-4
    assert np.argmax([blocked[f"chroma_{i}"] for i in range(12)]) == np.argmax(
        [whole[f"chroma_{i}"] for i in range(12)]
    )
