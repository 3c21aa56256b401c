"""A candidate recording and its score against what the track says about itself."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field


@dataclass
class Candidate:
    """One recording a service proposed."""

    source: str
    title: str
    artist: str = ""
    artists: list[str] = field(default_factory=list)
    album: str = ""
    year: int | None = None
    release_date: str = ""
    duration_s: float | None = None
    id: str = ""
    isrc: str = ""
    label: str = ""
    genres: list[str] = field(default_factory=list)
    score: float = 0.0
    raw: dict = field(default_factory=dict, repr=False)


def score_candidate(
    c: Candidate, *, duration_s: float | None, year: int | None, artist: str | None
) -> float:
    """Duration (0.5), year (0.3) and artist similarity (0.2), as the original scores them."""
    score = 0.0
    if duration_s and c.duration_s:
        delta = abs(duration_s - c.duration_s)
        if delta < 2:
            score += 0.5
        elif delta <= 10:
            score += 0.5 - 0.4 * (delta - 2) / 8
        elif delta <= 30:
            score += 0.05
    if year and c.year:
        diff = abs(year - c.year)
        score += 0.3 if diff == 0 else 0.2 if diff == 1 else 0.1 if diff <= 3 else 0.0
    if artist and c.artist:
        score += (
            0.2
            * difflib.SequenceMatcher(
                None, artist.lower().strip(), c.artist.lower().strip()
            ).ratio()
        )
    return round(score, 4)
