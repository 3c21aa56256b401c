"""The demo library: four rendered songs with known tempo, metre and key."""

from __future__ import annotations

import json
from pathlib import Path

#: file name, bpm, tonic, scale, beats per bar, bars
DEMO_SONGS = [
    ("01 - Neon Drive.flac", 128.0, "A", "minor", 4, 16),
    ("02 - Harbour Lights.wav", 100.0, "D", "major", 4, 12),
    ("03 - Old Town Waltz.mp3", 84.0, "F", "major", 3, 12),
    ("04 - Night Market.ogg", 140.0, "E", "minor", 4, 16),
]
#: the file beside the songs that holds their known answers (`mir run` compares)
DEMO_TRUTH = ".demo_truth.json"


def write_demo(out: str | Path) -> dict[Path, dict]:
    """Render the demo songs into `out` (a song already there is kept) and write their
    known answers to :data:`DEMO_TRUTH`.

    Returns
    -------
    dict
        `{song file: {"bpm", "key", "meter"}}`.
    """
    from mir.audio import write_audio
    from mir.synth import render_song
    from mir.tracks import track_name

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    truth, written = {}, {}
    for i, (name, bpm, tonic, scale, bpb, bars) in enumerate(DEMO_SONGS):
        song = render_song(bpm=bpm, tonic=tonic, scale=scale, beats_per_bar=bpb, bars=bars, seed=i)
        path = out / name
        if not path.exists():
            write_audio(path, song.mix, song.sr)
        truth[track_name(name)] = written[path] = {
            "bpm": bpm,
            "key": song.key,
            "meter": f"{bpb}/4",
        }
    (out / DEMO_TRUTH).write_text(json.dumps(truth, indent=2))
    return written
