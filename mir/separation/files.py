"""Writing stems: FLAC for lossless sources, MP3 at the source's bitrate otherwise, each
file written under a temporary name and renamed into place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mir.separation.core import Separation, _stereo, instrumental

LOSSLESS = {"flac", "wav", "aiff", "aif"}
MP3_BITRATES = (128, 192, 256, 320)


def stem_format(source_ext: str, requested: str = "auto") -> str:
    """FLAC for lossless sources, MP3 otherwise (the original's rule), unless set."""
    if requested != "auto":
        return requested
    return "flac" if source_ext.lower() in LOSSLESS else "mp3"


def mp3_bitrate(source: Path, requested: int | None = None) -> int:
    """The source's bitrate rounded up to 128/192/256/320 kbps (128 when unknown)."""
    if requested:
        return int(requested)
    try:
        import mutagen

        info = mutagen.File(str(source))
        kbps = (
            int(info.info.bitrate / 1000)
            if info is not None and getattr(info.info, "bitrate", 0)
            else 128
        )
    except Exception:
        kbps = 128
    return next((b for b in MP3_BITRATES if b >= kbps), 320)


def write_stem(path: Path, samples: np.ndarray, sr: int, *, bitrate: int = 192) -> Path:
    """Write a stem: FLAC/WAV through soundfile, MP3 through lameenc at `bitrate` kbps."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    if path.suffix.lower() == ".mp3":
        import lameenc

        encoder = lameenc.Encoder()
        encoder.set_bit_rate(int(bitrate))
        encoder.set_in_sample_rate(int(sr))
        encoder.set_channels(2)
        encoder.set_quality(2)
        pcm = (np.clip(_stereo(samples), -1.0, 1.0) * 32767.0).astype("<i2")
        data = encoder.encode(pcm.tobytes()) + encoder.flush()
        tmp.write_bytes(bytes(data))
    else:
        import soundfile as sf

        subtype = "PCM_24" if path.suffix.lower() in (".flac", ".wav", ".aiff") else None
        sf.write(
            str(tmp),
            np.clip(samples, -1.0, 1.0),
            sr,
            subtype=subtype,
            format=path.suffix.lstrip(".").upper(),
        )
    tmp.replace(path)
    return path


def write_separation(
    result: Separation, out_dir: Path, source: Path, cfg, *, mix: np.ndarray | None = None
) -> tuple[str, list[str]]:
    """Write a separation's stems to `out_dir` as the `stems` asset and `mir separate` both
    do: FLAC for a lossless `source`, MP3 at the source's bitrate otherwise (or
    `cfg.output_format`), the model's extra stems with `cfg.keep_extra_stems`, and
    `full_mix_instrumental` with `cfg.instrumental` (mix - vocals when `mix`, at the
    stems' rate, is given). Returns (format, file names written)."""
    from mir.audio import extension

    fmt = stem_format(extension(source), cfg.output_format)
    bitrate = mp3_bitrate(source, cfg.mp3_bitrate or None)
    outputs = dict(result.stems)
    if cfg.keep_extra_stems:
        outputs.update(result.extra)
    if cfg.instrumental:
        outputs["full_mix_instrumental"] = instrumental(result, mix)
    names = [
        write_stem(out_dir / f"{name}.{fmt}", samples, result.sr, bitrate=bitrate).name
        for name, samples in outputs.items()
    ]
    return fmt, names
