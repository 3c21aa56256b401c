"""The whole-track series and the latent windows over them (no model)."""

import numpy as np
from dagster import AssetExecutionContext

from mir.analysis import CHORDS, read_beat_grid
from mir.chords import read_chords
from mir.dataset.resample import TrackSeries, padding_mask
from mir.dataset.timeseries import NPZ_SUFFIX, complete_track_series, read_npz, write_npz
from mir.dataset.windows import coverage, manifest_rows, plan_windows, write_manifest
from mir.errors import MissingInput
from mir.info import sidecar_path
from mir.intermediates import SR
from mir.latents.presets import check_window_frames, preset
from mir.spectral import band_energies_of
from mir.stems import find_stems
from mir.structure import SECTIONS, read_sections
from mir_assets.runtime import decoded, for_each_track, full_mix_path
from resources.settings import PipelineSettings

#: `<Track>.LATENT_WINDOWS.csv`: the windows manifest; `.npz`: each window's pooled series
WINDOWS_CSV = ".LATENT_WINDOWS.csv"
WINDOWS_NPZ = ".LATENT_WINDOWS.npz"


def track_timeseries(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
) -> dict[str, dict]:
    """Every series of the whole track, each at its own rate, in the `timeseries` table
    (crop index -1) and in `<Track>.TIMESERIES.npz` beside the `.INFO` (float32 arrays and
    a `__meta__` JSON string: `frame_rate` 100, `field_rates` {field: frames per second},
    `n_frames`, `duration`, `sample_rate`, `hop`, `stems_present`, `source`, `fields`).

    100 Hz: madmom's beat and downbeat activations, the crops' bumps at the grid's beats
    and downbeats (`beat_activations_ts`, `downbeat_activations_ts`), the onset envelope
    (and `onsets_activations_ts`, scaled to peak 1), band RMS, spectral shape, HPCP (C = 0)
    and, for each stem in the track folder, `rms_<stem>_ts` and
    `onset_envelope_<stem>_ts`; 50 Hz: `f0_<stem>_ts` and `f0_<stem>_voiced_ts` of the bass
    and other stems; 10 Hz: `chords_idx_ts` (with `.CHORDS`), `section_idx_ts` and
    `section_position_ts` (with `.SECTIONS`); 1 Hz: `tonic_ts`, `tonic_strength_ts`."""

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        mix_path = full_mix_path(settings, track_id, source_audio[track_id])
        audio = decoded(mix_path)
        stored = settings.tables.read_arrays(track_id, -1)
        stems = {name: decoded(path).mono(SR) for name, path in find_stems(track_dir).items()}
        chords_file = sidecar_path(track_dir, CHORDS)
        beats, downbeats = read_beat_grid(track_dir, beat_grid.get(track_id))
        sections_file = sidecar_path(track_dir, SECTIONS)
        series, rates = complete_track_series(
            audio.mono(SR),
            beat_activation=stored.get("beat_activation_ts"),
            downbeat_activation=stored.get("downbeat_activation_ts"),
            energies=band_energies_of(audio),  # shared with spectral_features' band levels
            stems=stems,
            chords=read_chords(chords_file) if chords_file.exists() else None,
            beats=beats,
            downbeats=downbeats,
            sections=read_sections(sections_file) if sections_file.exists() else None,
        )
        settings.tables.write_arrays(track_id, -1, series)
        n_frames = series["onset_envelope_ts"].shape[0]
        npz = sidecar_path(track_dir, NPZ_SUFFIX)
        write_npz(
            npz,
            series,
            {
                "frame_rate": 100,
                "field_rates": rates,
                "n_frames": n_frames,
                "duration": round(audio.n_samples / audio.sr, 6),
                "sample_rate": SR,
                "hop": SR // 100,
                "stems_present": sorted(stems),
                "source": mix_path.name,
            },
        )
        return {
            "timeseries_frames": n_frames,
            "timeseries_frame_rate": 100,
            "timeseries_fields": sorted(series),
            "timeseries_file": npz.name,
        }

    return for_each_track(context, settings, compute)


def window_arrays(
    series: dict[str, np.ndarray], rates: dict[str, float], windows, duration_s: float
) -> dict[str, np.ndarray]:
    """Each field pooled to every window, stacked: {field: (windows, T, ...)}, with
    `padding_mask` (windows, T)."""
    track = TrackSeries(series, rates)
    pooled = [track.pool(w.start_s, w.frame_s, w.n_frames) for w in windows]
    out = {k: np.stack([p[k] for p in pooled]) for k in series}
    out["padding_mask"] = np.stack(
        [padding_mask(w.start_s, w.frame_s, w.n_frames, duration_s) for w in windows]
    ).astype(np.float32)
    return out


def latent_windows(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    source_audio: dict[str, dict],
    beat_grid: dict[str, dict],
    track_timeseries: dict[str, dict],
) -> dict[str, dict]:
    """Windows of T latent frames of the configured preset (`latents.preset`,
    `latents.window_frames`) over every second of the track, on downbeats
    (mir/dataset/windows.py), and every series pooled to each window's frames
    (mir/dataset/resample.py). `<Track>.LATENT_WINDOWS.csv`: the manifest (track folder,
    track, window index, start, end, duration, samples, frames); `<Track>.LATENT_WINDOWS.npz`:
    {field: (windows, T, ...)} with `padding_mask` and a `__meta__` (preset, frames,
    frame rate, starts). With `latents.sections`, windows start at the section starts of
    the `structure` asset's `.SECTIONS` where one lies within the previous window. No model:
    the `latents` asset encodes these windows."""
    cfg = settings.config.latents
    p = preset(cfg.preset)
    frames = check_window_frames(p, cfg.window_frames)

    def compute(track_id: str) -> dict:
        track_dir = settings.track_dir(track_id)
        audio = decoded(full_mix_path(settings, track_id, source_audio[track_id]))
        _, downbeats = read_beat_grid(track_dir, beat_grid.get(track_id))
        n = int(round(audio.n_samples * p.sample_rate / audio.sr))
        boundaries = None
        if cfg.sections:
            sections_file = sidecar_path(track_dir, SECTIONS)
            if not sections_file.exists():
                raise MissingInput(f"{sections_file.name} (latents.sections is on)", "structure")
            boundaries = [s.start for s in read_sections(sections_file)]
        windows = plan_windows(
            n,
            sample_rate=p.sample_rate,
            n_frames=frames,
            samples_per_frame=p.samples_per_frame,
            downbeats_s=downbeats,
            boundaries_s=boundaries,
        )
        rows = manifest_rows(windows, track_folder=track_dir.name, track=track_id)
        csv_path = write_manifest(sidecar_path(track_dir, WINDOWS_CSV), rows)
        series, meta = read_npz(sidecar_path(track_dir, NPZ_SUFFIX))
        rates = meta.get("field_rates") or {k: meta.get("frame_rate", 100) for k in series}
        arrays = window_arrays(series, rates, windows, n / p.sample_rate)
        write_npz(
            sidecar_path(track_dir, WINDOWS_NPZ),
            arrays,
            {
                "preset": p.name,
                "frames": frames,
                "frame_rate": p.frame_rate,
                "samples_per_frame": p.samples_per_frame,
                "sample_rate": p.sample_rate,
                "n_samples": n,
                "starts": [w.start for w in windows],
                "valid": [w.valid for w in windows],
            },
        )
        covered = coverage(windows, n)
        return {
            "latent_window_count": len(windows),
            "latent_window_frames": frames,
            "latent_window_coverage": round(covered, 6),
            "latent_windows_file": csv_path.name,
        }

    return for_each_track(context, settings, compute)
