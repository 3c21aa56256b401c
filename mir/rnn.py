"""madmom's recurrent networks, run as one batched computation per layer.

madmom evaluates an ensemble (the downbeat model has 8 networks of 3 bidirectional
LSTM layers of 25 units with peepholes) one network, one direction and one frame at a
time, with a dozen small numpy calls per frame: about 1.5 million Python-level steps
for 5 minutes of audio, on one core. Here the same arithmetic (madmom's `LSTMLayer`,
`Gate`, `Cell`, `BidirectionalLayer`, `FeedForwardLayer` and `average_predictions`,
in float32 as madmom computes it) is split in two:

- the input projections of every gate of every network and direction are one matrix
  product per block of frames (BLAS);
- the recurrences, which must go frame by frame, run in a compiled loop (numba), the
  networks of the ensemble in parallel on every core.

The weights are read from madmom's loaded network objects, so any madmom model of this
shape runs unchanged. Results equal madmom's to float32 rounding (about 1e-6).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

#: frames whose input projections are computed at once (bounded memory on long tracks)
BLOCK_FRAMES = 4096
#: gate order inside a projection row: input, forget, cell, output
_GATES = ("input_gate", "forget_gate", "cell", "output_gate")
#: frames transformed at once by the feature chain (its arrays stay in the CPU cache)
FFT_BATCH = 256


@dataclass(frozen=True)
class _Direction:
    """One LSTM layer direction of every network: stacked weights, float32."""

    weights: np.ndarray  # (nets, inputs, 4 * units)
    bias: np.ndarray  # (nets, 4 * units)
    recurrent: np.ndarray  # (nets, units, 4 * units)
    peepholes: np.ndarray  # (nets, 3, units): input, forget, output gate


@dataclass(frozen=True)
class Ensemble:
    """An ensemble of bidirectional-LSTM networks with a softmax (or other) output layer."""

    layers: tuple[tuple[_Direction, _Direction], ...]  # (forward, backward) per layer
    out_weights: np.ndarray  # (nets, 2 * units, outputs)
    out_bias: np.ndarray  # (nets, outputs)
    out_activation: object  # madmom's activation function of the output layer


def _stack_direction(lstms) -> _Direction:
    def gate_array(attr: str) -> np.ndarray:
        return np.stack(
            [np.concatenate([getattr(getattr(x, g), attr) for g in _GATES], axis=-1) for x in lstms]
        ).astype(np.float32)

    peeped = ("input_gate", "forget_gate", "output_gate")
    peep = np.stack(
        [np.stack([getattr(x, g).peephole_weights for g in peeped]) for x in lstms]
    ).astype(np.float32)
    return _Direction(
        weights=gate_array("weights"),
        bias=gate_array("bias"),
        recurrent=gate_array("recurrent_weights"),
        peepholes=peep,
    )


def ensemble_of(network) -> Ensemble:
    """The weights of a loaded madmom `NeuralNetworkEnsemble` (or single `NeuralNetwork`)
    of bidirectional LSTM layers and one feed-forward output layer.

    Raises
    ------
    ValueError
        If the network has another shape (this runner would compute something else).
    """
    from madmom.ml.nn import NeuralNetwork, average_predictions

    if isinstance(network, NeuralNetwork):
        nets = [network]
    else:
        parallel, average = network.processors
        if average is not average_predictions:
            raise ValueError("the ensemble does not average its networks' predictions")
        nets = list(parallel.processors)
    depth = {len(n.layers) for n in nets}
    if len(depth) != 1:
        raise ValueError("the networks of the ensemble differ in depth")
    (depth,) = depth
    if depth < 2:
        raise ValueError("the networks have no recurrent layer")
    layers = []
    for i in range(depth - 1):
        per_net = [n.layers[i] for n in nets]
        if not all(hasattr(layer, "fwd_layer") for layer in per_net):
            raise ValueError(f"layer {i} is not a bidirectional LSTM layer")
        for layer in per_net:
            for lstm in (layer.fwd_layer, layer.bwd_layer):
                if any(getattr(lstm, g, None) is None for g in _GATES):
                    raise ValueError(f"layer {i} is not an LSTM layer")
                if lstm.cell.peephole_weights is not None or any(
                    getattr(lstm, g).peephole_weights is None
                    for g in ("input_gate", "forget_gate", "output_gate")
                ):
                    raise ValueError(f"layer {i}: unexpected peephole connections")
                if np.any(lstm.init) or np.any(lstm.cell_init):
                    raise ValueError(f"layer {i}: non-zero initial state")
        layers.append(
            (
                _stack_direction([layer.fwd_layer for layer in per_net]),
                _stack_direction([layer.bwd_layer for layer in per_net]),
            )
        )
    outs = [n.layers[-1] for n in nets]
    return Ensemble(
        layers=tuple(layers),
        out_weights=np.stack([o.weights for o in outs]).astype(np.float32),
        out_bias=np.stack([o.bias for o in outs]).astype(np.float32),
        out_activation=outs[0].activation_fn,
    )


_kernel = None
_kernel_lock = threading.Lock()


def _recurrence():
    """The compiled frame-by-frame LSTM loop (compiled once, cached on disk)."""
    global _kernel
    with _kernel_lock:
        if _kernel is None:
            import numba

            @numba.njit(parallel=True, cache=True, fastmath=False)
            def recur(proj, recurrent, peep, h, c, out, reverse):  # pragma: no cover - compiled
                frames, nets = proj.shape[0], proj.shape[1]
                units = h.shape[1]
                for n in numba.prange(nets):
                    g = np.empty(4 * units, dtype=np.float32)
                    for step in range(frames):
                        t = frames - 1 - step if reverse else step
                        for k in range(4 * units):
                            g[k] = proj[t, n, k]
                        for j in range(units):
                            hj = h[n, j]
                            if hj != 0.0:
                                for k in range(4 * units):
                                    g[k] += hj * recurrent[n, j, k]
                        for j in range(units):
                            ig = g[j] + c[n, j] * peep[n, 0, j]
                            ig = np.float32(0.5) * np.tanh(np.float32(0.5) * ig) + np.float32(0.5)
                            fg = g[units + j] + c[n, j] * peep[n, 1, j]
                            fg = np.float32(0.5) * np.tanh(np.float32(0.5) * fg) + np.float32(0.5)
                            cell = np.tanh(g[2 * units + j])
                            c[n, j] = cell * ig + c[n, j] * fg
                        for j in range(units):
                            og = g[3 * units + j] + c[n, j] * peep[n, 2, j]
                            og = np.float32(0.5) * np.tanh(np.float32(0.5) * og) + np.float32(0.5)
                            h[n, j] = np.tanh(c[n, j]) * og
                            out[t, n, j] = h[n, j]

            _kernel = recur
    return _kernel


def _run_direction(
    inputs, direction: _Direction, *, reverse: bool, shared: bool, out: np.ndarray
) -> None:
    """One LSTM direction of every network over all frames, into `out` (frames, nets, units;
    may be a view into the next layer's input).

    `inputs` is (frames, features) when every network reads the same input (`shared`),
    else (frames, nets, features)."""
    recur = _recurrence()
    frames = inputs.shape[0]
    nets, units = direction.bias.shape[0], direction.recurrent.shape[1]
    block = np.empty((min(BLOCK_FRAMES, frames), nets, units), dtype=np.float32)
    h = np.zeros((nets, units), dtype=np.float32)
    c = np.zeros((nets, units), dtype=np.float32)
    starts = list(range(0, frames, BLOCK_FRAMES))
    if shared:  # one product for every network: (frames, features) x (features, nets * 4u)
        flat = direction.weights.transpose(1, 0, 2).reshape(direction.weights.shape[1], -1)
    for a in reversed(starts) if reverse else starts:
        b = min(a + BLOCK_FRAMES, frames)
        if shared:
            proj = (inputs[a:b] @ flat).reshape(b - a, nets, -1)
        else:
            # one batched product per network (einsum is several times slower here)
            proj = np.matmul(inputs[a:b].transpose(1, 0, 2), direction.weights).transpose(1, 0, 2)
        proj += direction.bias
        recur(np.ascontiguousarray(proj, dtype=np.float32), direction.recurrent,
              direction.peepholes, h, c, block[: b - a], reverse)  # fmt: skip
        out[a:b] = block[: b - a]


def activate(ensemble: Ensemble, features: np.ndarray) -> np.ndarray:
    """The ensemble's averaged output for `features` (frames, inputs): what madmom's
    `NeuralNetworkEnsemble` returns for them, (frames, outputs), float32."""
    x = np.ascontiguousarray(features, dtype=np.float32)
    del features  # a long track's features go once the first layer has read them
    shared = True
    for forward, backward in ensemble.layers:
        units = forward.recurrent.shape[1]
        # both directions write into the next layer's input: no concatenated copy
        nxt = np.empty((x.shape[0], forward.bias.shape[0], 2 * units), dtype=np.float32)
        _run_direction(x, forward, reverse=False, shared=shared, out=nxt[:, :, :units])
        _run_direction(x, backward, reverse=True, shared=shared, out=nxt[:, :, units:])
        x, shared = nxt, False
    nets = ensemble.out_weights.shape[0]
    total = np.zeros((x.shape[0], ensemble.out_weights.shape[2]), dtype=np.float32)
    for n in range(nets):
        out = x[:, n, :] @ ensemble.out_weights[n] + ensemble.out_bias[n]
        total += ensemble.out_activation(out)
    return total / np.float32(nets)


# -- the network's input: madmom's multi-resolution spectral features, vectorised ------


@dataclass(frozen=True)
class _Resolution:
    """One frame size of madmom's feature chain (frames -> STFT -> filtered log
    spectrogram -> positive difference), with its filterbank."""

    frame_size: int
    window: np.ndarray  # float64, as madmom multiplies the frames
    filterbank: np.ndarray  # (frame_size / 2, bands), float32
    mul: float
    add: float
    diff_frames: int


@dataclass(frozen=True)
class SpectralFeatures:
    """madmom's `SequentialProcessor((SignalProcessor, ParallelProcessor([frames, stft,
    filt, spec, diff] per frame size), np.hstack))`, read from a loaded processor, computed
    with every frame of a block at once instead of one FFT call per frame (madmom's
    `stft` loops over frames in Python)."""

    sample_rate: int
    hop: int
    resolutions: tuple[_Resolution, ...]

    @property
    def context(self) -> int:
        """Frames before a block that its differences need."""
        return max(r.diff_frames for r in self.resolutions)

    def n_frames(self, n_samples: int) -> int:
        """madmom's frame count (end='normal'): ceil(samples / hop)."""
        return -(-n_samples // self.hop)

    def __call__(self, y: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Features of frames [start, stop) of the mono signal `y` (float32), shape
        (frames, sum of 2 x bands); equal to madmom's for the same frames."""
        import scipy.fft

        stop = self.n_frames(y.size) if stop is None else stop
        first = max(start - self.context, 0)
        parts = []
        for r in self.resolutions:
            half = r.frame_size // 2
            # frame i covers y[i * hop - half : i * hop + half], zeros outside the signal
            lo, hi = first * self.hop - half, (stop - 1) * self.hop + half
            piece = y[max(lo, 0) : min(hi, y.size)]
            if lo < 0 or hi > y.size:
                piece = np.pad(piece, (max(-lo, 0), max(hi - y.size, 0)))
            frames = np.lib.stride_tricks.sliding_window_view(piece, r.frame_size)[:: self.hop]
            # a few hundred frames at a time stay in the CPU cache; float32 throughout
            # (madmom windows in float64: the spectra differ by float32 rounding)
            spec = np.empty((frames.shape[0], r.filterbank.shape[1]), dtype=np.float32)
            window = r.window.astype(np.float32)
            for a in range(0, frames.shape[0], FFT_BATCH):
                spectrum = scipy.fft.rfft(frames[a : a + FFT_BATCH] * window, axis=1)
                spec[a : a + FFT_BATCH] = np.abs(spectrum[:, :half]) @ r.filterbank
            spec = np.log10(spec * np.float32(r.mul) + np.float32(r.add))
            diff = np.zeros_like(spec)
            d = r.diff_frames
            # madmom's first `d` frames of the signal have no difference (zeros)
            # (a later block starts `context` >= d frames early: its first rows are dropped)
            diff[d:] = spec[d:] - spec[:-d]
            np.maximum(diff, 0, out=diff)
            skip = start - first
            parts.extend([spec[skip:], diff[skip:]])
        return np.hstack(parts)


def spectral_features_of(processor) -> SpectralFeatures:
    """The feature chain of a loaded madmom processor such as `RNNDownBeatProcessor`'s
    first stage (`processor.processors[0]`).

    Raises
    ------
    ValueError
        If the chain is not the multi-resolution filtered-log-difference chain.
    """
    from madmom.audio.filters import LogarithmicFilterbank
    from madmom.audio.spectrogram import _diff_frames
    from madmom.audio.stft import fft_frequencies

    signal, multi, stack = processor.processors
    if stack is not np.hstack:
        raise ValueError("the feature chain does not stack its resolutions")
    resolutions, hops = [], set()
    for chain in multi.processors:
        frames, stft, filt, spec, diff = chain.processors
        # a processor that has run holds the filterbank it built instead of the class
        built = isinstance(filt.filterbank, np.ndarray)
        if (
            not (built or filt.filterbank is LogarithmicFilterbank)
            or stft.fft_size
            or stft.circular_shift
        ):
            raise ValueError("unexpected spectrogram settings in the feature chain")
        if diff.diff_max_bins or not diff.positive_diffs or diff.stack_diffs is not np.hstack:
            raise ValueError("unexpected spectrogram difference settings in the feature chain")
        if frames.origin != 0 or frames.end != "normal" or frames.hop_size != int(frames.hop_size):
            raise ValueError("unexpected framing in the feature chain")
        size = int(frames.frame_size)
        window = stft.window(size) if callable(stft.window) else np.asarray(stft.window)
        bins = fft_frequencies(size >> 1, signal.sample_rate)
        bank = (
            filt.filterbank
            if built
            else LogarithmicFilterbank(
                bins,
                num_bands=filt.num_bands,
                fmin=filt.fmin,
                fmax=filt.fmax,
                fref=filt.fref,
                norm_filters=filt.norm_filters,
                unique_filters=filt.unique_filters,
            )
        )
        d = diff.diff_frames or _diff_frames(
            diff.diff_ratio, hop_size=frames.hop_size, frame_size=size, window=window
        )
        resolutions.append(
            _Resolution(size, window, np.asarray(bank, np.float32), spec.mul, spec.add, d)
        )
        hops.add(int(frames.hop_size))
    (hop,) = hops
    return SpectralFeatures(int(signal.sample_rate), hop, tuple(resolutions))
