"""stems: drums, bass, other and vocals of each track, separated on the GPU resource."""

from collections import deque
from concurrent.futures import ThreadPoolExecutor, wait

from dagster import AssetExecutionContext, MetadataValue

from mir.errors import ModelNotFound
from mir.separation import check_model, model_loader, separate
from mir.separation.files import write_separation
from mir_assets.runtime import decoded, for_each_track, full_mix_path, model_failure
from resources.gpu import GpuResource
from resources.settings import PipelineSettings


def stems(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
) -> dict[str, dict]:
    """`drums`, `bass`, `other`, `vocals` in the track folder (FLAC for lossless sources,
    MP3 otherwise), from Demucs or BS-RoFormer loaded once per run on the GPU resource.

    While one track is separated, the next one is decoded and the previous one's stems
    are encoded and written, on their own threads (at most two tracks queued). Records
    `stem_backend`, `stem_model`, `stem_format`, `stem_sample_rate`,
    `stems_peak_normalized` and `stem_quality_flagged` (stems found near-silent and
    mixed into `other`).
    """
    cfg = settings.config.separation
    try:
        check_model(cfg)  # before any track is touched
    except ModelNotFound as exc:
        raise model_failure(exc) from None
    key, load = model_loader(cfg)
    model = gpu.model(key, load)
    model_name = cfg.demucs.model if cfg.backend == "demucs" else cfg.bs_roformer.model_file
    keys = list(context.partition_keys)
    decoder, writer = ThreadPoolExecutor(1, "decode"), ThreadPoolExecutor(1, "encode")
    upcoming: dict = {}
    writes: deque = deque()

    def prefetch(index: int) -> None:
        if index < len(keys) and keys[index] not in upcoming:
            track_id = keys[index]
            upcoming[track_id] = decoder.submit(
                decoded, full_mix_path(settings, track_id, source_audio[track_id])
            )

    def compute(track_id: str):
        index = keys.index(track_id)
        prefetch(index)
        prefetch(index + 1)  # decode the next track while this one is separated
        audio = upcoming.pop(track_id).result()
        result = separate(model, audio.samples, audio.sr, cfg, device=gpu.device)
        track_dir = settings.track_dir(track_id)
        source = track_dir / source_audio[track_id]["full_mix"]

        def write() -> dict:
            mix = audio.samples if audio.sr == result.sr else None
            fmt, files = write_separation(result, track_dir, source, cfg, mix=mix)
            return {
                "stem_backend": cfg.backend,
                "stem_model": model_name,
                "stem_format": fmt,
                "stem_sample_rate": result.sr,
                "stems_peak_normalized": result.peak_normalized,
                "stem_quality_flagged": result.flagged,
                "stem_files": files,
            }

        while len(writes) >= 2:  # bounded: at most two tracks wait to be written
            wait([writes.popleft()])
        future = writer.submit(write)
        writes.append(future)
        return future

    try:
        values = for_each_track(context, settings, compute)
    finally:
        decoder.shutdown(wait=True, cancel_futures=True)
        writer.shutdown(wait=True)
    context.add_output_metadata(
        {
            k: MetadataValue.text(str(v)) if isinstance(v, str) else v
            for k, v in gpu.metadata().items()
        }
    )
    return values
