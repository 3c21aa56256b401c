"""Tracks are partitions: one dynamic partition per registered track id."""

from dagster import DynamicPartitionsDefinition

TRACKS = "tracks"
tracks_partitions = DynamicPartitionsDefinition(name=TRACKS)
