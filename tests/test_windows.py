"""The latent window planner: downbeat starts, the end anchor, short tracks, coverage."""

import numpy as np
import pytest

from mir.dataset.windows import (
    coverage,
    manifest_rows,
    plan_windows,
    read_manifest,
    write_manifest,
)

SR, SPF = 100, 10  # 10 frames per second: a window of 8 frames is 0.8 s


def plan(seconds, downbeats=(), frames=8, boundaries=None):
    return plan_windows(
        int(seconds * SR),
        sample_rate=SR,
        n_frames=frames,
        samples_per_frame=SPF,
        downbeats_s=downbeats,
        boundaries_s=boundaries,
    )


def test_each_window_starts_on_the_last_downbeat_before_the_previous_end():
    bars = np.arange(0.3, 3.0, 0.3)  # a bar every 0.3 s
    windows = plan(3.0, bars)
    starts = [w.start_s for w in windows]
    # 0 -> ends 0.8: last bar <= 0.8 is 0.6; 0.6 -> 1.4: 1.2; 1.2 -> 2.0: 1.8; then the end
    assert starts[:4] == pytest.approx([0.0, 0.6, 1.2, 1.8])
    assert windows[-1].start_s == pytest.approx(3.0 - 0.8)  # anchored at the end
    assert windows[-1].start + windows[-1].valid == 300
    assert all(w.end - w.start == 80 for w in windows)
    assert [w.index for w in windows] == list(range(len(windows)))
    assert coverage(windows, 300) == 1.0


def test_without_downbeats_windows_follow_each_other():
    windows = plan(2.0)
    assert [w.start for w in windows] == [0, 80, 120]  # 0, 0.8, then 2.0 - 0.8
    assert coverage(windows, 200) == 1.0


def test_a_track_shorter_than_a_window_is_one_padded_window():
    (w,) = plan(0.35, [0.1])
    assert (w.start, w.end, w.valid) == (0, 80, 35)
    assert w.padding_mask() == [1, 1, 1, 1, 0, 0, 0, 0]  # frames starting at 0-0.3 s
    assert w.duration_s == pytest.approx(0.35)
    assert coverage([w], 35) == 1.0


def test_a_track_of_exactly_one_window_is_one_unpadded_window():
    (w,) = plan(0.8, [0.4])
    assert w.valid == 80 and w.padding_mask() == [1] * 8


def test_a_section_boundary_is_preferred_over_a_later_downbeat():
    windows = plan(2.0, downbeats=[0.3, 0.6, 0.9], boundaries=[0.5])
    assert windows[1].start_s == pytest.approx(0.5)


def test_every_second_is_covered_on_random_grids():
    rng = np.random.default_rng(0)
    for _ in range(50):
        seconds = rng.uniform(0.1, 20)
        bars = np.sort(rng.uniform(0, seconds, rng.integers(0, 40)))
        windows = plan(seconds, bars, frames=int(rng.integers(1, 30)))
        n = int(seconds * SR)
        assert coverage(windows, n) == 1.0
        assert windows[0].start == 0 and windows[-1].start + windows[-1].valid == n
        assert all(b.start > a.start for a, b in zip(windows, windows[1:], strict=False))


def test_the_manifest_round_trips(tmp_path):
    windows = plan(2.0, [0.6])
    path = write_manifest(
        tmp_path / "t.LATENT_WINDOWS.csv", manifest_rows(windows, track_folder="T", track="T")
    )
    rows = read_manifest(path)
    assert [r["window"] for r in rows] == ["0", "1", "2"]
    assert rows[1]["start_s"] == "0.6" and rows[1]["duration_s"] == "0.8"
    assert list(rows[0]) == [
        "track_folder", "track", "window", "start_s", "end_s", "duration_s",
        "start_sample", "end_sample", "frames", "valid_frames",
    ]  # fmt: skip
