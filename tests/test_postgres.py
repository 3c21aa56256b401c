"""Dagster's storage on a real PostgreSQL server on loopback (the multi-machine deployment)."""

from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance, materialize

from mir.info import info_path, read_info
from mir.synth import render_song
from tests.helpers import register
from tests.servers import postgres_server


@pytest.fixture
def postgres():
    with postgres_server() as port:
        yield port


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
