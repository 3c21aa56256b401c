"""Tracks are partitions: one dynamic partition per registered track id."""

from dagster import DynamicPartitionsDefinition

TRACKS = "tracks"
tracks_partitions = DynamicPartitionsDefinition(name=TRACKS)


def new_partitions(instance, track_ids) -> list[str]:
    """The track ids among `track_ids` that are not partitions yet, once each, in order
    (the sensor asks for them in its result; `mir run` and the tests add them)."""
    existing = set(instance.get_dynamic_partitions(TRACKS))
    return [t for t in dict.fromkeys(track_ids) if t not in existing]


def add_track_partitions(instance, track_ids) -> list[str]:
    """Add a partition for each of `track_ids` that has none; returns those added."""
    new = new_partitions(instance, track_ids)
    if new:
        instance.add_dynamic_partitions(TRACKS, new)
    return new
