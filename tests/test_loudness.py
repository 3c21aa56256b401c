"""Loudness: BS.1770 integrated loudness and EBU Tech 3342 loudness range."""

import numpy as np
import pyloudnorm
import pytest

from mir.loudness import LOUDNESS_FLOOR_LUFS, measure_loudness

SR = 48000


def _sine(db_fs: float, seconds: float, freq: float = 1000.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return 10 ** (db_fs / 20) * np.sin(2 * np.pi * freq * t)


def test_lufs_of_a_calibrated_sine_matches_pyloudnorm_within_a_tenth():
    y = np.stack([_sine(-20, 10), _sine(-20, 10)], axis=1)
    ours = measure_loudness(y, sr=SR).lufs
    reference = pyloudnorm.Meter(SR).integrated_loudness(y)
    assert ours == pytest.approx(reference, abs=0.1)
    # a 1 kHz stereo sine at -20 dBFS per channel reads -20 LUFS (+0.6 for two channels)
    assert ours == pytest.approx(-20.0 + 10 * np.log10(2) - 3.01 + 0.0, abs=0.15)


def test_lufs_of_music_matches_pyloudnorm():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((SR * 8, 2)) * np.linspace(0.01, 0.3, SR * 8)[:, None]
    assert measure_loudness(noise, sr=SR).lufs == pytest.approx(
        pyloudnorm.Meter(SR).integrated_loudness(noise), abs=0.1
    )


@pytest.mark.parametrize(
    "levels, expected_lra",
    [
        ((-20, -30), 10.0),  # EBU Tech 3342 test signal 1
        ((-20, -15), 5.0),  # signal 2
        ((-40, -20), 20.0),  # signal 3
        ((-50, -35, -20, -35, -50), 15.0),  # signal 4
    ],
)
def test_lra_of_ebu_3342_test_signals(levels, expected_lra):
    y = np.concatenate([_sine(level, 20) for level in levels])
    y = np.stack([y, y], axis=1)
    assert measure_loudness(y, sr=SR).lra == pytest.approx(expected_lra, abs=1.0)


def test_lra_relative_gate_ignores_a_quiet_intro():
    # 20 s of music-level sine after 20 s far below it: the relative gate (-20 LU)
    # drops the intro; only the windows straddling the step remain. Ungated: ~45 LU
    y = np.concatenate([_sine(-65, 20), _sine(-20, 20)])
    assert measure_loudness(np.stack([y, y], 1), sr=SR).lra < 3.0


def test_silence_reads_as_the_floor():
    assert measure_loudness(np.zeros((SR * 2, 2)), sr=SR).lufs == LOUDNESS_FLOOR_LUFS
