"""Embedded tags and the file name: what a track says about itself."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

VARIOUS_ARTISTS = {
    "various artists",
    "various",
    "va",
    "v/a",
    "v.a.",
    "compilation",
    "unknown",
    "unknown artist",
}


def embedded_tags(path: str | Path) -> dict[str, Any]:
    """`track_metadata_{artist,title,album,genre,year}` from the file's tags (mutagen)."""
    import mutagen

    try:
        tags = mutagen.File(str(path), easy=True)
    except Exception:
        return {}
    out: dict[str, Any] = {}
    if tags is None or not tags.tags:
        return out
    for key in ("artist", "title", "album", "genre"):
        value = tags.tags.get(key)
        if value:
            out[f"track_metadata_{key}"] = str(value[0]).strip()
    date = tags.tags.get("date") or tags.tags.get("year")
    if date and str(date[0])[:4].isdigit():
        out["track_metadata_year"] = int(str(date[0])[:4])
    return out


def parse_name(stem: str) -> tuple[str | None, str | None, str]:
    """(artist, album, title) from "Artist - Album - Title", "Artist - Title" or "Title"."""
    stem = re.sub(r"^\s*\d+\s*[-._]?\s*", "", stem).strip() or stem
    parts = [p.strip() for p in stem.split(" - ")]
    if len(parts) >= 3:
        return parts[0], parts[1], " - ".join(parts[2:])
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return None, None, parts[0]


def valid_artist(artist: str | None) -> bool:
    return bool(artist and artist.strip() and artist.strip().lower() not in VARIOUS_ARTISTS)
