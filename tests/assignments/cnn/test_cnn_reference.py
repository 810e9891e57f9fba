"""The `cnn` reference against independent sources: tf.nn, Keras layers and numpy.

Expected values never come from the reference itself. TensorFlow is imported inside the
module's fixtures only (it is slow to import) and everything runs in float64.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from solutions import cnn as ref


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def tf_conv(tf, x, kernels, bias, stride=1, padding=0):
    """tf.nn.conv2d on one (H, W, C_in) image with explicit zero padding, plus the bias."""
    pad = "VALID" if padding == 0 else [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    y = tf.nn.conv2d(tf.constant(x[None], tf.float64), tf.constant(kernels, tf.float64), strides=stride, padding=pad)
    return y.numpy()[0] + bias


def tf_pool(tf, x, pool_size, stride, padding):
    """tf.nn.max_pool2d on (H, W) or (H, W, C) data."""
    squeeze = x.ndim == 2
    x4 = x[None, :, :, None] if squeeze else x[None]
    y = tf.nn.max_pool2d(tf.constant(x4, tf.float64), ksize=pool_size, strides=stride, padding=padding.upper()).numpy()[
        0
    ]
    return y[:, :, 0] if squeeze else y


# ---------------------------------------------------------------- convolution


@pytest.mark.parametrize(
    "H, W, c_in, c_out, kh, kw, stride, padding",
    [
        (7, 7, 1, 1, 3, 3, 1, 0),
        (8, 6, 3, 2, 3, 3, 1, 1),
        (9, 7, 3, 4, 3, 2, 2, 1),
        (8, 10, 2, 5, 3, 3, 3, 0),
        (6, 5, 4, 3, 2, 2, 1, 2),
        (11, 9, 2, 3, 4, 3, 2, 0),
        (10, 10, 5, 1, 5, 5, 3, 2),
        (5, 6, 3, 1, 3, 3, 1, 1),
    ],
)
def test_conv2d_matches_tf_nn_conv2d(tf, H, W, c_in, c_out, kh, kw, stride, padding):
    rng = _rng(H * 1000 + W * 100 + c_in * 10 + c_out)
    x = rng.normal(size=(H, W, c_in))
    k = rng.normal(size=(kh, kw, c_in, c_out))
    b = rng.normal(size=c_out)
    expected = tf_conv(tf, x, k, b, stride, padding)
    got = ref.conv2d(x.copy(), k.copy(), b.copy(), stride=stride, padding=padding)
    assert got.shape == ((H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1, c_out)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "H, W, kh, kw", [(7, 7, 3, 3), (9, 6, 3, 2), (5, 11, 4, 4), (8, 8, 5, 5), (6, 8, 1, 1), (4, 4, 4, 4)]
)
def test_conv2d_single_matches_tf_nn_conv2d(tf, H, W, kh, kw):
    rng = _rng(H * 100 + W * 10 + kh)
    img = rng.normal(size=(H, W))
    k = rng.normal(size=(kh, kw))
    expected = tf_conv(tf, img[..., None], k[:, :, None, None], np.zeros(1))[:, :, 0]
    got = ref.conv2d_single(img, k)
    assert got.shape == (H - kh + 1, W - kw + 1) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_conv2d_single_is_cross_correlation_by_hand():
    # 2x3 image, 1x2 kernel [1, -1]: each output is left minus right neighbour (no flip).
    img = np.array([[1.0, 4.0, 9.0], [16.0, 25.0, 36.0]])
    got = ref.conv2d_single(img, np.array([[1.0, -1.0]]))
    assert np.array_equal(got, [[1 - 4, 4 - 9], [16 - 25, 25 - 36]])


def test_conv2d_does_not_modify_inputs():
    rng = _rng(1)
    x, k, b = rng.normal(size=(5, 5, 2)), rng.normal(size=(3, 3, 2, 2)), rng.normal(size=2)
    x0, k0, b0 = x.copy(), k.copy(), b.copy()
    ref.conv2d(x, k, b, stride=2, padding=1)
    assert np.array_equal(x, x0) and np.array_equal(k, k0) and np.array_equal(b, b0)


# ---------------------------------------------------------------- zero padding


@pytest.mark.parametrize("shape, pad", [((2, 3), 1), ((4, 3, 3), 2), ((3, 5), 0), ((1, 1, 4), 3)])
def test_zero_pad_matches_np_pad(shape, pad):
    x = _rng(sum(shape) + pad).normal(size=shape)
    widths = [(pad, pad), (pad, pad)] + [(0, 0)] * (len(shape) - 2)
    expected = np.pad(x, widths)
    got = ref.zero_pad(x, pad)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)


def test_zero_pad_by_hand():
    # [[1, 2]] padded by 1: a border of zeros all round, 3x4
    assert np.array_equal(ref.zero_pad(np.array([[1.0, 2.0]]), 1), [[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])


# ---------------------------------------------------------------- ReLU


def test_relu_matches_tf_nn_relu(tf):
    x = _rng(2).normal(size=(4, 5, 3))
    x[0, 0, 0] = 0.0
    assert np.array_equal(ref.relu(x), tf.nn.relu(tf.constant(x)).numpy())
    assert np.array_equal(ref.relu(np.array([-2, -0.5, 0, 0.5, 2.0])), [0, 0, 0, 0.5, 2])


# ---------------------------------------------------------------- max pooling


@pytest.mark.parametrize(
    "shape, pool_size, stride, padding",
    [
        ((5, 5), 2, 2, "same"),
        ((5, 5), 2, 2, "valid"),
        ((7, 5, 3), 2, 2, "same"),
        ((7, 5, 3), 2, 2, "valid"),
        ((6, 7), 3, 1, "valid"),
        ((6, 7), 3, 1, "same"),
        ((8, 7, 2), 3, 2, "same"),
        ((9, 9, 2), 3, 3, "same"),
        ((9, 11), 3, 2, "valid"),
        ((4, 6, 1), 2, 1, "same"),
        ((5, 3), 4, 3, "same"),
    ],
)
@pytest.mark.parametrize("values", ["mixed", "negative_edges", "all_negative"])
def test_max_pool2d_matches_tf_nn_max_pool2d(tf, shape, pool_size, stride, padding, values):
    rng = _rng(int(np.prod(shape)) + pool_size * 7 + stride)
    x = rng.normal(size=shape)
    if values == "negative_edges":
        # every window that reaches the bottom row or right column there is negative
        x[-1] = -np.abs(x[-1]) - 0.5
        x[:, -1] = -np.abs(x[:, -1]) - 0.5
    elif values == "all_negative":
        x = -np.abs(x) - 0.1
    expected = tf_pool(tf, x, pool_size, stride, padding)
    got = ref.max_pool2d(x.copy(), pool_size, stride, padding)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)
    if values == "all_negative":
        assert np.all(got < 0)  # padded cells never win


def test_max_pool2d_same_output_size_is_ceil():
    # 5x5, stride 2 -> ceil(5/2) = 3; 7x5 -> 4x3; 'valid' 5x5 -> (5-2)//2+1 = 2
    assert ref.max_pool2d(np.zeros((5, 5))).shape == (3, 3)
    assert ref.max_pool2d(np.zeros((7, 5, 2))).shape == (4, 3, 2)
    assert ref.max_pool2d(np.zeros((5, 5)), 2, 2, "valid").shape == (2, 2)


# ---------------------------------------------------------------- flatten, dense, softmax


@pytest.mark.parametrize("shape", [(3, 3), (3, 4, 2), (2, 5), (4, 4, 4), (1, 6, 3)])
def test_flatten_matches_keras_flatten(keras, shape):
    x = _rng(len(shape) * 10 + shape[0]).normal(size=shape)
    expected = keras.layers.Flatten(dtype="float64")(x[None]).numpy()[0]
    got = ref.flatten(x)
    assert got.shape == (x.size,)
    assert np.array_equal(got, expected)


def test_flatten_row_major_by_hand():
    # (2, 2, 2) channels-last: pixel (0,0) channels first, then pixel (0,1), ...
    x = np.arange(8.0).reshape(2, 2, 2)
    assert np.array_equal(ref.flatten(x), [0, 1, 2, 3, 4, 5, 6, 7])


@pytest.mark.parametrize("batch", [None, 1, 5])
def test_dense_matches_keras_dense(keras, batch):
    n, m = 7, 4
    rng = _rng(3 + (batch or 0))
    W, b = rng.normal(size=(n, m)), rng.normal(size=m)
    layer = keras.layers.Dense(m, dtype="float64")
    layer.build((None, n))
    layer.set_weights([W, b])
    x = rng.normal(size=(n,) if batch is None else (batch, n))
    expected = layer(x[None] if batch is None else x).numpy()
    if batch is None:
        expected = expected[0]
    got = ref.dense(x, W, b)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_dense_by_hand():
    # [1, 2, 3] @ [[1, 0], [0, 1], [1, -1]] = [1 + 3, 2 - 3] = [4, -1]; + [0.5, -0.5]
    got = ref.dense(np.array([1.0, 2, 3]), np.array([[1.0, 0], [0, 1], [1, -1]]), np.array([0.5, -0.5]))
    assert np.array_equal(got, [4.5, -1.5])


@pytest.mark.parametrize(
    "z",
    [
        np.array([1.0, 2.0, 3.0]),
        np.array([1000.0, 1000.0, 999.0]),
        np.array([[0.1, -2.0, 5.0], [800.0, 801.0, 799.0], [-800.0, -801.0, -799.5]]),
        np.array([[3.0, -1.0]]),
    ],
)
def test_softmax_matches_tf_nn_softmax(tf, z):
    expected = tf.nn.softmax(tf.constant(z, tf.float64), axis=-1).numpy()
    with np.errstate(all="raise"):  # no overflow warnings either
        got = ref.softmax(z)
    assert not np.isnan(got).any()
    assert got.shape == z.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)


def test_softmax_large_by_hand():
    # z = [1000, 1000, 999]: shift by 1000 -> [0, 0, -1] -> [1, 1, e^-1] / (2 + e^-1)
    e = np.exp(-1.0)
    np.testing.assert_allclose(ref.softmax(np.array([1000.0, 1000.0, 999.0])), [1 / (2 + e), 1 / (2 + e), e / (2 + e)])
    assert np.all(np.isfinite(ref.softmax(np.array([1000.0]))))


# ---------------------------------------------------------------- the whole forward pass


def _keras_cnn(keras, image_shape, kernels, conv_bias, W, b):
    kh, kw, _, F = kernels.shape
    model = keras.Sequential(
        [
            keras.Input(shape=image_shape, dtype="float64"),
            keras.layers.Conv2D(F, (kh, kw), padding="valid", activation="relu", dtype="float64"),
            keras.layers.MaxPooling2D(pool_size=2, strides=2, padding="same", dtype="float64"),
            keras.layers.Flatten(dtype="float64"),
            keras.layers.Dense(W.shape[1], activation="softmax", dtype="float64"),
        ]
    )
    model.layers[0].set_weights([kernels, conv_bias])
    model.layers[3].set_weights([W, b])
    return model


@pytest.mark.parametrize(
    "H, W_, C, F, kh, kw, m", [(7, 7, 1, 2, 3, 3, 2), (9, 8, 3, 4, 3, 2, 5), (10, 9, 2, 3, 4, 4, 3)]
)
def test_cnn_forward_matches_keras_sequential(keras, H, W_, C, F, kh, kw, m):
    rng = _rng(H * W_ + C + F)
    image = rng.normal(size=(H, W_, C))
    kernels, conv_bias = rng.normal(size=(kh, kw, C, F)), rng.normal(size=F)
    P = -(-(H - kh + 1) // 2) * -(-(W_ - kw + 1) // 2) * F  # ceil(H'/2) * ceil(W'/2) * F
    W, b = rng.normal(size=(P, m)) * 0.3, rng.normal(size=m)
    model = _keras_cnn(keras, (H, W_, C), kernels, conv_bias, W, b)
    assert model.layers[3].get_weights()[0].shape == (P, m)
    expected = model(image[None]).numpy()[0]
    got = ref.cnn_forward(image, {"kernels": kernels, "conv_bias": conv_bias, "W": W, "b": b})
    assert got.shape == (m,)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
