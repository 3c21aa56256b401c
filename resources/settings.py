"""PipelineSettings: the pipeline configuration as a Dagster resource.

Everything that needs a path (the library, the DuckDB file, the inbox, the models)
asks this resource, so one YAML file and its environment overrides steer the whole
code location.
"""

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import PrivateAttr

from mir.config import MasterConfig, load_config
from mir.info import info_path, safe_update
from store import open_tables
from store.tables import FeatureTables


class PipelineSettings(ConfigurableResource):
    """The pipeline configuration (`config/master_pipeline.yaml`).

    Attributes
    ----------
    config_path : str
        The YAML file; empty means $MIR_CONFIG, else the project default.
    """

    config_path: str = ""
    _config: MasterConfig | None = PrivateAttr(default=None)

    @property
    def config(self) -> MasterConfig:
        if self._config is None:
            self._config = load_config(self.config_path or None)
        return self._config

    @property
    def library(self) -> Path:
        return self.config.paths.library

    @cached_property
    def tables(self) -> FeatureTables:
        return open_tables(self.config)

    def track_dir(self, track_id: str) -> Path:
        """`<library>/<track id>/`; the id is checked to stay inside the library."""
        path = (self.library / track_id).resolve()
        if path.parent != self.library.resolve() or track_id in ("", ".", ".."):
            raise ValueError(f"unsafe track id {track_id!r}")
        return path

    def write_features(
        self,
        table: str,
        rows: Mapping[str, Mapping[str, Any]],
        *,
        comments: Mapping[str, str] | None = None,
    ) -> int:
        """Merge each track's values into its `.INFO`, then upsert them into the feature store's table.

        The `.INFO` files of a batch are written on a few threads: each write waits for
        its own fsyncs, and one after another they added up on a busy disk. The first
        failure (in track order) is raised, and then nothing goes to DuckDB.
        """
        paths = {track_id: info_path(self.track_dir(track_id)) for track_id in rows}
        if len(paths) > 1:
            with ThreadPoolExecutor(min(8, len(paths)), thread_name_prefix="info") as pool:
                writes = [pool.submit(safe_update, paths[t], values) for t, values in rows.items()]
            for write in writes:
                write.result()
        else:
            for track_id, values in rows.items():
                safe_update(paths[track_id], values)
        return self.tables.upsert(table, rows, comments=comments)
