"""The feature store's tables, without Dagster: one table per feature asset, the track
registry, the crops, the time series and the label probabilities.

:class:`store.tables.FeatureTables` holds what every backend does the same way; its two
backends, siblings, are :class:`store.duckdb.DuckDBTables` (a DuckDB file, the embedded
default) and :class:`store.postgres.PostgresTables` (PostgreSQL, for many machines
writing at once). :func:`open_tables` opens the one the configuration names. The IO
manager, the sensor and the command line share them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mir.config import MasterConfig
    from store.tables import FeatureTables


def open_tables(config: MasterConfig) -> FeatureTables:
    """The feature store `config` names: `feature_store.backend` (DuckDB at `paths.duckdb`,
    or PostgreSQL at `feature_store.postgres_url`), its registry's paths relative to
    `paths.inbox`."""
    section = config.feature_store
    # each backend imported when chosen: a DuckDB store never loads psycopg2
    if section.backend == "postgres":
        from store.postgres import PostgresTables

        return PostgresTables(section.postgres_url, inbox=config.paths.inbox)
    from store.duckdb import DuckDBTables

    return DuckDBTables(config.paths.duckdb, inbox=config.paths.inbox)
