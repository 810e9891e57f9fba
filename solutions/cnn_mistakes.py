"""The catalogue of realistic wrong implementations for the CNN assignment.

Each function is one mistake (its name is the mistake's id in
assignments/cnn/mistakes.toml) with the signature of the function it replaces. The
grader runs them on every fixture to recognise a student's output; the tests paste
them into the notebook to prove each one is caught and named. A mutant may use only
what a filled notebook defines: numpy as np and the assignment's own functions.
"""

from __future__ import annotations

import numpy as np

from solutions.cnn import conv2d, dense, flatten, max_pool2d, relu, softmax, zero_pad


def flipped_kernel(image, kernel):
    k = kernel[::-1, ::-1]
    H, W = image.shape
    kh, kw = k.shape
    out = np.zeros((H - kh + 1, W - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * k)
    return out


def same_size_output(image, kernel):
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)))
    out = np.zeros(image.shape)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * kernel)
    return out


def off_by_one_size(image, kernel):
    H, W = image.shape
    kh, kw = kernel.shape
    out = np.zeros((H - kh, W - kw))
    for i in range(H - kh):
        for j in range(W - kw):
            out[i, j] = np.sum(image[i : i + kh, j : j + kw] * kernel)
    return out


def pad_channels_too(x, pad):
    return np.pad(x, pad, mode="constant")


def conv_flipped_kernel(x, kernels, bias, stride=1, padding=0):
    xp = zero_pad(x, padding)
    k = kernels[::-1, ::-1, :, :]
    kh, kw, _, c_out = k.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * k[:, :, :, f]) + bias[f]
    return out


def bias_ignored(x, kernels, bias, stride=1, padding=0):
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f])
    return out


def bias_per_input_channel(x, kernels, bias, stride=1, padding=0):
    xp = zero_pad(x, padding)
    kh, kw, c_in, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            for f in range(c_out):
                for c in range(c_in):
                    window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, c]
                    out[i, j, f] += np.sum(window * kernels[:, :, c, f]) + bias[f]
    return out


def channels_not_summed(x, kernels, bias, stride=1, padding=0):
    # only the first input channel contributes
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, 0]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, 0, f]) + bias[f]
    return out


def stride_ignored(x, kernels, bias, stride=1, padding=0):
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = xp.shape[0] - kh + 1, xp.shape[1] - kw + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i : i + kh, j : j + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f]) + bias[f]
    return out


def stride_not_in_window(x, kernels, bias, stride=1, padding=0):
    # the output size uses the stride, but the window at (i, j) starts at row i, column j
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i : i + kh, j : j + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f]) + bias[f]
    return out


def bias_per_product(x, kernels, bias, stride=1, padding=0):
    # the bias goes inside the sum: it is added once per product, kh * kw * C_in times
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f] + bias[f])
    return out


def height_width_swapped(x, kernels, bias, stride=1, padding=0):
    # the first output axis runs over the columns and the second over the rows
    xp = zero_pad(x, padding)
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((w_out, h_out, c_out))
    for i in range(w_out):
        for j in range(h_out):
            window = xp[j * stride : j * stride + kh, i * stride : i * stride + kw, :]
            for f in range(c_out):
                out[i, j, f] = np.sum(window * kernels[:, :, :, f]) + bias[f]
    return out


def pool_drops_edges(x, pool_size=2, stride=2, padding="same"):
    # every padding treated as "valid": incomplete edge windows are dropped
    squeeze = x.ndim == 2
    y = x[:, :, None] if squeeze else x
    H, W, C = y.shape
    h_out, w_out = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    out = np.zeros((h_out, w_out, C))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = y[i * stride : i * stride + pool_size, j * stride : j * stride + pool_size].max(axis=(0, 1))
    return out[:, :, 0] if squeeze else out


def pool_zero_padding(x, pool_size=2, stride=2, padding="same"):
    # pads with zeros instead of -inf: a window of negative values at the edge returns 0
    squeeze = x.ndim == 2
    y = x[:, :, None] if squeeze else x
    H, W, C = y.shape
    if padding == "same":
        h_out, w_out = -(-H // stride), -(-W // stride)
        pad_h = max((h_out - 1) * stride + pool_size - H, 0)
        pad_w = max((w_out - 1) * stride + pool_size - W, 0)
        y = np.pad(y, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
    else:
        h_out, w_out = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    out = np.zeros((h_out, w_out, C))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = y[i * stride : i * stride + pool_size, j * stride : j * stride + pool_size].max(axis=(0, 1))
    return out[:, :, 0] if squeeze else out


def average_pooling(x, pool_size=2, stride=2, padding="same"):
    squeeze = x.ndim == 2
    y = x[:, :, None] if squeeze else x
    H, W, C = y.shape
    if padding == "same":
        h_out, w_out = -(-H // stride), -(-W // stride)
    else:
        h_out, w_out = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
    out = np.zeros((h_out, w_out, C))
    for i in range(h_out):
        for j in range(w_out):
            out[i, j] = y[i * stride : i * stride + pool_size, j * stride : j * stride + pool_size].mean(axis=(0, 1))
    return out[:, :, 0] if squeeze else out


def column_major_flatten(x):
    return np.reshape(x, -1, order="F")


def leaky_relu(x):
    return np.where(x > 0, x, 0.01 * x)


def softmax_overflow(z):
    e = np.exp(z)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_wrong_axis(z):
    shifted = z - np.max(z, axis=0, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=0, keepdims=True)


def softmax_whole_array(z):
    # one maximum and one sum over every score of the batch, not one per row
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def dense_no_bias(x, W, b):
    return x @ W


def forward_no_relu(image, params):
    pooled = max_pool2d(conv2d(image, params["kernels"], params["conv_bias"]))
    return softmax(dense(flatten(pooled), params["W"], params["b"]))


def forward_no_softmax(image, params):
    pooled = max_pool2d(relu(conv2d(image, params["kernels"], params["conv_bias"])))
    return dense(flatten(pooled), params["W"], params["b"])


def forward_pool_after_flatten_order(image, params):
    # flattening channel-first (C, H, W) instead of Keras' channels-last order
    pooled = max_pool2d(relu(conv2d(image, params["kernels"], params["conv_bias"])))
    return softmax(dense(flatten(np.transpose(pooled, (2, 0, 1))), params["W"], params["b"]))


MUTANTS = {
    f.__name__: f
    for f in (
        flipped_kernel,
        same_size_output,
        off_by_one_size,
        pad_channels_too,
        conv_flipped_kernel,
        bias_ignored,
        bias_per_input_channel,
        channels_not_summed,
        stride_ignored,
        stride_not_in_window,
        bias_per_product,
        height_width_swapped,
        pool_drops_edges,
        pool_zero_padding,
        average_pooling,
        column_major_flatten,
        leaky_relu,
        softmax_overflow,
        softmax_wrong_axis,
        softmax_whole_array,
        dense_no_bias,
        forward_no_relu,
        forward_no_softmax,
        forward_pool_after_flatten_order,
    )
}
