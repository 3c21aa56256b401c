"""aesthetics: Audiobox Aesthetics scores of each track, on the GPU resource."""

from dagster import AssetExecutionContext, MetadataValue

from mir.aesthetics import SR, load_aesthetics, score
from mir.errors import ModelNotFound
from mir_assets.runtime import decoded, for_each_track, full_mix_path, model_failure
from resources.gpu import GpuResource
from resources.settings import PipelineSettings


def aesthetics(
    context: AssetExecutionContext,
    settings: PipelineSettings,
    gpu: GpuResource,
    source_audio: dict[str, dict],
) -> dict[str, dict]:
    """`content_enjoyment`, `content_usefulness`, `production_complexity`,
    `production_quality` (1..10) from the Audiobox Aesthetics checkpoint, loaded once per
    run on the GPU resource. The run's tracks are scored `aesthetics.batch_size` at a
    time; a batch that fails is retried track by track, so one bad track fails alone."""
    cfg = settings.config.aesthetics
    path = cfg.model_dir / cfg.checkpoint
    try:
        model = gpu.model(("audiobox_aesthetics", str(path)), lambda: load_aesthetics(path))
    except ModelNotFound as exc:
        raise model_failure(exc) from None
    keys = list(context.partition_keys)
    scored: dict[str, dict | Exception] = {}

    def run(signals: dict) -> list[dict]:
        return score(
            model, list(signals.values()), device=gpu.device, windows_per_pass=cfg.windows_per_pass
        )

    def score_batch(batch: list[str]) -> None:
        signals = {}
        for track_id in batch:
            try:
                signals[track_id] = decoded(
                    full_mix_path(settings, track_id, source_audio[track_id])
                ).mono(SR)
            except Exception as exc:
                scored[track_id] = exc
        if not signals:
            return
        try:
            scored.update(zip(signals, run(signals), strict=True))
        except Exception:
            for track_id, y in signals.items():  # the original's per-file retry
                try:
                    (scored[track_id],) = run({track_id: y})
                except Exception as exc:
                    scored[track_id] = exc

    def compute(track_id: str) -> dict:
        if track_id not in scored:
            start = keys.index(track_id)
            score_batch(keys[start : start + cfg.batch_size])
        value = scored.pop(track_id)
        if isinstance(value, Exception):
            raise value
        return {key: round(v, 4) for key, v in value.items()}

    values = for_each_track(context, settings, compute)
    context.add_output_metadata(
        {
            k: MetadataValue.text(str(v)) if isinstance(v, str) else v
            for k, v in gpu.metadata().items()
        }
    )
    return values
