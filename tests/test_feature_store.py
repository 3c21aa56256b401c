"""The feature store's two backends, DuckDB (embedded) and PostgreSQL (many machines):
the same tables, upserts, column additions, registry, crops, labels and time series
through one interface; concurrent writers in several processes lose no row."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import numpy as np
import psycopg2
import pytest

from mir import quality
from mir.config import config_from_dict
from mir.errors import ConfigError
from mir_assets.quality import group_duplicates, stored_duplicates
from store import open_tables
from store.duckdb import DuckDBTables
from store.postgres import PostgresTables
from store.tables import FeatureTables
from tests.servers import create_database, postgres_server

_databases = itertools.count()


@pytest.fixture(scope="module")
def pg_port():
    with postgres_server("postgres_default") as port:
        yield port


def new_database(port: int) -> str:
    """A fresh database on the test server; its URL."""
    return create_database(port, f"store_{next(_databases)}")


@pytest.fixture(params=["duckdb", "postgres"])
def store(request, tmp_path) -> FeatureTables:
    if request.param == "duckdb":
        return DuckDBTables(tmp_path / "mir.duckdb")
    return PostgresTables(new_database(request.getfixturevalue("pg_port")))


def test_upserts_add_columns_widen_types_and_keep_comments(store):
    store.upsert(
        "loudness",
        {"a": {"lufs": -14, "label": "loud", "bands": {"low": [1, 2]}, "ok": True}},
        comments={"lufs": "integrated loudness, LUFS"},
    )
    store.upsert("loudness", {"a": {"lufs": -9.5, "lra": 6}, "b": {"lufs": -20, "ok": False}})
    with store.connect(read_only=True) as con:
        columns = store.columns(con, "loudness")
        comments = store._comments(con, "loudness")
    assert columns == {
        "track_id": "VARCHAR", "materialized_at": "TIMESTAMP", "lufs": "DOUBLE",
        "label": "VARCHAR", "bands": "JSON", "ok": "BOOLEAN", "lra": "BIGINT",
    }  # fmt: skip
    assert comments["lufs"] == "integrated loudness, LUFS"
    # a row is replaced whole: the keys the second write did not give are gone
    assert store.read("loudness") == {
        "a": {"lufs": -9.5, "lra": 6},
        "b": {"lufs": -20.0, "ok": False},
    }
    store.upsert("loudness", {"c": {"bands": {"low": [0.5]}, "label": "it's 100% ?"}})
    assert store.read("loudness", ["c", "missing"]) == {
        "c": {"bands": {"low": [0.5]}, "label": "it's 100% ?"}
    }
    assert store.read("no_such_table") == {}
    assert "loudness" in store.tables()


def test_the_registry_names_tracks_once_and_remembers_rejected_files(store, tmp_path):
    song, copy, other = (tmp_path / n for n in ("Song.wav", "Copy.wav", "Song!.wav"))
    song.write_bytes(b"one")
    copy.write_bytes(b"one")
    other.write_bytes(b"two")
    registered = store.register([(song, "sha1", "Song"), (copy, "sha1", "Copy")])
    assert [(t, new) for t, _, new in registered] == [("Song", True), ("Song", False)]
    store.reject([(other, "not audio")])
    assert store.rejected() == {str(other): (3, other.stat().st_mtime_ns, "not audio")}
    # the rejected file decodes now (same name as a track: it gets a unique id)
    assert [t for t, _, _ in store.register([(other, "sha2", "Song")])] == ["Song (2)"]
    assert store.rejected() == {}
    assert store.track_ids() == ["Song", "Song (2)"]
    assert store.track("Song") == {"source_path": str(song), "sha256": "sha1", "size_bytes": 3}
    assert set(store.sources()) == {str(song), str(copy), str(other)}
    assert store.sources()[str(copy)][2] == "Song"


def test_crop_rows_arrays_and_labels(store):
    store.replace_crop_rows("crops", "a", [{"crop_index": i, "bpm": 120.0 + i} for i in range(3)])
    store.replace_crop_rows("crops", "a", [{"crop_index": 0, "bpm": 90.0, "key": "A minor"}])
    store.replace_crop_rows("crops", "b", [{"crop_index": 0, "bpm": 100}])
    rows = store.read_crop_rows("crops", ["a", "b"])
    assert [(r["crop_index"], r["bpm"], r.get("key")) for r in rows["a"]] == [(0, 90.0, "A minor")]
    assert rows["b"][0]["bpm"] == 100.0

    whole = {"rms": np.arange(6, dtype=np.float32).reshape(2, 3), "scalar": np.float32(2.5)}
    store.write_arrays("a", -1, {k: np.asarray(v) for k, v in whole.items()})
    store.replace_crop_arrays("a", {0: {"rms": np.ones(4)}, 1: {"rms": np.zeros(2)}})
    store.replace_crop_arrays("a", {0: {"rms": np.full(3, 7.0)}})
    back = store.read_arrays("a", -1)
    np.testing.assert_array_equal(back["rms"], whole["rms"])
    assert back["scalar"].shape == () and float(back["scalar"]) == 2.5
    np.testing.assert_array_equal(store.read_arrays("a", 0)["rms"], [7.0, 7.0, 7.0])
    assert store.read_arrays("a", 1) == {}

    store.replace_labels("a", {"genre": {"Techno": 0.9, "Ambient": 0.1}, "mood": {"calm": 0.2}})
    store.replace_labels("a", {"genre": {"Techno": 0.8}})
    with store.analytics(["labels"]) as con:
        assert con.execute("SELECT label, probability FROM labels").fetchall() == [("Techno", 0.8)]


def test_duplicate_groups_are_settled_in_the_store(store):
    rng = np.random.default_rng(0)
    items = rng.integers(0, 2**32, 600, dtype=np.uint64).astype(np.uint32)
    mp3 = quality.Copy("mp3", False, False, 192, 44100, 180.0)
    flac = quality.Copy("flac", True, False, 0, 44100, 180.0)
    assert group_duplicates(store, mp3, items) == {"mp3": (None, None)}
    decisions = group_duplicates(store, flac, items)
    assert decisions["flac"] == (None, None)
    assert decisions["mp3"][0] == "flac" and decisions["mp3"][1] == pytest.approx(1.0)
    assert stored_duplicates(store) == {"flac": (None, None), "mp3": ("flac", pytest.approx(1.0))}
    assert stored_duplicates(store, ["flac"]) == {"flac": (None, None)}


def test_the_readme_queries_run_on_a_snapshot_and_directly(store, tmp_path):
    store.upsert("beat_grid", {"fast": {"bpm": 128.0}, "slow": {"bpm": 90.0}})
    store.upsert("loudness", {"fast": {"lufs": -8.0}, "slow": {"lufs": -14.0}})
    store.replace_labels("fast", {"genre": {"Electronic---Techno": 0.7}})
    store.reject([(tmp_path / "broken.wav", "not audio")])
    queries = {
        "SELECT track_id, bpm, lufs FROM beat_grid JOIN loudness USING (track_id) WHERE bpm > 120": [("fast", 128.0, -8.0)],
        "SELECT track_id FROM labels WHERE category = 'genre' AND label = 'Electronic---Techno' AND probability > 0.5": [("fast",)],
        "SELECT source_path, reason FROM rejected_files": [(str(tmp_path / "broken.wav"), "not audio")],
    }  # fmt: skip
    snapshot = tmp_path / "snapshot.duckdb"
    copied = store.snapshot(snapshot)
    assert {"beat_grid", "loudness", "labels", "rejected_files"} <= set(copied)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        for sql, expected in queries.items():
            assert con.execute(sql).fetchall() == expected, sql
    finally:
        con.close()
    with store.connect(read_only=True) as con:
        for sql, expected in queries.items():
            assert [tuple(r) for r in con.execute(sql).fetchall()] == expected, sql


WRITER = """
import sys, time
from pathlib import Path
from store import open_tables
from mir.config import config_from_dict

url, worker, n, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
store = open_tables(config_from_dict({"feature_store": {"backend": "postgres", "postgres_url": url}}))
while not start.exists():
    time.sleep(0.01)
for i in range(n):
    track = f"w{worker}-t{i}"
    # every worker adds columns of its own to the same table as it goes
    store.upsert("features", {track: {"worker": worker, "i": i, f"only_w{worker}": float(i), f"step{i % 3}": i}})
    store.replace_crop_rows("crops", track, [{"crop_index": c, "worker": worker} for c in range(2)])
    store.replace_labels(track, {"genre": {f"g{worker}": 0.5}})
    audio = start.parent / f"{track}.wav"
    audio.write_bytes(track.encode())
    store.register([(audio, track, track)])
"""


def test_writers_in_several_processes_lose_no_row(pg_port, tmp_path):
    url, workers, n = new_database(pg_port), 4, 25
    start = tmp_path / "start"
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), url, str(w), str(n), str(start)])
        for w in range(workers)
    ]  # fmt: skip
    start.touch()
    assert [p.wait(timeout=300) for p in procs] == [0] * workers
    store = PostgresTables(url)
    rows = store.read("features")
    assert len(rows) == workers * n
    for w, i in itertools.product(range(workers), range(n)):
        row = rows[f"w{w}-t{i}"]
        assert row["worker"] == w and row["i"] == i and row[f"only_w{w}"] == float(i)
        assert row[f"step{i % 3}"] == i
    crops = store.read_crop_rows("crops", list(rows))
    assert sum(len(c) for c in crops.values()) == 2 * workers * n
    assert len(store.track_ids()) == workers * n
    with store.analytics(["labels"]) as con:
        assert con.execute("SELECT count(*) FROM labels").fetchone()[0] == workers * n


def test_the_backend_is_chosen_in_the_config(monkeypatch, tmp_path):
    cfg = config_from_dict({"paths": {"duckdb": str(tmp_path / "f.duckdb")}})
    default = open_tables(cfg)
    assert isinstance(default, DuckDBTables) and not isinstance(default, PostgresTables)
    assert default.location == str(tmp_path / "f.duckdb")
    url = "postgresql://mir:secret@db-host:5432/mir"
    store = open_tables(
        config_from_dict({"feature_store": {"backend": "postgres", "postgres_url": url}})
    )
    # siblings: the PostgreSQL store is a feature store, not a DuckDB one
    assert isinstance(store, PostgresTables) and isinstance(store, FeatureTables)
    assert not isinstance(store, DuckDBTables)
    assert store.location == "postgresql://mir:***@db-host:5432/mir"
    monkeypatch.setenv("MIR_FEATURE_STORE", "postgres")
    monkeypatch.setenv("MIR_FEATURE_STORE_URL", url)
    assert isinstance(open_tables(config_from_dict({})), PostgresTables)
    monkeypatch.delenv("MIR_FEATURE_STORE_URL")
    with pytest.raises(ConfigError, match="feature_store.postgres_url"):
        config_from_dict({})


def test_a_store_that_cannot_be_reached_is_a_clear_error(tmp_path):
    from tests.dagster_dev import free_port

    store = PostgresTables(f"postgresql://postgres@127.0.0.1:{free_port()}/mir")
    with pytest.raises(psycopg2.OperationalError, match="127.0.0.1"):
        store.read("loudness")
    assert Path(tmp_path).exists()


def test_mir_snapshot_copies_a_postgres_store_into_duckdb(pg_port, tmp_path):
    url = new_database(pg_port)
    PostgresTables(url).upsert("loudness", {"a": {"lufs": -9.5}}, comments={"lufs": "LUFS"})
    config = tmp_path / "mir.yaml"
    config.write_text(f"feature_store:\n  backend: postgres\n  postgres_url: {url}\n")
    out = tmp_path / "copy.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "mir_cli", "snapshot", str(out), "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"feature store:  {url}" in done.stdout and f"copied to {out}" in done.stdout
    con = duckdb.connect(str(out), read_only=True)
    try:
        assert con.execute("SELECT track_id, lufs FROM loudness").fetchall() == [("a", -9.5)]
        assert con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'loudness' AND column_name = 'lufs'"
        ).fetchone() == ("LUFS",)
    finally:
        con.close()


def test_machines_mounting_the_inbox_at_different_places_agree_on_its_files(store, tmp_path):
    (tmp_path / "share" / "inbox" / "Artist").mkdir(parents=True)
    song = tmp_path / "share" / "inbox" / "Artist" / "Song.wav"
    song.write_bytes(b"one")
    for mount in ("mount-a", "mount-b"):
        (tmp_path / mount).symlink_to(tmp_path / "share")
    # one store, seen from two machines: each with its own path to the inbox
    a, b = (copy.copy(store) for _ in range(2))
    a.inbox, b.inbox = tmp_path / "mount-a" / "inbox", tmp_path / "mount-b" / "inbox"
    ((track_id, _, _),) = a.register([(a.inbox / "Artist" / "Song.wav", "sha1", "Song")])
    a.reject([(a.inbox / "broken.wav", "not audio")])
    assert b.track(track_id)["source_path"] == str(b.inbox / "Artist" / "Song.wav")
    assert set(b.sources()) == {
        str(b.inbox / "Artist" / "Song.wav"),
        str(b.inbox / "broken.wav"),
    }
    assert set(b.rejected()) == {str(b.inbox / "broken.wav")}
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT source_path FROM tracks").fetchall() == [("Artist/Song.wav",)]
    # a file outside the inbox keeps its absolute path
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(b"two")
    ((other, _, _),) = a.register([(outside, "sha2", "Elsewhere")])
    assert b.track(other)["source_path"] == str(outside)


def test_values_postgres_would_refuse_are_stored_alike_on_both(store, tmp_path):
    nan, inf = float("nan"), float("inf")
    store.upsert(
        "odd",
        {"a": {"bands": {"low": [1.0, nan], "high": inf}, "title": "nul\x00byte", "x": nan}},
    )
    assert store.read("odd") == {
        "a": {"bands": {"low": [1.0, None], "high": None}, "title": "nulbyte"}
    }
    with pytest.raises(ValueError, match="at most 63 characters"):
        store.upsert("odd", {"a": {"k" * 64: 1}})
    with pytest.raises(ValueError, match="only in case"):
        store.upsert("odd", {"a": {"Title": "x"}})
    # a path given twice in one batch is one row
    song = tmp_path / "Song.wav"
    song.write_bytes(b"one")
    store.register([(song, "sha1", "Song"), (song, "sha1", "Song")])
    store.reject([(tmp_path / "x.wav", "not audio"), (tmp_path / "x.wav", "not audio")])
    assert len(store.sources()) == 2


def test_paths_written_absolute_before_become_relative_to_the_inbox(store, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    old, new, broken = inbox / "old.wav", inbox / "new.wav", inbox / "broken.wav"
    for path in (old, new, broken):
        path.write_bytes(path.name.encode())
    before = copy.copy(store)
    before.inbox = None  # a store written before paths were relative
    before.register([(old, "sha-old", "old")])
    before.reject([(broken, "not audio")])
    store.inbox = inbox
    store.register([(new, "sha-new", "new")])
    with store.connect(read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT source_path FROM track_sources").fetchall()}
        assert stored == {"old.wav", "new.wav"}
        assert con.execute("SELECT source_path FROM rejected_files").fetchall() == [("broken.wav",)]
    assert store.track("old")["source_path"] == str(old)


def test_a_password_never_shows_in_the_location():
    for url in (
        "postgresql://mir:secret@db-host:5432/mir",
        "postgresql://mir@db-host:5432/mir?password=secret",
        "host=db-host user=mir password=secret dbname=mir",
    ):
        location = PostgresTables(url).location
        assert "secret" not in location and "***" in location, location


def test_question_marks_inside_literals_stay_on_postgres(pg_port):
    store = PostgresTables(new_database(pg_port))
    with store.connect(read_only=True) as con:
        assert con.execute("SELECT 'why?', ? || '%'", ["50"]).fetchone() == ("why?", "50%")


def test_config_paths_are_written_one_way(tmp_path):
    cfg = config_from_dict({"paths": {"inbox": "../music/./inbox"}}, root=tmp_path / "project")
    assert cfg.paths.inbox == tmp_path / "music" / "inbox"


def test_the_pipeline_runs_on_the_postgres_store(project, instance, pg_port, tmp_path):
    from dagster import AssetKey, materialize

    from mir.info import info_path, read_info
    from mir.synth import render_song
    from mir_assets.definitions import all_assets, all_checks
    from tests.conftest import write_config
    from tests.helpers import register, run_track
    from tests.test_crops import LENGTH, PIPELINE

    url = new_database(pg_port)
    write_config(
        project.root,
        crops={"length_samples": LENGTH},
        feature_store={"backend": "postgres", "postgres_url": url},
        paths={"crops": str(project.root / "crops"), "dataset": str(project.root / "dataset"),
               "reports": str(project.root / "reports")},
    )  # fmt: skip
    store = PostgresTables(url, inbox=project.inbox)
    path = project.add_audio("Song.wav", render_song(bpm=120, bars=10).mix)
    (track_id,) = register(project, [path], instance, store)
    assert run_track(project, instance, track_id, selection=[*PIPELINE]).success
    stats = materialize(
        [*all_assets, *all_checks],
        selection=[AssetKey("feature_statistics")],
        instance=instance,
        resources=project.resources(),
    )
    assert stats.success
    assert not project.duckdb.exists()  # nothing went to a DuckDB file
    info = read_info(info_path(project.library / track_id))
    assert store.read("beat_grid")[track_id]["bpm"] == info["bpm"] == pytest.approx(120, abs=1.5)
    crops = store.read_crop_rows("crops", [track_id])[track_id]
    assert len(crops) >= 3 and store.read_arrays(track_id, 0)["hpcp_ts"].shape == (256, 12)
    assert len(list((project.root / "dataset").rglob("*.json"))) >= len(crops)
    # the statistics ran on an in-memory DuckDB copy of the Postgres tables
    assert "| bpm | 1 |" in (project.root / "reports" / "feature_statistics.md").read_text()
    # and a snapshot holds what Postgres holds
    snapshot = tmp_path / "snapshot.duckdb"
    store.snapshot(snapshot)
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM crops").fetchone()[0] == len(crops)
        assert con.execute("SELECT bpm FROM beat_grid").fetchone()[0] == info["bpm"]
    finally:
        con.close()


def test_a_failed_statement_inside_a_transaction_leaves_the_duckdb_file_free(tmp_path):
    tables = DuckDBTables(tmp_path / "mir.duckdb")
    with tables.connect() as con:
        con.execute("CREATE TABLE t (a INTEGER PRIMARY KEY)")
        con.execute("INSERT INTO t VALUES (1)")
    # the caller's own error comes out, not one of detaching the file
    with pytest.raises(duckdb.ConstraintException), tables.connect() as con:
        con.begin()
        con.execute("INSERT INTO t VALUES (2)")
        con.execute("INSERT INTO t VALUES (1)")
    # the transaction was rolled back and the file detached: this process attaches it
    # again, and another process opens it
    with tables.connect(read_only=True) as con:
        assert con.execute("SELECT a FROM t ORDER BY a").fetchall() == [(1,)]
    code = f"import duckdb; print(duckdb.connect({str(tables.path)!r}).execute('SELECT count(*) FROM t').fetchone()[0])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"
