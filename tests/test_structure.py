"""Song structure: sections on downbeats, labels and names, and where they reach the data."""

import base64
import json

import numpy as np
import pytest

from mir.audio import Audio
from mir.captions.template import template_caption
from mir.dataset.crops import plan_crops, plan_section_crops
from mir.dataset.timeseries import read_npz
from mir.dataset.windows import read_manifest
from mir.info import read_info
from mir.loudness import measure_loudness
from mir.structure import (
    NAMES,
    Section,
    analyze_structure,
    bar_grid,
    checkerboard_novelty,
    cluster_sections,
    form_of,
    name_sections,
    read_sections,
    section_boundaries,
    section_of_span,
    section_series,
    section_similarity,
    section_windows,
    sections_png,
    segment_bars,
    span_values,
    write_sections,
)
from mir.synth import SONG_FORMS, parse_form, render_form
from store.duckdb import DuckDBTables
from tests.conftest import write_config
from tests.helpers import register, run_track

SR = 44100
#: a short song in sections (36 bars of 1.6 s)
FORM = "intro:2 verse:8 chorus:8 verse:8 chorus:8 outro:2"


@pytest.fixture(scope="module")
def form_song():
    return render_form(FORM, bpm=150, tonic="G", scale="major", seed=3)


def _sections(*spans):
    """Sections from (start, end, label, name) tuples."""
    return [Section(a, b, lab, name, 1.0, 1.0, -20.0, 0.5) for a, b, lab, name in spans]


# -- the rendered songs ---------------------------------------------------------------------


def test_a_rendered_form_tiles_the_song_with_sections_that_start_on_downbeats(form_song):
    song = form_song
    assert [name for *_, name in song.sections] == [n for n, _ in parse_form(FORM)]
    assert song.sections[0][0] == 0.0
    assert song.sections[-1][1] == pytest.approx(song.mix.shape[0] / SR)
    for (_, end, _, _), (start, _, _, _) in zip(song.sections, song.sections[1:], strict=False):
        assert end == start
    # bars 2, 10, 18, 26, 34 of 1.6 s after the 0.25 s lead-in
    assert song.boundaries == pytest.approx(0.25 + 1.6 * np.array([2, 10, 18, 26, 34]))
    assert set(song.boundaries) <= set(song.downbeats)


def test_rendered_sections_differ_in_chords_density_and_level(form_song):
    song = form_song
    mix = song.mix.mean(axis=1)

    def part(name, k=0):
        start, end, _, _ = [s for s in song.sections if s[3] == name][k]
        return mix[int(start * SR) : int(end * SR)]

    rms = {name: float(np.sqrt(np.mean(part(name) ** 2))) for name in ("verse", "chorus")}
    assert rms["chorus"] > 1.2 * rms["verse"]  # the chorus is louder and denser
    # the two choruses repeat their chords: their bass spectra agree, the verse's differs
    bass = {
        key: np.abs(np.fft.rfft(song.stems["bass"].mean(axis=1)[int(a * SR) : int(a * SR) + SR]))
        for key, (a, _, _, _) in (
            ("chorus1", [s for s in song.sections if s[3] == "chorus"][0]),
            ("chorus2", [s for s in song.sections if s[3] == "chorus"][1]),
            ("verse", [s for s in song.sections if s[3] == "verse"][0]),
        )
    }
    cos = lambda a, b: float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))  # noqa: E731
    assert cos(bass["chorus1"], bass["chorus2"]) > 0.9 > cos(bass["chorus1"], bass["verse"])


def test_a_form_with_an_unknown_section_name_is_an_error():
    with pytest.raises(ValueError, match="'solo:4'"):
        parse_form("intro:4 solo:4")
    assert all(parse_form(form) for form in SONG_FORMS.values())


# -- the analysis -------------------------------------------------------------------------


def test_the_form_of_a_rendered_song_is_found_with_boundaries_on_its_downbeats(form_song):
    song = form_song
    found = analyze_structure(Audio(song.mix, SR), song.beats, song.downbeats)
    assert found.form == "intro A B A B outro"
    assert [s.name for s in found.sections] == [
        "intro",
        "verse",
        "chorus",
        "verse",
        "chorus",
        "outro",
    ]
    starts = section_boundaries(found.sections)
    assert starts[0] == 0.0
    assert starts[1:] == pytest.approx(song.boundaries, abs=1e-6)
    assert found.sections[-1].end == pytest.approx(song.mix.shape[0] / SR)
    assert found.grid == "downbeats"
    values = found.values()
    assert values["section_count"] == 6
    assert values["section_mean_seconds"] == pytest.approx(song.mix.shape[0] / SR / 6, abs=1e-3)
    choruses = [s for s in found.sections if s.name == "chorus"]
    verses = [s for s in found.sections if s.name == "verse"]
    assert min(s.energy for s in choruses) == pytest.approx(1.0, abs=0.05)
    assert max(s.energy for s in verses) < 0.9
    for s in found.sections:
        assert 0.0 <= s.label_confidence <= 1.0 and 0.0 <= s.name_confidence <= 1.0
        assert s.lufs < 0 and np.isfinite(s.lufs)
    assert min(s.name_confidence for s in choruses) >= 0.5
    # each section's loudness is BS.1770 over its own audio
    chorus = choruses[0]
    own = measure_loudness(song.mix[int(chorus.start * SR) : int(chorus.end * SR)], sr=SR).lufs
    assert chorus.lufs == pytest.approx(own, abs=0.3)
    png = sections_png(found)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_boundary_is_a_downbeat_of_the_grid_it_was_given(form_song):
    song = form_song
    shifted = song.downbeats + 0.013  # a grid slightly off the audio still rules
    found = analyze_structure(Audio(song.mix, SR), song.beats + 0.013, shifted)
    for start in section_boundaries(found.sections)[1:]:
        assert np.min(np.abs(shifted - start)) < 1e-6


def test_a_short_or_silent_track_is_one_section_without_nan():
    silence = Audio(np.zeros((5 * SR, 2), np.float32), SR)
    found = analyze_structure(silence, np.zeros(0), np.zeros(0))
    assert len(found.sections) == 1 and found.grid == "seconds"
    (only,) = found.sections
    assert (only.start, only.end) == (0.0, 5.0)
    assert only.lufs == -70.0 and only.energy == 0.0
    assert found.form == "A"


def test_without_downbeats_every_fourth_beat_is_a_bar():
    beats = 0.5 + 0.5 * np.arange(40)
    edges, kind = bar_grid(beats, np.zeros(0), duration_s=21.0)
    assert kind == "beats"
    assert edges == pytest.approx([0.5, 2.5, 4.5, 6.5, 8.5, 10.5, 12.5, 14.5, 16.5, 18.5, 20.5])


def test_segment_bars_finds_the_blocks_and_prefers_whole_phrases():
    labels = np.repeat([0, 1, 0, 2], [8, 8, 8, 8])
    similarity = np.where(labels[:, None] == labels[None, :], 0.95, 0.2)
    np.fill_diagonal(similarity, 1.0)
    args = dict(penalty=1.5, phrase_bars=4, min_bars=4, min_edge_bars=2)
    assert segment_bars([similarity], phrase_penalty=1.0, **args) == [8, 16, 24]
    # a blurred boundary (bar 16 half like either side) goes to the phrase, not to bar 17
    blurred = similarity.copy()
    blurred[16, :] = blurred[:, 16] = 0.55
    blurred[16, 16] = 1.0
    assert segment_bars([blurred], phrase_penalty=1.0, **args) == [8, 16, 24]
    novelty = checkerboard_novelty(similarity, 4)
    assert set(np.argsort(novelty)[-3:]) == {8, 16, 24}


def test_repeated_sections_share_a_label_found_at_their_best_alignment():
    # bars of chords 1-2-3-4 repeated; the second A starts one bar late in its span
    bar_chords = np.array([1, 2, 3, 4, 1, 2, 3, 4, 7, 8, 7, 8, 9, 1, 2, 3, 4, 1, 2, 3, 4])
    similarity = (bar_chords[:, None] == bar_chords[None, :]).astype(float)
    spans = [(0, 8), (8, 12), (12, 21)]
    alike = section_similarity(similarity, spans)
    assert alike[0, 2] == pytest.approx(1.0)  # 8 bars of A inside the 9 bars of the third
    assert alike[0, 1] == pytest.approx(0.0)
    labels, confidence = cluster_sections(alike, 0.5)
    assert labels == [0, 1, 0]
    assert min(confidence) > 0.9


def test_names_follow_repetition_position_and_energy():
    labels = [0, 1, 2, 1, 2, 3, 4, 2, 5]
    energy = [0.3, 0.6, 1.0, 0.62, 0.98, 0.7, 0.2, 1.0, 0.25]
    bars = [4, 8, 8, 8, 8, 8, 4, 8, 4]
    names, confidence = name_sections(labels, energy, bars)
    assert names == [
        "intro", "verse", "chorus", "verse", "chorus", "bridge", "break", "chorus", "outro",
    ]  # fmt: skip
    assert all(0.0 <= c <= 1.0 for c in confidence)
    assert set(names) <= set(NAMES)
    # a song that starts on its verse has no intro
    names, _ = name_sections([0, 1, 0, 1, 2], [0.6, 1.0, 0.6, 1.0, 0.3], [8, 8, 8, 8, 4])
    assert names == ["verse", "chorus", "verse", "chorus", "outro"]


def test_form_names_intros_and_outros_and_letters_the_rest():
    sections = _sections(
        (0, 4, "D", "intro"), (4, 8, "A", "verse"), (8, 12, "B", "chorus"), (12, 14, "E", "outro")
    )
    assert form_of(sections) == "intro A B outro"


# -- files, series, windows, crops, captions ------------------------------------------------


def test_sections_file_round_trips_and_bad_lines_name_the_file(tmp_path):
    sections = [
        Section(0.0, 9.85, "D", "intro", 0.9, 0.75, -24.5, 0.31),
        Section(9.85, 29.05, "A", "verse", 1.0, 0.8, -18.25, 0.62),
    ]
    path = write_sections(tmp_path / "Song.SECTIONS", sections)
    lines = path.read_text().splitlines()
    assert lines[0] == "0.000000\t9.850000\tD\tintro\t0.900\t0.750\t-24.50\t0.310"
    assert read_sections(path) == sections
    (tmp_path / "bad.SECTIONS").write_text("0.0\t2.0\tA\tsolo\n")
    with pytest.raises(ValueError, match="bad.SECTIONS, line 1"):
        read_sections(tmp_path / "bad.SECTIONS")
    (tmp_path / "short.SECTIONS").write_text("0.0 2.0 A verse\n")  # the first four columns
    assert read_sections(tmp_path / "short.SECTIONS")[0].lufs == -70.0
    assert read_sections(tmp_path / "missing.SECTIONS") == []


def test_section_series_give_each_frame_its_section_and_place():
    sections = _sections((0.0, 2.0, "A", "intro"), (2.0, 6.0, "B", "verse"))
    series = section_series(sections, frame_rate=2.0, n_frames=13)
    assert series["section_idx_ts"].tolist() == [0] * 4 + [1] * 9
    # frame 4 covers 2.0-2.5 s: its middle is 1/16 into the 4 s verse
    assert series["section_position_ts"][4] == pytest.approx(0.0625)
    assert series["section_position_ts"][11] == pytest.approx(0.9375)
    assert series["section_position_ts"][12] == 1.0  # past the end
    assert all(v.dtype == np.float32 for v in series.values())
    # a crop of 1.5-3.5 s in 4 steps: the track's indices, its place in each section
    crop = section_series(sections, frame_rate=2.0, n_frames=4, offset_s=1.5)
    assert crop["section_idx_ts"].tolist() == [0, 1, 1, 1]
    assert crop["section_position_ts"] == pytest.approx([0.875, 0.0625, 0.1875, 0.3125])
    with pytest.raises(ValueError, match="no sections"):
        section_series([], frame_rate=100, n_frames=10)


def test_windows_start_at_section_starts_and_never_straddle():
    sections = _sections(
        (0.0, 10.0, "A", "verse"), (10.0, 13.0, "B", "chorus"), (13.0, 30.0, "A", "verse")
    )
    downbeats = np.r_[np.arange(0.0, 30.0, 2.0), 13.0]
    windows = section_windows(sections, length_s=4.0, hop_s=3.0, starts=downbeats)
    for start, end, i in windows:
        assert sections[i].start <= start < end <= sections[i].end
        assert end - start == pytest.approx(4.0)
    assert [w[0] for w in windows if w[2] == 0] == [0.0, 4.0]
    assert [w for w in windows if w[2] == 1] == []  # 3 s: no whole window
    assert [w[0] for w in windows if w[2] == 2][0] == 13.0
    assert section_of_span(sections, 9.0, 12.5) == 1
    values = span_values(sections, 16.0, 20.0)
    assert values["section_name"] == "verse" and values["section_occurrence"] == 2
    assert values["section_index"] == 2
    assert values["section_position"] == pytest.approx(3 / 17, abs=1e-4)


def test_section_crops_start_at_section_starts_and_never_straddle(form_song):
    song = form_song
    found = analyze_structure(Audio(song.mix, SR), song.beats, song.downbeats)
    y = song.mix.mean(axis=1)
    length = 5 * SR  # 3 bars of 1.6 s: crops of the plain plan cross bar 2, a boundary
    crops = plan_section_crops(
        y, sr=SR, length=length, beats=song.beats, downbeats=song.downbeats,
        sections=found.sections,
    )  # fmt: skip
    assert crops and [c.index for c in crops] == list(range(len(crops)))
    for crop in crops:
        i = section_of_span(found.sections, crop.start_time, crop.end_time)
        section = found.sections[i]
        assert section.start - 1e-6 <= crop.start_time and crop.end_time <= section.end + 1e-6
        assert crop.samples >= 0.75 * length - 2 * 0.05 * SR
    # each section long enough for a crop opens one
    for section in found.sections[1:]:
        assert min(abs(c.start_time - section.start) for c in crops) < 1e-4
    # without sections the same song is cut across the boundaries
    plain = plan_crops(y, sr=SR, length=length, beats=song.beats, downbeats=song.downbeats)
    assert any(
        c.start_time < b < c.end_time for c in plain for b in section_boundaries(found.sections)
    )


def test_the_template_caption_names_the_section():
    values = {"bpm": 120.0, "tonic": 7, "tonic_scale": "major", "section_count": 6}
    assert template_caption({**values, "section_name": "chorus", "section_occurrence": 1}) == (
        "The chorus of a track at 120 BPM in G major."
    )
    assert template_caption(
        {**values, "section_name": "verse", "section_occurrence": 2,
         "essentia_genre": {"Electronic---Ambient": 0.8}}
    ) == "The second verse of an Ambient track at 120 BPM in G major."  # fmt: skip
    assert template_caption(values) == "Music at 120 BPM in G major."  # no section: as before
    one = {**values, "section_count": 1, "section_name": "verse"}
    assert template_caption(one) == "Music at 120 BPM in G major."  # one section: no name


# -- the asset ------------------------------------------------------------------------------


def test_structure_asset_writes_sections_and_the_crops_follow_them(project, instance, form_song):
    write_config(
        project.root,
        crops={"length_samples": 4 * SR, "sections": True, "features": False, "n_steps": 32},
        latents={"window_frames": 256, "sections": True},  # sa3-medium: 23.8 s windows
        paths={
            "inbox": str(project.inbox), "library": str(project.library),
            "duckdb": str(project.duckdb), "crops": str(project.root / "crops"),
        },
    )  # fmt: skip
    path = project.add_audio("01 - Form Song.wav", form_song.mix)
    (track_id,) = register(project, [path], instance)
    selection = [
        "source_audio", "beat_grid", "structure", "training_crops", "track_timeseries",
        "latent_windows",
    ]  # fmt: skip
    result = run_track(project, instance, track_id, selection=selection)
    assert result.success
    sections = read_sections(project.library / track_id / f"{track_id}.SECTIONS")
    assert form_of(sections) == "intro A B A B outro"
    # boundaries on the tracked downbeats, within 70 ms of the rendered ones
    assert section_boundaries(sections)[1:] == pytest.approx(form_song.boundaries, abs=0.07)
    row = DuckDBTables(project.duckdb).read("structure", [track_id])[track_id]
    assert row["form"] == "intro A B A B outro" and row["section_count"] == 6
    assert row["section_grid"] == "downbeats"
    info = read_info(project.library / track_id / f"{track_id}.INFO")
    assert info["form"] == "intro A B A B outro"
    (materialization,) = [m for m in result.asset_materializations_for_node("structure")]
    picture = materialization.metadata["sections"].value
    png = base64.b64decode(picture.split("base64,")[1].rstrip(")"))
    assert png[:4] == b"\x89PNG"
    crops = sorted((project.root / "crops" / track_id).glob("*.INFO"))
    assert crops
    crop_starts = []
    for crop_info in crops:
        crop = json.loads(crop_info.read_text())
        section = sections[crop["section_index"]]
        assert section.start - 1e-3 <= crop["start_time"] < crop["end_time"] <= section.end + 1e-3
        assert crop["section_name"] == section.name and crop["form"] == "intro A B A B outro"
        if crop["section_name"] == "chorus":
            assert crop["caption_template"].startswith(
                "The chorus of" if crop["section_occurrence"] == 1 else "The second chorus of"
            )
        crop_starts.append(crop["start_time"])
        series, _ = read_npz(crop_info.with_suffix(".TIMESERIES.npz"))
        assert set(series["section_idx_ts"].tolist()) == {crop["section_index"]}
        assert np.all(np.diff(series["section_position_ts"]) > 0)
    for section in sections[1:]:  # each section opens a crop
        assert min(abs(t - section.start) for t in crop_starts) < 1e-3
    # latent windows (23.8 s over 58.9 s): after the first, each starts at the last section
    # start within its predecessor (16.25 s, then 29.05 s, not the downbeats before 23.8 s
    # and 40.0 s); the last ends with the track
    windows = read_manifest(project.library / track_id / f"{track_id}.LATENT_WINDOWS.csv")
    starts = [float(w["start_s"]) for w in windows]
    assert starts[0] == 0.0 and len(starts) == 4
    assert starts[1:3] == pytest.approx([sections[2].start, sections[3].start], abs=1e-3)
    assert float(windows[-1]["end_s"]) == pytest.approx(len(form_song.mix) / SR, abs=1e-3)
    # the whole-track series hold the section index at 10 Hz (frame k at k/10 + 0.05 s) ...
    series, meta = read_npz(project.library / track_id / f"{track_id}.TIMESERIES.npz")
    assert meta["field_rates"]["section_idx_ts"] == 10.0
    idx, place = series["section_idx_ts"], series["section_position_ts"]
    for i, section in enumerate(sections):
        inside = (np.arange(idx.size) + 0.5) / 10
        inside = (inside > section.start + 0.1) & (inside < section.end - 0.1)
        assert set(idx[inside].tolist()) == {float(i)}
        assert np.all(np.diff(place[inside]) > 0)
    # ... and the windows carry them per latent frame: window 1 opens on section 2's start
    pooled, _ = read_npz(project.library / track_id / f"{track_id}.LATENT_WINDOWS.npz")
    assert pooled["section_idx_ts"].shape == (4, 256)
    assert pooled["section_idx_ts"][1, 0] == 2.0 and pooled["section_position_ts"][1, 0] < 0.02
    assert set(np.unique(pooled["section_idx_ts"][1]).tolist()) == {2.0, 3.0}
