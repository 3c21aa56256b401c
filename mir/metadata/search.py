"""The scored lookup of a track's release: choose the query (tags, then the file name,
then a fingerprint), ask every service, score every candidate and keep the best.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mir.metadata.scoring import Candidate, score_candidate
from mir.metadata.services import MusicBrainz, Spotify
from mir.metadata.tags import parse_name, valid_artist


@dataclass
class LookupResult:
    values: dict[str, Any]
    candidates: int
    query: str


def lookup(
    *,
    tags: dict[str, Any],
    file_stem: str,
    duration_s: float | None,
    services: list,
    min_score: float = 0.5,
    fingerprint: Callable[[], tuple[str, str] | None] | None = None,
) -> LookupResult:
    """Choose the query (tags, then the file name, then a fingerprint), ask every service,
    score every candidate and keep the best one if it reaches `min_score`.

    Returns the `.INFO` values: `metadata_lookup_score`, `metadata_lookup_runner_up_score`,
    `metadata_lookup_source`, and for a winner `release_year`, `release_date`, `artists`,
    `album`, `musicbrainz_id` or `spotify_id`, `isrc`, `label`, `genres`.
    """
    name_artist, _, name_title = parse_name(file_stem)
    if valid_artist(tags.get("track_metadata_artist")) and tags.get("track_metadata_title"):
        artist, title = tags["track_metadata_artist"], tags["track_metadata_title"]
    elif valid_artist(name_artist):
        artist, title = name_artist, name_title
    else:
        artist, title = None, tags.get("track_metadata_title") or name_title
    year = tags.get("track_metadata_year")

    def ask(title: str, artist: str | None) -> list[Candidate]:
        found: list[Candidate] = []
        for service in services:
            found += service.search(title, artist)
        return found

    candidates = ask(title, artist)
    if not candidates and fingerprint is not None:
        hit = fingerprint()
        if hit:
            title, artist = hit
            candidates = ask(title, artist)
    for c in candidates:
        c.score = score_candidate(c, duration_s=duration_s, year=year, artist=artist)
    ranked = sorted(candidates, key=lambda c: -c.score)
    values: dict[str, Any] = {
        "metadata_lookup_attempted": True,
        "metadata_lookup_score": ranked[0].score if ranked else 0.0,
        "metadata_lookup_runner_up_score": ranked[1].score if len(ranked) > 1 else 0.0,
    }
    query = f"{artist or '?'} - {title}"
    if not ranked or ranked[0].score < min_score:
        values["metadata_lookup_source"] = "none"
        return LookupResult(values, len(candidates), query)
    best = ranked[0]
    values["metadata_lookup_source"] = best.source
    if best.source == "spotify":
        for service in services:
            if isinstance(service, Spotify):
                service.enrich(best)
    if best.year:
        values["release_year"] = best.year
    for key, value in (
        ("release_date", best.release_date),
        ("album", best.album),
        ("isrc", best.isrc),
        ("label", best.label),
    ):
        if value:
            values[key] = value
    if best.artists:
        values["artists"] = best.artists
    if best.genres:
        values["genres"] = best.genres
    values["musicbrainz_id" if best.source == "musicbrainz" else "spotify_id"] = best.id
    if best.source == "musicbrainz" and not best.isrc:
        for service in services:
            if isinstance(service, MusicBrainz):
                isrc = service.isrc(best.id)
                if isrc:
                    values["isrc"] = isrc
    return LookupResult(values, len(candidates), query)
