"""Jobs: every track asset of one track (what the sensor and `mir run` launch)."""

from dagster import AssetSelection, define_asset_job

from mir_assets.partitions import tracks_partitions

track_job = define_asset_job(
    "track_job",
    # every track-partitioned asset; the library-wide statistics and dataset card run on
    # their own
    selection=AssetSelection.all(include_sources=False)
    - AssetSelection.groups("statistics")
    - AssetSelection.assets("sat_dataset_card"),
    partitions_def=tracks_partitions,
    description="Materialize every track asset, with its range checks, for one track (or a batch).",
)
