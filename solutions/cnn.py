"""Reference solution: the four steps of a CNN in plain numpy (float64).

Convolution + ReLU, max pooling, flattening, full connection: exactly what
`keras.layers.Conv2D`, `MaxPooling2D`, `Flatten` and `Dense` compute on
channels-last data, written out so that every number can be followed by hand.
Checked against tf.nn and Keras in tests/assignments/cnn/test_cnn_reference.py.
"""

from __future__ import annotations

import numpy as np


def conv2d_single(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid cross-correlation of one image with one kernel.

    image: (H, W), kernel: (kh, kw) -> feature map (H - kh + 1, W - kw + 1).
    The kernel is NOT flipped: CNN layers slide it over the image as it is.
    """
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def zero_pad(x: np.ndarray, pad: int) -> np.ndarray:
    """Pad the two spatial axes with `pad` zeros on each side.

    x: (H, W) or (H, W, C) -> (H + 2*pad, W + 2*pad) or (H + 2*pad, W + 2*pad, C).
    """
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 2)
    return np.pad(x, widths, mode="constant", constant_values=0)


def conv2d(x: np.ndarray, kernels: np.ndarray, bias: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Multi-channel convolution layer (cross-correlation) with bias, stride and zero padding.

    x: (H, W, C_in), kernels: (kh, kw, C_in, C_out), bias: (C_out,)
    -> (H_out, W_out, C_out) with H_out = (H + 2*padding - kh) // stride + 1.
    Each output value sums over all input channels, then adds its filter's one bias.
    """
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out = (xp.shape[0] - kh) // stride + 1
    w_out = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, :]  # (kh, kw, C_in)
            # contract the window with every filter at once: sum over kh, kw and C_in
            out[i, j, :] = np.tensordot(window, kernels, axes=([0, 1, 2], [0, 1, 2])) + bias
    return out


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0) elementwise; any shape."""
    return np.maximum(x, 0.0)


def max_pool2d(x: np.ndarray, pool_size: int = 2, stride: int = 2, padding: str = "same") -> np.ndarray:
    """Max pooling over the two spatial axes; channels pooled independently.

    x: (H, W) or (H, W, C).
    "valid": only whole windows, H_out = (H - pool_size) // stride + 1.
    "same":  H_out = ceil(H / stride); the padding TensorFlow adds is split with the
             extra cell at the bottom/right, and padded cells never win (they are -inf).
    """
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    H, W, C = x.shape
    if padding == "valid":
        h_out, w_out = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
        top = left = 0
        xp = x
    elif padding == "same":
        h_out, w_out = -(-H // stride), -(-W // stride)
        pad_h = max((h_out - 1) * stride + pool_size - H, 0)
        pad_w = max((w_out - 1) * stride + pool_size - W, 0)
        top, left = pad_h // 2, pad_w // 2
        xp = np.full((H + pad_h, W + pad_w, C), -np.inf)
        xp[top : top + H, left : left + W, :] = x
    else:
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}")
    out = np.zeros((h_out, w_out, C))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + pool_size, j * stride : j * stride + pool_size, :]
            out[i, j, :] = window.max(axis=(0, 1))
    return out[:, :, 0] if squeeze else out


def flatten(x: np.ndarray) -> np.ndarray:
    """Any shape -> 1-D, row-major (C order): the order Keras' Flatten uses on channels-last data."""
    return np.reshape(x, -1, order="C")


def dense(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Full connection. x: (n,) or (N, n), W: (n, m), b: (m,) -> (m,) or (N, m)."""
    return x @ W + b


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis. z: (m,) or (N, m).

    Subtracting the row maximum changes nothing mathematically and keeps exp() from
    overflowing (z = 1000 would give inf / inf = nan).
    """
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def cnn_forward(image: np.ndarray, params: dict) -> np.ndarray:
    """The four steps: conv + ReLU, max pooling, flattening, full connection (+ softmax).

    image: (H, W, C); params: "kernels" (kh, kw, C, F), "conv_bias" (F,), "W" (P, m), "b" (m,)
    where P is the length of the flattened pooled map -> (m,) class probabilities.
    """
    feature_maps = relu(conv2d(image, params["kernels"], params["conv_bias"]))
    pooled = max_pool2d(feature_maps)
    return softmax(dense(flatten(pooled), params["W"], params["b"]))
