"""bench/gpu_check.py on the CPU, as CI runs it: every family's tiny model loads and runs
through the GPU resource, and the table has its load time, speed and peak memory."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_gpu_check_runs_every_family_on_the_cpu(tmp_path):
    out = tmp_path / "rows.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--device", "cpu",
         "--seconds", "3", "--json", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r["family"]: r for r in json.loads(out.read_text())}
    assert list(rows) == [
        "essentia", "demucs", "bs_roformer", "aesthetics", "adtof", "music_flamingo"
    ]  # fmt: skip
    assert rows["demucs"]["ran_on"] == "torch cpu"
    assert rows["essentia"]["ran_on"] == "onnxruntime CPU"
    assert rows["music_flamingo"]["ran_on"] == "llama.cpp CPU"
    for row in rows.values():
        assert row["audio_s"] == 3.0 and row["load_s"] > 0 and row["run_s"] > 0
        assert row["realtime"] > 0 and row["peak_rss_mb"] >= 0 and row["peak_gpu_mb"] is None
    table = proc.stdout.splitlines()
    assert table[0] == "device: cpu" and table[1].split()[:3] == ["family", "ran", "on"]
    assert [line.split()[0] for line in table[2:]] == list(rows)
