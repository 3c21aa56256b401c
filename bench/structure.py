"""Song structure (mir/structure.py) against librosa's Laplacian segmentation and MSAF, in one run.

1. Rendered songs with known forms (`mir.synth.render_form`, every form of
   `SONG_FORMS`, twice with other seeds, tempi and keys, one in 3/4): sections that differ
   in chords, density and instrumentation, repeated choruses, a bridge, a breakdown,
   intros and outros of different lengths. Scored with mir_eval: HR.5F and HR3F (the
   boundary hit rate F-measure within 0.5 s and 3 s, interior boundaries only:
   `trim=True`), pairwise frame-clustering F (the labels), and for ours the share of
   the time whose functional name is right. Ours runs on the beat grid the pipeline
   tracks (madmom, `mir.analysis.beat_grid`), and once more on the rendered downbeats.
2. Real music (full tracks, no annotations): each track's form, and how every
   algorithm's boundaries line up with the track's own cues: a downbeat of the tracked
   grid (within 0.1 s), a loudness change (the short-term loudness 0.5-4 s after the
   boundary differs from 0.5-4 s before by at least 1.5 LU), a chord change (a change of
   madmom's chord labels within 0.5 s); the share of all downbeats with each cue is the
   chance level. Then three tracks in full: each boundary's time and its cues.
3. Cost per minute of audio at 4 and 60 minutes (real tracks joined end to end): the
   structure asset's work from the decoded track and its beat grid, cold (it computes
   the HPCP, STFT, onset envelope and MFCC itself) and warm (the other feature assets of
   the run computed them), and the bar matrices alone (how the quadratic part grows).

Peers, the same audio files, one core each:

- librosa's published recipe (docs/examples/plot_segmentation.py of librosa 0.11, McFee &
  Ellis 2014: beat-synchronous CQT recurrence + MFCC path graph, Laplacian eigenvectors,
  k-means with k = 5);
- MSAF 0.1.80's algorithms with their default settings: Foote's checkerboard novelty,
  structural features (sf) and OLDA for boundaries with 2D-FMC labels, spectral
  clustering (scluster) and C-NMF for both. MSAF installs beside our pins without
  downgrading anything (`pip install --dry-run msaf==0.1.80`), but it pulls pandas,
  jams, seaborn, cvxopt and enum34 into the environment, so the bench reads it from a
  folder of its own (`--msaf-site`, made by the command below); SciPy 1.17 no longer has
  `scipy.inf` and `scipy.signal.gaussian`, which MSAF imports: the bench puts them back
  (numpy's inf, scipy.signal.windows.gaussian) before importing it.

    python -m pip install --no-deps --target /tmp/msaf-site msaf==0.1.80 jams==0.3.5 \\
        pandas==3.1.1 sortedcontainers==2.4.0 jsonschema==4.26.0 referencing==0.37.0 \\
        rpds-py==2026.9.1 attrs==26.1.0 jsonschema-specifications==2025.9.1 vmo==0.30.5 \\
        cvxopt==1.3.3 seaborn==0.13.2 future==1.0.0
    python bench/structure.py /tmp/mir-real-music/singularity /tmp/mir-real-music/hyperrogue \\
        --msaf-site /tmp/msaf-site [--grid-cache DIR] [--real-limit N] [--no-cost]
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import contextlib  # noqa: E402
import io  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mir import structure as ms  # noqa: E402
from mir.audio import AUDIO_EXTENSIONS, Audio, load_audio, resample  # noqa: E402
from mir.config import BeatsConfig, StructureConfig  # noqa: E402

warnings.filterwarnings("ignore")
SR = 44100
#: the rendered songs: every form twice (keys, tempi and seeds vary; song 11 is in 3/4)
KEYS = (("E", "major"), ("A", "minor"), ("C", "major"), ("D", "minor"),
        ("G", "major"), ("F#", "minor"), ("A#", "major"), ("B", "minor"))  # fmt: skip
TEMPI = (96, 104, 112, 120, 128, 136, 88, 100)
MSAF_RUNS = (("foote", "fmc2d"), ("sf", "fmc2d"), ("olda", "fmc2d"), ("scluster", "scluster"),
             ("cnmf", "cnmf"))  # fmt: skip
LOUDNESS_CHANGE_LU = 1.5


def rendered_songs():
    from mir.synth import SONG_FORMS, render_form

    songs, i = [], 0
    for repeat in range(2):
        for name, form in SONG_FORMS.items():
            tonic, scale = KEYS[i % len(KEYS)]
            song = render_form(
                form, bpm=TEMPI[i % 8] + 3 * repeat, tonic=tonic, scale=scale,
                seed=100 + i, beats_per_bar=3 if i == 11 else 4,
            )  # fmt: skip
            songs.append((f"{name}-{repeat + 1}", song))
            i += 1
    return songs


# -- the algorithms: each returns (interval starts s, labels) --------------------------------


def beat_grid(audio: Audio, key: str, cache: Path | None):
    from mir import analysis

    if cache is not None:
        path = cache / f"{key}.npz"
        if path.exists():
            z = np.load(path)
            return z["beats"], z["downbeats"], 0.0
    t0 = time.perf_counter()
    _, grid = analysis.beat_grid_of(audio, BeatsConfig())
    took = time.perf_counter() - t0
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        np.savez(cache / f"{key}.npz", beats=grid.beats, downbeats=grid.downbeats)
    return grid.beats, grid.downbeats, took


def ours(audio: Audio, beats, downbeats, config: StructureConfig):
    found = ms.analyze_structure(audio, beats, downbeats, config)
    return [s.start for s in found.sections], [s.label for s in found.sections], found


def foote_peaks(audio: Audio, beats, downbeats, config: StructureConfig):
    """Ablation: our bar features, boundaries by peak-picking Foote's novelty (the mean of
    the phrase-harmony and timbre checkerboard curves, 4-bar kernel, peaks above median +
    1.5 MAD at least 4 bars apart) instead of the change-point search; the same labels."""
    edges, _ = ms.bar_grid(beats, downbeats, duration_s=audio.duration_s)
    features = ms.bar_features(audio, edges)
    harmony, timbre = ms.bar_similarities(features)
    phrase = ms.phrase_harmony_similarity(features)
    novelty = np.mean(
        [ms._normalised(ms.checkerboard_novelty(m, config.kernel_bars)) for m in (phrase, timbre)],
        axis=0,
    )
    n = edges.size - 1
    inner = novelty[1:n]
    med = np.median(inner)
    level = med + 1.5 * np.median(np.abs(inner - med))
    chosen: list[int] = []
    for b in np.argsort(-novelty):
        b = int(b)
        peak = novelty[b] >= novelty[max(b - 1, 0)] and novelty[b] >= novelty[min(b + 1, n)]
        if 2 <= b <= n - 2 and novelty[b] > level and peak and all(abs(b - c) >= 4 for c in chosen):
            chosen.append(b)
    bounds = sorted(chosen)
    spans = list(zip([0, *bounds], [*bounds, n], strict=True))
    labels, _ = ms.cluster_sections(
        ms.section_similarity(harmony * timbre, spans), config.label_threshold
    )
    return [0.0, *(float(edges[b]) for b in bounds)], [str(x) for x in labels]


def librosa_laplacian(path: Path, k: int = 5):
    """librosa's gallery example (plot_segmentation.py), as published, without the plots
    (and with one guard against an index past the last beat, below)."""
    import librosa
    import scipy
    import sklearn.cluster

    y, sr = librosa.load(str(path))
    bins_per_octave, octaves = 12 * 3, 7
    C = librosa.amplitude_to_db(
        np.abs(librosa.cqt(y=y, sr=sr, bins_per_octave=bins_per_octave,
                           n_bins=octaves * bins_per_octave)),
        ref=np.max,
    )  # fmt: skip
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr, trim=False)
    Csync = librosa.util.sync(C, beats, aggregate=np.median)
    R = librosa.segment.recurrence_matrix(Csync, width=3, mode="affinity", sym=True)
    df = librosa.segment.timelag_filter(scipy.ndimage.median_filter)
    Rf = df(R, size=(1, 7))
    mfcc = librosa.feature.mfcc(y=y, sr=sr)
    Msync = librosa.util.sync(mfcc, beats)
    path_distance = np.sum(np.diff(Msync, axis=1) ** 2, axis=0)
    sigma = np.median(path_distance)
    path_sim = np.exp(-path_distance / sigma)
    R_path = np.diag(path_sim, k=1) + np.diag(path_sim, k=-1)
    deg_path = np.sum(R_path, axis=1)
    deg_rec = np.sum(Rf, axis=1)
    mu = deg_path.dot(deg_path + deg_rec) / np.sum((deg_path + deg_rec) ** 2)
    A = mu * Rf + (1 - mu) * R_path
    L = scipy.sparse.csgraph.laplacian(A, normed=True)
    evals, evecs = scipy.linalg.eigh(L)
    evecs = scipy.ndimage.median_filter(evecs, size=(9, 1))
    Cnorm = np.cumsum(evecs**2, axis=1) ** 0.5
    X = evecs[:, :k] / Cnorm[:, k - 1 : k]
    seg_ids = sklearn.cluster.KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X)
    bound_beats = 1 + np.flatnonzero(seg_ids[:-1] != seg_ids[1:])
    bound_beats = librosa.util.fix_frames(bound_beats, x_min=0)
    bound_segs = list(seg_ids[bound_beats])
    # the one change to the recipe: Csync has a column after the last beat, and a label
    # change there indexed past `beats` (IndexError); it is placed at the last beat
    bound_frames = librosa.util.fix_frames(
        beats[np.minimum(bound_beats, beats.size - 1)], x_min=None, x_max=C.shape[1] - 1
    )
    times = librosa.frames_to_time(bound_frames, sr=sr)
    starts = [0.0, *[float(t) for t in times[1:-1]]]
    return starts, [str(s) for s in bound_segs][: len(starts)]


def import_msaf(site: str | None):
    """MSAF from `site` (appended to the path: our numpy and SciPy stay first), with the
    two names SciPy 1.17 dropped put back; None when it cannot be imported."""
    import scipy
    import scipy.signal
    import scipy.signal.windows

    if site:
        sys.path.append(site)
    scipy.inf = np.inf
    scipy.signal.gaussian = scipy.signal.windows.gaussian
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import msaf
    except Exception as exc:  # reported in the table's header
        print(f"MSAF not available ({type(exc).__name__}: {exc}); its rows are left out")
        return None
    return msaf


def msaf_run(msaf, path: Path, boundaries: str, labels: str, workdir: Path):
    """One MSAF algorithm on one file, run in `workdir` (MSAF caches its features in the
    working folder: computed once per file, shared by the algorithms)."""
    here = os.getcwd()
    os.chdir(workdir)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            times, labs = msaf.process(str(path), boundaries_id=boundaries, labels_id=labels)
    finally:
        os.chdir(here)
    times = np.asarray(times, dtype=float)
    starts = [0.0, *[float(t) for t in times[1:-1] if t > 0.0]]
    starts = sorted(set(starts))
    return starts, [str(x) for x in list(labs)[: len(starts)]]


# -- scores ----------------------------------------------------------------------------------


def intervals(starts, labels, end: float) -> tuple[np.ndarray, list[str]]:
    """Sections from 0 to `end` as mir_eval wants them, with their labels: starts sorted,
    duplicates and starts in the last second (an algorithm's rounding of the end) left
    out."""
    pairs: dict[float, str] = {}
    for start, label in zip(starts, [*labels, *["?"] * len(starts)], strict=False):
        start = round(float(start), 6)
        if 0.0 <= start < end - 1.0 and start not in pairs:
            pairs[start] = str(label)
    if 0.0 not in pairs:
        pairs[0.0] = "?"
    order = sorted(pairs)
    return np.array(list(zip(order, [*order[1:], end], strict=True))), [pairs[s] for s in order]


def score(ref_sections, starts, labels, end: float) -> tuple[float, float, float]:
    import mir_eval

    ref = np.array([[a, b] for a, b, _, _ in ref_sections])
    ref_labels = [lab for _, _, lab, _ in ref_sections]
    est, est_labels = intervals(starts, labels, end)
    hr5 = mir_eval.segment.detection(ref, est, window=0.5, trim=True)[2]
    hr3 = mir_eval.segment.detection(ref, est, window=3.0, trim=True)[2]
    pairwise = mir_eval.segment.pairwise(ref, ref_labels, est, est_labels)[2]
    return hr5, hr3, pairwise


def name_accuracy(ref_sections, found, step: float = 0.1) -> float:
    end = ref_sections[-1][1]
    t = np.arange(0.0, end, step)

    def names(spans):
        starts = np.array([a for a, *_ in spans])
        idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(spans) - 1)
        return np.array([spans[i][-1] for i in idx])

    est = [(s.start, s.end, s.label, s.name) for s in found.sections]
    return float(np.mean(names(ref_sections) == names(est)))


# -- part 1: rendered songs -------------------------------------------------------------------


def rendered_table(msaf, grid_cache: Path | None, work: Path) -> dict[str, float]:
    import soundfile as sf

    config = StructureConfig()
    rows: dict[str, list] = {}
    seconds: dict[str, float] = {}
    audio_s = 0.0
    names_right = []
    songs = rendered_songs()
    print(f"\n1. Rendered songs: {len(songs)} songs with known forms\n")
    for key, song in songs:
        path = work / f"{key}.wav"
        sf.write(str(path), song.mix, song.sr)
        duration = song.mix.shape[0] / song.sr
        audio_s += duration
        audio = Audio(song.mix, song.sr)
        beats, downbeats, grid_s = beat_grid(audio, f"rendered-{key}", grid_cache)
        runs = {}
        t0 = time.perf_counter()
        starts, labels, found = ours(audio, beats, downbeats, config)
        runs["ours"] = (starts, labels, time.perf_counter() - t0)
        names_right.append(name_accuracy(song.sections, found))
        t0 = time.perf_counter()
        starts, labels, _ = ours(Audio(song.mix, song.sr), song.beats, song.downbeats, config)
        runs["ours, rendered downbeats"] = (starts, labels, time.perf_counter() - t0)
        t0 = time.perf_counter()
        runs["ours: Foote peaks (ablation)"] = (
            *foote_peaks(audio, beats, downbeats, config),
            time.perf_counter() - t0,
        )
        t0 = time.perf_counter()
        runs["librosa Laplacian (k=5)"] = (*librosa_laplacian(path), time.perf_counter() - t0)
        if msaf is not None:
            folder = work / f"msaf-{key}"
            folder.mkdir(exist_ok=True)
            for bounds, labs in MSAF_RUNS:
                t0 = time.perf_counter()
                try:
                    out = msaf_run(msaf, path, bounds, labs, folder)
                except Exception as exc:
                    print(f"   MSAF {bounds} failed on {key}: {type(exc).__name__}: {exc}")
                    out = ([0.0], ["0"])
                runs[f"MSAF {bounds} + {labs}"] = (*out, time.perf_counter() - t0)
        line = []
        for name, (starts, labels, took) in runs.items():
            rows.setdefault(name, []).append(score(song.sections, starts, labels, duration))
            seconds[name] = seconds.get(name, 0.0) + took
            line.append(f"{rows[name][-1][0]:.2f}")
        truth = " ".join(n for *_, n in song.sections)
        print(f"   {key:17s} HR.5F {' '.join(line)}   {found.form}   (truth: {truth})")
    print(
        f"\n{'algorithm':34s} {'HR.5F':>6s} {'HR3F':>6s} {'pair F':>7s} {'names':>6s} {'s/min':>6s}"
    )
    means = {}
    for name, scores in rows.items():
        mean = np.mean(scores, axis=0)
        means[name] = mean
        names = f"{np.mean(names_right):6.2f}" if name == "ours" else f"{'-':>6s}"
        per_min = seconds[name] / (audio_s / 60)
        print(f"{name:34s} {mean[0]:6.3f} {mean[1]:6.3f} {mean[2]:7.3f} {names} {per_min:6.2f}")
    ours_mean = means["ours"]
    peers = {k: v for k, v in means.items() if not k.startswith("ours")}
    for metric, i in (("HR.5F", 0), ("HR3F", 1), ("pairwise F", 2)):
        best = max(peers, key=lambda k: peers[k][i])
        print(
            f"ours / best peer on {metric}: {ours_mean[i]:.3f} / {peers[best][i]:.3f} ({best}) "
            f"= {ours_mean[i] / max(peers[best][i], 1e-9):.2f}x"
        )
    ahead = all(ours_mean[i] > peers[k][i] for k in peers for i in range(3))
    print(f"ours ahead of every peer on every metric: {'yes' if ahead else 'NO'}")
    print(
        "(s/min: ours from the decoded audio and the beat grid, which the pipeline tracks "
        "anyway; the ablation reuses ours' features; MSAF computes its features once per "
        "file, in the time of its first algorithm, foote)"
    )
    return {k: float(v[0]) for k, v in means.items()}


# -- part 2: real music -----------------------------------------------------------------------


def audio_files(paths: list[Path]) -> list[Path]:
    files = []
    for path in paths:
        found = path.rglob("*") if path.is_dir() else [path]
        files += [p for p in found if p.is_file() and p.suffix.lstrip(".") in AUDIO_EXTENSIONS]
    return sorted(set(files), key=lambda p: (p.parent.name, p.name))


class Cues:
    """A track's own cues: downbeats, the short-term loudness curve, chord changes."""

    def __init__(self, audio: Audio, downbeats: np.ndarray):
        from mir.chords import recognize_chords

        self.downbeats = np.asarray(downbeats, dtype=float)
        self.times, self.lufs, _ = ms.loudness_curve(audio)
        chords = recognize_chords(audio)
        self.changes = np.array(
            [b.start_s for a, b in zip(chords, chords[1:], strict=False) if a.label != b.label]
        )
        self.chords = chords

    def downbeat(self, t: float) -> float:
        return float(np.min(np.abs(self.downbeats - t))) if self.downbeats.size else np.inf

    def loudness_change(self, t: float) -> float:
        before = self.lufs[(self.times >= t - 4) & (self.times <= t - 0.5)]
        after = self.lufs[(self.times >= t + 0.5) & (self.times <= t + 4)]
        if before.size == 0 or after.size == 0:
            return 0.0
        return float(np.mean(after) - np.mean(before))

    def chord_change(self, t: float) -> tuple[float, str]:
        if self.changes.size == 0:
            return np.inf, ""
        i = int(np.argmin(np.abs(self.changes - t)))
        at = self.changes[i]
        j = next(k for k, c in enumerate(self.chords) if c.start_s == at)
        return float(at - t), f"{self.chords[j - 1].label}->{self.chords[j].label}"

    def shares(self, boundaries) -> tuple[float, float, float]:
        if not len(boundaries):
            return (np.nan, np.nan, np.nan)
        on_downbeat = np.mean([self.downbeat(t) <= 0.1 for t in boundaries])
        loud = np.mean([abs(self.loudness_change(t)) >= LOUDNESS_CHANGE_LU for t in boundaries])
        chord = np.mean([abs(self.chord_change(t)[0]) <= 0.5 for t in boundaries])
        return on_downbeat, loud, chord


def real_table(files: list[Path], msaf, grid_cache: Path | None, work: Path, detail: int = 3):
    config = StructureConfig()
    print(f"\n2. Real music: {len(files)} full tracks (no annotations)\n")
    print(
        f"{'track':26s} {'min':>5s} {'bars':>5s} {'ours':>5s} {'lbrsa':>5s} {'foote':>5s}  "
        f"{'ours on downbeat/loudness/chord':>31s}   form"
    )
    totals: dict[str, list] = {}
    counts: dict[str, int] = {}
    minutes = 0.0
    chosen = []
    for path in files:
        audio = load_audio(path)
        minutes += audio.duration_s / 60
        beats, downbeats, _ = beat_grid(audio, f"real-{path.stem}", grid_cache)
        cues = Cues(audio, downbeats)
        runs = {}
        starts, labels, found = ours(audio, beats, downbeats, config)
        runs["ours"] = starts
        runs["librosa Laplacian (k=5)"] = librosa_laplacian(path)[0]
        if msaf is not None:
            folder = work / f"msaf-real-{path.stem}"
            folder.mkdir(exist_ok=True)
            for bounds, labs in MSAF_RUNS:
                try:
                    runs[f"MSAF {bounds} + {labs}"] = msaf_run(msaf, path, bounds, labs, folder)[0]
                except Exception as exc:
                    print(f"   MSAF {bounds} failed on {path.name}: {type(exc).__name__}: {exc}")
        runs["(every downbeat: chance)"] = [0.0, *downbeats]
        for name, starts in runs.items():
            inner = [t for t in starts if 0.5 < t < audio.duration_s - 0.5]
            totals.setdefault(name, []).append(cues.shares(inner))
            counts[name] = counts.get(name, 0) + len(inner)
        share = totals["ours"][-1]
        foote = runs.get("MSAF foote + fmc2d", [])
        print(
            f"{path.stem[:26]:26s} {audio.duration_s / 60:5.2f} {found.bar_edges.size - 1:5d} "
            f"{len(runs['ours']):5d} {len(runs['librosa Laplacian (k=5)']):5d} "
            f"{len(foote) if foote else '-':>5} "
            f"{share[0]:10.2f} {share[1]:9.2f} {share[2]:9.2f}   {found.form}"
        )
        if len(chosen) < detail and audio.duration_s >= 200:
            chosen.append((path, found, cues))
    print(
        f"\n{'algorithm (all real tracks)':34s} {'bounds/min':>10s} {'downbeat':>9s} "
        f"{'loudness':>9s} {'chord':>6s}"
    )
    for name, shares in totals.items():
        mean = np.nanmean(np.array(shares, dtype=float), axis=0)
        print(
            f"{name:34s} {counts[name] / minutes:10.2f} {mean[0]:9.2f} {mean[1]:9.2f} "
            f"{mean[2]:6.2f}"
        )
    print(
        "(shares of each algorithm's interior boundaries at a downbeat (0.1 s), a loudness "
        f"change (>= {LOUDNESS_CHANGE_LU} LU) and a chord change (0.5 s))"
    )
    for path, found, cues in chosen:
        print(f"\n{path.stem} ({found.sections[-1].end / 60:.2f} min): {found.form}")
        for s in found.sections:
            if s.start == 0.0:
                print(f"   {s.start:7.2f} s  {s.label:2s} {s.name:7s} (start)")
                continue
            dt, change = cues.chord_change(s.start)
            loud = cues.loudness_change(s.start)
            marks = [f"downbeat {cues.downbeat(s.start):.2f} s"]
            marks.append(f"loudness {loud:+.1f} LU" + (" *" if abs(loud) >= 1.5 else ""))
            marks.append(
                f"chord {change} at {dt:+.2f} s" + (" *" if abs(dt) <= 0.5 else "")
                if np.isfinite(dt)
                else "no chord change"
            )
            print(f"   {s.start:7.2f} s  {s.label:2s} {s.name:7s} {'; '.join(marks)}")


# -- part 3: cost -----------------------------------------------------------------------------


def joined(files: list[Path], minutes: float) -> Audio:
    """Real tracks decoded, brought to 44.1 kHz stereo and joined until `minutes`."""
    need = int(minutes * 60 * SR)
    parts, have = [], 0
    while have < need:
        for path in files:
            a = load_audio(path)
            x = a.samples if a.samples.ndim == 2 else a.samples[:, None]
            x = x[:, :2] if x.shape[1] >= 2 else np.repeat(x, 2, axis=1)
            if a.sr != SR:
                x = np.stack(
                    [resample(x[:, c], orig_sr=a.sr, target_sr=SR) for c in range(2)], axis=1
                )
            parts.append(x.astype(np.float32))
            have += x.shape[0]
            if have >= need:
                break
    return Audio(np.concatenate(parts)[:need], SR)


def bar_matrices_seconds(audio: Audio, beats, downbeats, config: StructureConfig):
    """Seconds of the bar-level part alone (similarities, change points, labels), and the
    number of bars, on features computed beforehand."""
    edges, _ = ms.bar_grid(beats, downbeats, duration_s=audio.duration_s)
    features = ms.bar_features(audio, edges)
    t0 = time.perf_counter()
    harmony, timbre = ms.bar_similarities(features)
    phrase = ms.phrase_harmony_similarity(features, phrase_bars=config.phrase_bars)
    bounds = ms.segment_bars(
        [phrase, timbre], penalty=config.penalty, phrase_bars=config.phrase_bars,
        phrase_penalty=config.phrase_penalty, min_bars=config.min_section_bars,
        min_edge_bars=config.min_edge_bars,
    )  # fmt: skip
    spans = list(zip([0, *bounds], [*bounds, edges.size - 1], strict=True))
    ms.cluster_sections(ms.section_similarity(harmony * timbre, spans), config.label_threshold)
    return time.perf_counter() - t0, edges.size - 1


def cost_table(files: list[Path], minutes=(4, 60)):
    config = StructureConfig()
    print("\n3. Cost per minute of audio (real tracks joined end to end, one core)\n")
    print(
        f"{'minutes':>7s} {'bars':>6s} {'grid s':>7s} {'cold s':>7s} {'cold s/min':>10s} "
        f"{'warm s':>7s} {'warm s/min':>10s} {'bar part s':>10s}"
    )
    results = {}
    for m in minutes:
        audio = joined(files, m)
        beats, downbeats, grid_s = beat_grid(audio, f"joined-{m}", None)
        t0 = time.perf_counter()
        ms.analyze_structure(audio, beats, downbeats, config)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        ms.analyze_structure(audio, beats, downbeats, config)  # intermediates cached
        warm = time.perf_counter() - t0
        part, bars = bar_matrices_seconds(audio, beats, downbeats, config)
        results[m] = (cold, warm, part, bars)
        print(
            f"{m:7d} {bars:6d} {grid_s:7.1f} {cold:7.2f} {cold / m:10.3f} {warm:7.2f} "
            f"{warm / m:10.3f} {part:10.2f}"
        )
        del audio
    (a, b) = minutes
    ca, wa, pa, na = results[a]
    cb, wb, pb, nb = results[b]
    print(
        f"\ntime({b} min) / time({a} min), linear = {b / a:.0f}: cold {cb / ca:.1f}, "
        f"warm {wb / wa:.1f}; bar part {pb / max(pa, 1e-9):.1f} "
        f"(bars x{nb / na:.1f}, quadratic = {(nb / na) ** 2:.0f})"
    )
    print(
        f"bar matrices at {b} min: {nb} x {nb}, {nb * nb * 8 / 2**20:.0f} MB each in float64 "
        "(about eight alive at once)"
    )
    print("(grid s: the beat grid asset's time, which the structure asset reads, not counted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="folders or files of real music")
    parser.add_argument("--msaf-site", default=None, help="folder MSAF was installed into")
    parser.add_argument("--grid-cache", type=Path, default=None, help="keep beat grids here")
    parser.add_argument("--real-limit", type=int, default=0, help="real tracks (0: all)")
    parser.add_argument("--no-cost", action="store_true", help="skip the 4/60-minute cost")
    parser.add_argument("--no-rendered", action="store_true", help="skip the rendered songs")
    args = parser.parse_args()
    msaf = import_msaf(args.msaf_site)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not args.no_rendered:
            rendered_table(msaf, args.grid_cache, work)
        files = audio_files(args.paths)
        if files:
            real = files[: args.real_limit] if args.real_limit else files
            real_table(real, msaf, args.grid_cache, work)
            if not args.no_cost:
                cost_table(files)


if __name__ == "__main__":
    from _report import run  # --write-docs: the printed table into docs/benchmarks/

    raise SystemExit(run(main))
