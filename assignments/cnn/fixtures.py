"""Fixtures of the CNN assignment: the lecture's numbers (public) and seeded hidden inputs.

Hidden inputs have other shapes, strides and paddings, negative values and edge
windows that are all negative, so that hard-coding the lecture's answers or a special
case never earns full marks. Only inputs live here: every expected value is computed
by the grader from the reference at grading time.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np

from deepgrade.course.assignment import Case, seeded

LECTURE = tomllib.loads((Path(__file__).with_name("lecture.toml")).read_text())


def arr(values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def lecture_image() -> np.ndarray:
    return arr(LECTURE["image"]["values"])


def lecture_detector() -> np.ndarray:
    return arr(LECTURE["feature_detector"]["values"])


def colour_input() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (5, 6, 3), kernels (3, 3, 3, 1), bias (1,) of the lecture's colour example."""
    c = LECTURE["colour"]
    x = np.stack([arr(c["red"]), arr(c["green"]), arr(c["blue"])], axis=-1)
    k = np.stack([arr(c["kernel_red"]), arr(c["kernel_green"]), arr(c["kernel_blue"])], axis=-1)[..., None]
    return x, k, arr([c["bias"]])


def _negative_edges(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random values whose last row and column are all negative (edge windows all negative)."""
    x = rng.normal(size=shape)
    x[-1] = -np.abs(x[-1]) - 0.5
    x[:, -1] = -np.abs(x[:, -1]) - 0.5
    return x


def cases() -> dict[str, list[Case]]:
    img, det = lecture_image(), lecture_detector()
    K = {k: arr(v) for k, v in LECTURE["kernels"].items() if k != "source"}
    x_col, k_col, b_col = colour_input()
    rng = seeded(20261126)

    # every kernel is asymmetric (it differs when flipped) and several are not square,
    # so a true convolution or swapped height and width never passes by accident
    conv2d_single = [
        Case("lecture", "the lecture's 7x7 image and 3x3 feature detector", (img, det)),
        Case("emboss_lecture", "the lecture's 7x7 image and its emboss kernel", (img, K["emboss"])),
        Case(
            "emboss",
            "a 6x8 image (values -3 to 3 in steps of 0.5) and the lecture's emboss kernel",
            (np.round(rng.uniform(-3, 3, size=(6, 8)) * 2) / 2, K["emboss"]),
        ),
        Case(
            "wide_kernel",
            "the lecture's 7x7 image and the 2x3 kernel [[1, 2, 0], [0, -1, 3]]",
            (img, arr([[1, 2, 0], [0, -1, 3]])),
        ),
        Case("hidden_9x6", "9x6 image, 3x2 kernel", (rng.normal(size=(9, 6)), rng.normal(size=(3, 2))), hidden=True),
        Case("hidden_5x11", "5x11 image, 4x4 kernel", (rng.normal(size=(5, 11)), rng.normal(size=(4, 4))), hidden=True),
        Case(
            "hidden_blur_skewed",
            "8x8 image, the lecture's 5x5 blur kernel with a random 5x5 kernel added",
            (rng.uniform(-3, 3, size=(8, 8)), K["blur"] + rng.normal(size=(5, 5))),
            hidden=True,
        ),
    ]
    zero_pad = [
        Case("two_d", "a 2x3 array, pad 1", (arr([[1, 2, 3], [4, 5, 6]]), 1)),
        Case(
            "channels",
            "a 2x2 array with 2 channels (channel 0: [[1, 2], [3, 4]], channel 1: its negative), pad 1",
            (np.stack([arr([[1, 2], [3, 4]]), -arr([[1, 2], [3, 4]])], axis=-1), 1),
        ),
        Case("hidden_rgb", "4x3x3 array, pad 2", (rng.normal(size=(4, 3, 3)), 2), hidden=True),
        Case("hidden_zero", "3x5 array, pad 0", (rng.normal(size=(3, 5)), 0), hidden=True),
        Case("hidden_hwc", "3x5 array with 2 channels, pad 1", (rng.normal(size=(3, 5, 2)), 1), hidden=True),
    ]
    conv2d = [
        Case(
            "colour",
            "the lecture's colour example (3 channels, padding 1, bias 1)",
            (x_col, k_col, b_col),
            {"padding": 1},
        ),
        Case(
            "two_filters",
            "the lecture's 7x7 image as one channel, its detector and edge-detect as 2 filters, bias [0.5, -1]",
            (img[..., None], np.stack([det, K["edge_detect"]], axis=-1)[:, :, None, :], arr([0.5, -1])),
        ),
        Case(
            "stride2",
            "a 5x6 image with 2 channels (integers -3 to 3), 2 filters of 3x2, bias [1, -2], stride 2",
            (
                (np.arange(60).reshape(5, 6, 2) * 5 % 7 - 3).astype(np.float64),
                arr(np.arange(24).reshape(3, 2, 2, 2) * 7 % 5 - 2),
                arr([1, -2]),
            ),
            {"stride": 2},
        ),
        Case(
            "hidden_stride2",
            "9x7 image with 3 channels, 3x2 kernels, 4 filters, stride 2, padding 1",
            (rng.normal(size=(9, 7, 3)), rng.normal(size=(3, 2, 3, 4)), rng.normal(size=4)),
            {"stride": 2, "padding": 1},
            hidden=True,
        ),
        Case(
            "hidden_stride3",
            "8x10 image with 2 channels, 3x3 kernels, 5 filters, stride 3, no padding",
            (rng.normal(size=(8, 10, 2)), rng.normal(size=(3, 3, 2, 5)), rng.normal(size=5)),
            {"stride": 3},
            hidden=True,
        ),
        Case(
            "hidden_stride2_wide",
            "8x11 image with 2 channels, 2x3 kernels, 3 filters, stride 2, no padding",
            (rng.normal(size=(8, 11, 2)), rng.normal(size=(2, 3, 2, 3)), rng.normal(size=3)),
            {"stride": 2},
            hidden=True,
        ),
        Case(
            "hidden_pad2",
            "6x5 image with 4 channels, 2x2 kernels, 3 filters, stride 2, padding 2",
            (rng.normal(size=(6, 5, 4)), rng.normal(size=(2, 2, 4, 3)), rng.normal(size=3)),
            {"stride": 2, "padding": 2},
            hidden=True,
        ),
    ]
    fmap = arr(LECTURE["feature_map"]["true"])
    max_pool2d = [
        Case("lecture", "the lecture's 5x5 feature map, 2x2 windows, stride 2, 'same'", (fmap,)),
        Case("lecture_valid", "the lecture's 5x5 feature map, 2x2 windows, stride 2, 'valid'", (fmap, 2, 2, "valid")),
        Case(
            "negative_edge",
            "a 3x3 map with 2 channels, every value negative (channel 0: -1 to -9, channel 1: its reverse), "
            "2x2 windows, stride 2, 'same': the edge windows hang over the border",
            (np.stack([-arr(np.arange(1, 10).reshape(3, 3)), -arr(np.arange(9, 0, -1).reshape(3, 3))], axis=-1),),
        ),
        Case(
            "hidden_negative_edges",
            "7x5 map with 3 channels whose last row and column are negative, 2x2, stride 2, 'same'",
            (_negative_edges(rng, (7, 5, 3)),),
            hidden=True,
        ),
        Case(
            "hidden_3x3_s1",
            "6x7 map, 3x3 windows, stride 1, 'valid'",
            (rng.normal(size=(6, 7)), 3, 1, "valid"),
            hidden=True,
        ),
        Case(
            "hidden_3x3_s2_same",
            "8x7 map with 2 channels, negative values, 3x3 windows, stride 2, 'same'",
            (-np.abs(rng.normal(size=(8, 7, 2))) - 0.1, 3, 2, "same"),
            hidden=True,
        ),
        Case(
            "hidden_negative_3x3_s3",
            "7x8 map of negative values, 3x3 windows, stride 3, 'same'",
            (-np.abs(rng.normal(size=(7, 8))) - 0.1, 3, 3, "same"),
            hidden=True,
        ),
        # pre-activation maps (pooling before ReLU, or after a leaky one) are negative in places:
        # a window over the border must still take the largest REAL value
        Case(
            "hidden_negative_5x5_c2",
            "5x5 map with 2 channels of negative values, 2x2 windows, stride 2, 'same'",
            (-np.abs(rng.normal(size=(5, 5, 2))) - 0.1,),
            hidden=True,
        ),
        Case(
            "hidden_negative_4x7_s2",
            "4x7 map of negative values, 3x3 windows, stride 2, 'same'",
            (-np.abs(rng.normal(size=(4, 7))) - 0.1, 3, 2, "same"),
            hidden=True,
        ),
    ]
    flatten = [
        Case("lecture", "the lecture's 3x3 pooled feature map", (arr(LECTURE["pooled"]["slide"]),)),
        Case(
            "hwc",
            "a 2x2 map with 3 channels holding 1 to 12 in C order",
            (arr(np.arange(1, 13).reshape(2, 2, 3)),),
        ),
        Case("hidden_hwc", "a 3x4x2 array", (rng.normal(size=(3, 4, 2)),), hidden=True),
        Case("hidden_rect", "a 2x5 array", (rng.normal(size=(2, 5)),), hidden=True),
    ]
    relu = [
        Case("vector", "the vector [-2, -0.5, 0, 0.5, 2]", (arr([-2, -0.5, 0, 0.5, 2]),)),
        Case("matrix", "the 2x3 array [[-1, 2, -3], [4, -5, 0]]", (arr([[-1, 2, -3], [4, -5, 0]]),)),
        Case("hidden_hwc", "a 4x5x3 array of positive and negative values", (rng.normal(size=(4, 5, 3)),), hidden=True),
    ]
    dense = [
        Case(
            "vector",
            "x = [1, 2, 3] with a 3x2 weight matrix and bias [0.5, -0.5]",
            (arr([1, 2, 3]), arr([[1, 0], [0, 1], [1, -1]]), arr([0.5, -0.5])),
        ),
        Case(
            "batch",
            "a batch of 2 rows, x = [[1, 2, 3], [0, -1, 2]], the same weights and bias",
            (arr([[1, 2, 3], [0, -1, 2]]), arr([[1, 0], [0, 1], [1, -1]]), arr([0.5, -0.5])),
        ),
        Case(
            "hidden_batch",
            "a batch of 5 rows of 7 features, 4 outputs",
            (rng.normal(size=(5, 7)), rng.normal(size=(7, 4)), rng.normal(size=4)),
            hidden=True,
        ),
    ]
    softmax = [
        Case("small", "z = [1, 2, 3]", (arr([1, 2, 3]),)),
        Case(
            "batch",
            "a batch of 2 rows, z = [[1, 2, 3], [2, 0, -1]]: each row sums to 1 on its own",
            (arr([[1, 2, 3], [2, 0, -1]]),),
        ),
        Case(
            "large",
            "a batch of 2 rows, z = [[1000, 1000, 999], [-5, 0, 5]] (exp(1000) would overflow)",
            (arr([[1000, 1000, 999], [-5, 0, 5]]),),
        ),
        Case(
            "hidden_batch",
            "a batch of 4 rows of 6 scores, some near 800",
            (rng.normal(size=(4, 6)) * 5 + np.array([[0], [800], [-800], [3]]),),
            hidden=True,
        ),
        Case("hidden_wide", "a batch of 3 rows of 2 scores", (rng.normal(size=(3, 2)),), hidden=True),
    ]
    lecture_params = {
        "kernels": np.stack([det, K["edge_detect"]], axis=-1)[:, :, None, :],
        "conv_bias": arr([0.0, 0.5]),
        # not a linspace: its two columns would differ by a constant, and the softmax of
        # two scores that differ by a constant ignores the order of the flattened vector
        "W": arr(np.arange(36).reshape(18, 2) * 7 % 11 - 5) / 10,
        "b": arr([0.1, -0.1]),
    }
    hidden_params = {
        "kernels": rng.normal(size=(3, 2, 3, 4)),
        "conv_bias": rng.normal(size=4),
        "W": rng.normal(size=(4 * 4 * 4, 5)) * 0.3,
        "b": rng.normal(size=5),
    }
    cnn_forward = [
        Case(
            "lecture",
            "the lecture's 7x7 image with 2 filters (its detector and edge-detect), 2 classes",
            (img[..., None], lecture_params),
        ),
        Case(
            "hidden_rgb",
            "9x8 image with 3 channels, 4 filters of 3x2, 5 classes",
            (rng.normal(size=(9, 8, 3)), hidden_params),
            hidden=True,
        ),
        Case(
            "hidden_two_channels",
            "6x7 image with 2 channels, 3 filters of 2x2, 4 classes",
            (
                rng.normal(size=(6, 7, 2)),
                {
                    "kernels": rng.normal(size=(2, 2, 2, 3)),
                    "conv_bias": rng.normal(size=3),
                    "W": rng.normal(size=(3 * 3 * 3, 4)) * 0.5,
                    "b": rng.normal(size=4),
                },
            ),
            hidden=True,
        ),
    ]
    return {
        "conv2d_single": conv2d_single,
        "zero_pad": zero_pad,
        "conv2d": conv2d,
        "relu": relu,
        "max_pool2d": max_pool2d,
        "flatten": flatten,
        "dense": dense,
        "softmax": softmax,
        "cnn_forward": cnn_forward,
    }
