"""Track files: .INFO merges are atomic and lossless; grids keep the original format."""

import json
import multiprocessing as mp

import numpy as np
import pytest

from mir.info import info_path, read_info, read_times, safe_update, write_times


def test_safe_update_merges_and_new_values_win(tmp_path):
    path = info_path(tmp_path / "Song")
    safe_update(path, {"a": 1, "b": 2.5})
    safe_update(path, {"b": 3.0, "c": "x", "d": np.float32(0.5)})
    assert read_info(path) == {"a": 1, "b": 3.0, "c": "x", "d": 0.5}
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "a": 1')  # 2-space indent, like the original


def test_info_is_named_after_the_folder(tmp_path):
    assert info_path(tmp_path / "My Track").name == "My Track.INFO"


def test_corrupt_info_is_moved_aside_not_overwritten(tmp_path):
    path = info_path(tmp_path / "Song")
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.warns(UserWarning, match="moved aside"):
        safe_update(path, {"lufs": -14.0})
    assert read_info(path) == {"lufs": -14.0}
    (aside,) = path.parent.glob("Song.INFO.corrupt-*")
    assert aside.read_text() == "{not json"


def _merge_keys(path, worker, n_keys):
    for k in range(n_keys):
        safe_update(path, {f"w{worker}_k{k}": worker * 1000 + k})


def test_eight_processes_merging_into_one_info_lose_no_key(tmp_path):
    path = info_path(tmp_path / "Song")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_merge_keys, args=(path, w, 25)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    data = json.loads(path.read_text())
    assert len(data) == 8 * 25
    assert all(data[f"w{w}_k{k}"] == w * 1000 + k for w in range(8) for k in range(25))
    assert not list(tmp_path.rglob("*.tmp*"))


def test_beat_files_have_one_time_per_line_with_six_decimals(tmp_path):
    path = tmp_path / "Song.BEATS_GRID"
    write_times(path, [0.5, 1.0, 1.4687501])
    assert path.read_text() == "0.500000\n1.000000\n1.468750\n"
    assert np.allclose(read_times(path), [0.5, 1.0, 1.46875])
    assert read_times(tmp_path / "missing.DOWNBEATS").size == 0
