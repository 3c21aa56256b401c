"""madmom's downbeat network run through mir.rnn: madmom's numbers, at a fraction of the cost."""

import numpy as np
import pytest

from mir import rnn
from mir.synth import render_song

SR = 44100


@pytest.fixture(scope="module")
def processor():
    from mir._madmom import import_madmom

    return import_madmom().features.downbeats.RNNDownBeatProcessor()


@pytest.fixture(scope="module")
def signal():
    song = render_song(bpm=132.0, bars=10, beats_per_bar=3, seed=8)  # 13.6 s, 3/4
    return song.mix.mean(axis=1).astype(np.float32)


@pytest.fixture(scope="module")
def madmom_features(processor, signal):
    from madmom.audio.signal import Signal

    return processor.processors[0](Signal(signal, sample_rate=SR, num_channels=1))


def test_spectral_features_equal_madmoms_feature_chain(processor, signal, madmom_features):
    features = rnn.spectral_features_of(processor.processors[0])
    ours = features(signal)
    assert ours.shape == madmom_features.shape == (features.n_frames(signal.size), 314)
    np.testing.assert_allclose(ours, madmom_features, atol=1e-5, rtol=1e-5)
    # blocks of any size give the same rows (each takes the frames its differences need),
    # to float32 rounding: BLAS may sum a product of another shape in another order
    n = features.n_frames(signal.size)
    blocks = [features(signal, a, min(a + 97, n)) for a in range(0, n, 97)]
    np.testing.assert_allclose(np.concatenate(blocks), ours, rtol=1e-5, atol=1e-6)


def test_ensemble_equals_madmoms_network_frame_for_frame(processor, madmom_features, monkeypatch):
    network = processor.processors[1]
    expected = network(madmom_features)
    monkeypatch.setattr(rnn, "BLOCK_FRAMES", 300)  # the state carries over block edges
    ours = rnn.activate(rnn.ensemble_of(network), madmom_features)
    assert ours.shape == expected.shape == (madmom_features.shape[0], 3)
    np.testing.assert_allclose(ours, expected, atol=2e-5)  # float32 sums in another order
    np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=1e-5)  # softmax, averaged


def test_a_network_of_another_shape_is_refused():
    from madmom.ml.nn import NeuralNetwork
    from madmom.ml.nn.layers import FeedForwardLayer

    layer = FeedForwardLayer(np.ones((4, 4), np.float32), np.zeros(4, np.float32))
    dense = NeuralNetwork([layer, layer])
    with pytest.raises(ValueError, match="not a bidirectional LSTM layer"):
        rnn.ensemble_of(dense)


def test_compiled_viterbi_equals_madmoms_path_and_log_probability(processor, signal):
    """The DBN's decoding (mir.beats.viterbi) against madmom's own HMM, on the network's
    activations of the rendered song: for every bar length, a narrow tempo range (the
    re-tracking) and an impossible sequence (no beat in 5 s, at any tempo of the range)."""
    from mir._madmom import import_madmom
    from mir.beats import _parallel_dbn, viterbi

    dbns = import_madmom().features.downbeats.DBNDownBeatTrackingProcessor
    act = processor(signal)
    hmms = [
        *dbns(beats_per_bar=[3, 4], min_bpm=55.0, max_bpm=215.0, fps=100).hmms,
        *dbns(beats_per_bar=[3], min_bpm=125.0, max_bpm=139.0, fps=100).hmms,
    ]
    log_ps = []
    for hmm in hmms:
        path, log_p = viterbi(hmm, act)
        expected_path, expected_log_p = hmm.viterbi(act)
        assert path.size == act.shape[0]
        np.testing.assert_array_equal(path, expected_path)
        assert log_p == expected_log_p  # the same additions in the same order
        log_ps.append(log_p)
    # the pipeline's DBN (and so madmom's process, through each HMM) decodes with it
    routed = _parallel_dbn(dbns(beats_per_bar=[3, 4], fps=100))
    assert all(hmm.viterbi.func is viterbi for hmm in routed.hmms)
    # 3/4 wins, as rendered
    assert log_ps[0] > log_ps[1]
    with pytest.warns(RuntimeWarning, match="-inf log probability"):
        empty, log_p = viterbi(hmms[0], np.zeros((500, 2), dtype=np.float32))
    assert empty.size == 0
