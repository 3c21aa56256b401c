"""Faults: a process killed in the middle of writes leaves complete files; hostile inbox names."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from dagster import SensorResult, build_sensor_context

from mir.info import read_info
from store.duckdb import DuckDBTables

INFO_WRITER = """
import os
import sys
from mir.info import safe_update
path, done = sys.argv[1], sys.argv[2]
big = "x" * 200_000  # long writes: the kill lands inside one
i = 0
while True:
    safe_update(path, {"n": i, f"k{i}": big})
    with open(done + ".tmp", "w") as f:  # the kill may land here too: rename, don't truncate
        f.write(str(i))
    os.replace(done + ".tmp", done)
    i += 1
"""

DUCKDB_WRITER = """
import os
import sys
from store.duckdb import DuckDBTables
tables, done = DuckDBTables(sys.argv[1]), sys.argv[2]
i = 0
while True:
    tables.upsert("stress", {f"t{i}-{j}": {"i": i, "blob": "y" * 5000} for j in range(200)})
    with open(done + ".tmp", "w") as f:  # the kill may land here too: rename, don't truncate
        f.write(str(i))
    os.replace(done + ".tmp", done)
    i += 1
"""


def _kill_mid_write(script: str, args: list[str], done, *, after_s: float) -> int:
    proc = subprocess.Popen([sys.executable, "-c", script, *args])
    deadline = time.monotonic() + 60
    while not done.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(after_s)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return int(done.read_text())


def test_sigkill_during_info_writes_leaves_a_complete_info_and_a_rerun_works(tmp_path):
    info, done = tmp_path / "Song" / "Song.INFO", tmp_path / "done"
    for delay in (0.3, 0.77, 1.21):
        last = _kill_mid_write(INFO_WRITER, [str(info), str(done)], done, after_s=delay)
        data = json.loads(info.read_text())  # never a torn file
        assert data["n"] >= last
        assert all(f"k{i}" in data for i in range(last + 1))
    from mir.info import safe_update

    safe_update(info, {"after": True})  # the lock of the killed writer does not block
    assert read_info(info)["after"] is True


def test_sigkill_during_duckdb_writes_keeps_every_committed_row_and_a_rerun_works(tmp_path):
    db, done = tmp_path / "f.duckdb", tmp_path / "done"
    for delay in (0.4, 1.1):
        last = _kill_mid_write(DUCKDB_WRITER, [str(db), str(done)], done, after_s=delay)
        rows = DuckDBTables(db).read("stress")
        assert all(f"t{i}-{j}" in rows for i in range(last + 1) for j in range(200))
    DuckDBTables(db).upsert("stress", {"after": {"i": -1}})
    assert DuckDBTables(db).read("stress", ["after"])["after"]["i"] == -1


def test_hostile_inbox_names_become_safe_tracks_and_outside_links_are_ignored(
    project, instance, tmp_path
):
    from mir.synth import click_track
    from mir_assets.definitions import inbox_sensor

    names = ["up..and...away.wav", "Ünïcödé \"quoted\" 'name'.wav", "02 - a\\b:c.wav"]
    for i, name in enumerate(names):  # different content each: the same content is one track
        y, _ = click_track(100 + 10 * i, duration_s=1.5)
        project.add_audio(name, np.stack([y, y], 1))
    stereo = np.stack([y, y], 1)
    outside = tmp_path / "outside.wav"
    import soundfile as sf

    sf.write(str(outside), stereo * 0.5, 44100)
    (project.inbox / "link.wav").symlink_to(outside)
    cursor = None
    for _ in range(2):
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"settings": project.settings()}
        )
        result = inbox_sensor(context)
        cursor = result.cursor if isinstance(result, SensorResult) else context.cursor
    (added,) = result.dynamic_partitions_requests
    ids = sorted(added.partition_keys)
    assert len(ids) == 3 and len(result.run_requests) == 1  # one batch of three
    for track_id in ids:
        assert (
            "/" not in track_id
            and "\\" not in track_id
            and ".." not in track_id
            and not track_id.startswith(".")
        )
    assert "Ünïcödé _quoted_ 'name'" in ids
    sources = DuckDBTables(project.duckdb, inbox=project.inbox).sources()
    assert str(project.inbox / "link.wav") not in sources


FULL_DISK = """
import resource, signal, sys
from mir.info import InfoError, safe_update
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    safe_update(sys.argv[1], {"huge": "z" * 100_000})
except InfoError as exc:
    print(exc)
    sys.exit(3)
"""


def test_a_full_disk_is_a_clear_error_and_the_info_stays_as_it_was(tmp_path):
    from mir.info import safe_update

    info = tmp_path / "Song" / "Song.INFO"
    safe_update(info, {"lufs": -14.0})
    before = info.read_text()
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(info)], capture_output=True, text=True
    )
    assert proc.returncode == 3, proc.stderr
    assert (
        "cannot write" in proc.stdout and "Song.INFO" in proc.stdout and "disk full" in proc.stdout
    )
    assert info.read_text() == before
    assert not list(info.parent.glob("*.tmp.*"))


# Root passes every permission check (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER),
# so a chmod alone proves nothing under root. The launcher drops those capabilities from
# its bounding set and execs Python again: the program then runs as uid 0 with the
# permissions of an ordinary owner, and the kernel really refuses writes into a 0555
# folder. Without root there is nothing to drop.
DROP_DAC = """
import ctypes, os, sys
if os.geteuid() == 0:
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            sys.exit(f"cannot drop capability {cap}: {os.strerror(ctypes.get_errno())}")
os.execv(sys.executable, [sys.executable, *sys.argv[1:]])
"""

READ_ONLY_RUN = """
import json, sys
from dagster import DagsterInstance, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
from mir.info import InfoError, safe_update
from mir_assets.definitions import all_assets, all_checks, make_resources
from mir_assets.partitions import TRACKS

config, locked_info, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
report = {}
try:  # the test means something only if the kernel refuses this process
    open(locked_info + ".probe", "w").close()
    report["probe"] = "written"
except PermissionError:
    report["probe"] = "refused"
try:
    safe_update(locked_info, {"lufs": 0.0})
except InfoError as exc:
    report["safe_update"] = str(exc)


def failures(result):
    out = {}
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data.user_failure_data
            out[event.step_key] = data.metadata["failed_tracks"].value
    return out


instance = DagsterInstance.ephemeral()
instance.add_dynamic_partitions(TRACKS, ids)
resources = make_resources(config)
quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
batch = materialize(  # with the checks: the asset's check marks the tracks it left out
    [*all_assets, *all_checks], selection=["source_audio"], instance=instance, resources=resources,
    raise_on_error=False, run_config=quiet,
    tags={ASSET_PARTITION_RANGE_START_TAG: ids[0], ASSET_PARTITION_RANGE_END_TAG: ids[-1]},
)
report["batch"] = failures(batch)
for track_id in ids[:2]:
    run = materialize(
        all_assets, selection=["loudness"], partition_key=track_id, instance=instance,
        resources=resources, raise_on_error=False, run_config=quiet,
    )
    report[track_id] = failures(run)
print(json.dumps(report))
"""


def test_a_read_only_library_folder_fails_its_track_alone_with_a_clear_error(
    project, instance, tmp_path
):
    from mir.info import info_path
    from mir.synth import click_track
    from tests.helpers import register, run_track

    paths = []
    for i, name in enumerate(("open", "locked", "new")):
        y, _ = click_track(100 + 10 * i, duration_s=3.0)
        paths.append(project.add_audio(f"{name}.wav", np.stack([y, y], 1) * 0.5))
    ids = register(project, paths, instance)
    assert ids == ["open", "locked", "new"]
    for track_id in ("open", "locked"):
        run_track(project, instance, track_id, selection=["source_audio"])
    library = project.library.resolve()
    locked = library / "locked"
    originals = {p: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) for p in paths}
    locked_files = {p.name: p.read_bytes() for p in locked.iterdir()}
    locked_row = DuckDBTables(project.duckdb).read("source_audio", ["locked"])

    for p in locked.iterdir():
        p.chmod(0o444)
    locked.chmod(0o555)
    library.chmod(0o555)  # no new track folder either
    try:
        proc = subprocess.run(
            [sys.executable, "-c", DROP_DAC, "-c", READ_ONLY_RUN, str(project.config_path),
             str(info_path(locked)), *ids],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        library.chmod(0o755)
        locked.chmod(0o755)
        for p in locked.iterdir():
            p.chmod(0o644)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["probe"] == "refused"  # the kernel, not a flag of ours, said no

    # the .INFO writer names the folder and says why
    assert f"library folder {locked} is not writable" in report["safe_update"]
    assert "locked.INFO" in report["safe_update"]
    # a batch of three: the two tracks that cannot be written fail, each with its folder
    failed = report["batch"]["source_audio_values_in_range"]
    assert set(failed) == {"locked", "new"}
    assert f"library folder {locked} is not writable" in failed["locked"]
    assert f"library folder {library} is not writable" in failed["new"]
    assert "cannot create new" in failed["new"]
    # ... and the writable one is stored; in runs of their own, one passes, one fails
    assert report["open"] == {}
    assert f"library folder {locked} is not writable" in report["locked"]["loudness"]["locked"]

    tables = DuckDBTables(project.duckdb)
    assert set(tables.read("source_audio")) == {"open", "locked"}
    assert tables.read("source_audio", ["locked"]) == locked_row
    assert set(tables.read("loudness")) == {"open"}
    assert "lufs" in read_info(info_path(library / "open"))
    assert {p.name: p.read_bytes() for p in locked.iterdir()} == locked_files  # .INFO unchanged
    assert not (library / "new").exists()
    for p, (data, mode, mtime) in originals.items():
        assert (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns) == (data, mode, mtime)
