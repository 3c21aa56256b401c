"""Dagster's storage on a real PostgreSQL server on loopback (the multi-machine deployment)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, materialize

from mir.info import info_path, read_info
from mir.synth import render_song
from tests.dagster_dev import free_port
from tests.helpers import register


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not versions:
        raise RuntimeError(
            "PostgreSQL server binaries not found: install Debian's postgresql (make setup-dev does)"
        )
    return versions[-1]


def _as_server_user(args: list[str]) -> list[str]:
    # the server refuses to run as root
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def postgres():
    bin_dir, port = _pg_bin(), free_port()
    # not under pytest's tmp_path: its parents are closed to the server's own user
    base = Path(tempfile.mkdtemp(prefix="mir-pg-"))
    data, sockets = base / "pgdata", base / "pgsock"
    data.mkdir()
    sockets.mkdir()
    if os.geteuid() == 0:
        for p in (base, data, sockets):
            shutil.chown(p, "postgres")
    tmp_path = base
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(tmp_path / "pg.log"), "start"]),
                   check=True, capture_output=True)  # fmt: skip
    try:
        subprocess.run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "dagster"],
                       check=True, capture_output=True)  # fmt: skip
        yield port
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )


def test_a_partition_runs_with_dagster_storage_on_postgres(project, postgres, tmp_path):
    home = tmp_path / "pg_home"
    home.mkdir()
    config = yaml.safe_load(Path("config/dagster-postgres.yaml").read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    db.update(
        {
            "hostname": "127.0.0.1",
            "port": postgres,
            "username": "postgres",
            "password": "",
            "db_name": "dagster",
        }
    )
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    instance = DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        path = project.add_audio("Postgres Song.wav", render_song(bpm=100, bars=2).mix)
        (track_id,) = register(project, [path], instance)
        from mir_assets.definitions import all_assets

        result = materialize(all_assets, selection=["source_audio", "loudness"], partition_key=track_id,
                             instance=instance, resources=project.resources())  # fmt: skip
        assert result.success
        assert "lufs" in read_info(info_path(project.library / track_id))
        # a second instance on the same database (another machine) sees the run and the partition
        other = DagsterInstance.from_config(str(home))
        assert other.get_run_by_id(result.run_id).tags["dagster/partition"] == track_id
        assert track_id in other.get_dynamic_partitions("tracks")
        other.dispose()
    finally:
        instance.dispose()
