"""Every number of the lecture's CNN part (assignments/cnn/lecture.toml), reproduced
independently: by hand (the arithmetic is written out) and with tf.nn / Keras.

Where a slide is wrong (one cell of the feature map), the test shows both the slide's
figure and the true value, and that the reference gives the true one.
"""

from __future__ import annotations

import ast
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from solutions import cnn as ref

ROOT = Path(__file__).resolve().parents[3]
LECTURE = tomllib.loads((ROOT / "assignments" / "cnn" / "lecture.toml").read_text())


def find_lecture_text(root: Path = ROOT) -> Path | None:
    """The lecture as text: shared/seed/lecture.txt in the folder that holds the repository
    (the course keeps shared/ beside its clone, and CI copies it beside a fresh clone) or in
    a folder further up (a git worktree in a subfolder). None where it is absent."""
    for folder in root.parents:
        path = folder / "shared" / "seed" / "lecture.txt"
        if path.is_file():
            return path
    return None


LECTURE_TXT = find_lecture_text()


def arr(values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


IMAGE = arr(LECTURE["image"]["values"])
DETECTOR = arr(LECTURE["feature_detector"]["values"])
SLIDE_MAP = arr(LECTURE["feature_map"]["slide"])
TRUE_MAP = arr(LECTURE["feature_map"]["true"])
POOLED = arr(LECTURE["pooled"]["slide"])


@pytest.fixture(scope="module")
def tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    return tf


@pytest.fixture(scope="module")
def keras(tf):
    import keras

    return keras


def tf_conv_single(tf, image, kernel, padding="VALID"):
    x = tf.constant(image[None, :, :, None], tf.float64)
    k = tf.constant(kernel[:, :, None, None], tf.float64)
    return tf.nn.conv2d(x, k, strides=1, padding=padding).numpy()[0, :, :, 0]


def tf_pool(tf, x, size=2, stride=2, padding="SAME"):
    return tf.nn.max_pool2d(tf.constant(x[None, :, :, None], tf.float64), size, stride, padding).numpy()[0, :, :, 0]


# ---------------------------------------------------------------- the input image


def test_image_and_detector_shapes():
    assert IMAGE.shape == (7, 7)
    assert DETECTOR.shape == (3, 3)
    # the image holds eight 1s: two eyes, a nose, two mouth corners and a three-cell mouth
    assert IMAGE.sum() == 2 + 1 + 2 + 3 == 8


def test_drawing_slip_is_recorded():
    # the first slide and the 'steps 1+2+3' slide draw the image with an eighth column
    note = LECTURE["image"].get("note", "")
    assert note.strip()
    assert "eighth column" in note and "7x7" in note


def test_lecture_text_shows_seven_and_eight_columns():
    # the one test that reads the raw text: it proves lecture.toml copied the slides; every
    # other test here works from lecture.toml's numbers
    if LECTURE_TXT is None:
        pytest.skip(f"no shared/seed/lecture.txt beside {ROOT} or in a folder above it: lecture.toml not re-read")
    lines = LECTURE_TXT.read_text().splitlines()
    eight = [ln.split() for ln in lines[577:584]]  # lines 578-584
    seven = [ln.split() for ln in lines[587:594]]  # lines 588-594
    assert all(len(r) == 8 for r in eight)
    assert arr(seven).tolist() == IMAGE.tolist()
    assert arr(eight)[:, :7].tolist() == IMAGE.tolist() and not arr(eight)[:, 7].any()
    assert arr([ln.split() for ln in lines[597:600]]).tolist() == DETECTOR.tolist()
    assert arr([ln.split() for ln in lines[1296:1301]]).tolist() == SLIDE_MAP.tolist()


def test_lecture_text_is_found_beside_a_clone_or_above_a_worktree(tmp_path):
    clone = tmp_path / "course" / "deepgrade"  # a fresh clone, as in CI
    worktree = tmp_path / "course" / "wt" / "helper"  # a git worktree one level deeper
    clone.mkdir(parents=True)
    worktree.mkdir(parents=True)
    assert find_lecture_text(clone) is None and find_lecture_text(worktree) is None
    text = tmp_path / "course" / "shared" / "seed" / "lecture.txt"
    text.parent.mkdir(parents=True)
    text.write_text("slides")
    assert find_lecture_text(clone) == text and find_lecture_text(worktree) == text


# ---------------------------------------------------------------- the feature map


def feature_map_by_hand(img: np.ndarray) -> np.ndarray:
    """The detector [[0, 0, 1], [1, 0, 0], [0, 1, 1]] has 1s at (0, 2), (1, 0), (2, 1), (2, 2),
    so each cell is the sum of four image cells (no multiplication needed):
        fm[i, j] = img[i, j+2] + img[i+1, j] + img[i+2, j+1] + img[i+2, j+2]."""
    out = np.zeros((5, 5))
    for i in range(5):
        for j in range(5):
            out[i, j] = img[i, j + 2] + img[i + 1, j] + img[i + 2, j + 1] + img[i + 2, j + 2]
    return out


def test_feature_map_cells_by_hand():
    img = IMAGE
    # (0, 1): img[0,3] + img[1,1] + img[2,2] + img[2,3] = 0 + 1 + 0 + 0 = 1
    assert img[0, 3] + img[1, 1] + img[2, 2] + img[2, 3] == 1
    # (3, 1): img[3,3] + img[4,1] + img[5,2] + img[5,3] = 1 + 1 + 1 + 1 = 4 (the map's maximum)
    assert img[3, 3] + img[4, 1] + img[5, 2] + img[5, 3] == 4
    # (2, 3): img[2,5] + img[3,3] + img[4,4] + img[4,5] = 0 + 1 + 0 + 1 = 2
    assert img[2, 5] + img[3, 3] + img[4, 4] + img[4, 5] == 2
    # (4, 3): img[4,5] + img[5,3] + img[6,4] + img[6,5] = 1 + 1 + 0 + 0 = 2
    assert img[4, 5] + img[5, 3] + img[6, 4] + img[6, 5] == 2
    # (2, 2), the slide's wrong cell: img[2,4] + img[3,2] + img[4,3] + img[4,4] = 0 + 0 + 0 + 0 = 0
    assert img[2, 4] + img[3, 2] + img[4, 3] + img[4, 4] == 0
    # the whole map by the same formula
    assert np.array_equal(feature_map_by_hand(img), TRUE_MAP)


def test_feature_map_tf_nn_conv2d(tf):
    got = tf_conv_single(tf, IMAGE, DETECTOR)
    assert np.array_equal(got, TRUE_MAP)


def test_slide_wrong_cell_is_exactly_the_recorded_one(tf):
    wrong = {tuple(c) for c in LECTURE["feature_map"]["wrong_cells"]}
    differ = {tuple(int(i) for i in idx) for idx in np.argwhere(SLIDE_MAP != TRUE_MAP)}
    assert differ == wrong == {(2, 2)}
    assert SLIDE_MAP[2, 2] == 1 and TRUE_MAP[2, 2] == 0
    # tf.nn.conv2d gives the true map, not the slide's
    tf_map = tf_conv_single(tf, IMAGE, DETECTOR)
    assert np.array_equal(tf_map, TRUE_MAP) and not np.array_equal(tf_map, SLIDE_MAP)
    # and so does the reference
    assert np.array_equal(ref.conv2d_single(IMAGE, DETECTOR), TRUE_MAP)


def test_evidence_window_is_what_the_text_says():
    evidence = LECTURE["feature_map"]["evidence"]
    window_text = re.search(r"image\[2:5, 2:5\] =\s*(\[\[.*?\]\])", evidence, re.S).group(1)
    window = arr(ast.literal_eval(" ".join(window_text.split())))
    assert np.array_equal(window, IMAGE[2:5, 2:5])
    assert np.array_equal(window, [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    # its only 1 sits in the centre, where the detector has 0: the sum of products is 0
    assert DETECTOR[1, 1] == 0 and np.sum(window * DETECTOR) == 0
    # the pooled window holding the cell: feature map rows 2-3, columns 2-3
    pooled_text = re.search(r"this\s+cell, (\[\[.*?\]\])", evidence, re.S).group(1)
    pw = arr(ast.literal_eval(pooled_text))
    assert np.array_equal(pw, TRUE_MAP[2:4, 2:4]) and pw.max() == 2
    slide_pw = SLIDE_MAP[2:4, 2:4]
    assert slide_pw.max() == 2  # max 2 either way


# ---------------------------------------------------------------- max pooling and flattening


def test_pooled_map_by_hand():
    # 'same', 2x2, stride 2 on 5x5: ceil(5/2) = 3 windows per side; the padding, (3-1)*2 + 2 - 5 = 1
    # cell, goes at the bottom/right, so the windows cover rows/cols [0:2], [2:4], [4:5].
    m = TRUE_MAP
    by_hand = [
        [max(0, 1, 0, 1), max(0, 0, 1, 1), max(0, 0)],  # rows 0-1
        [max(1, 0, 1, 4), max(0, 2, 2, 1), max(1, 0)],  # rows 2-3
        [max(0, 0), max(1, 2), 1],  # row 4 alone
    ]
    assert m[0:2, 0:2].ravel().tolist() == [0, 1, 0, 1] and m[2:4, 2:4].ravel().tolist() == [0, 2, 2, 1]
    assert np.array_equal(arr(by_hand), POOLED)


def test_pooled_map_tf_nn_max_pool2d_same(tf):
    assert LECTURE["pooled"]["padding"] == "same"
    assert (LECTURE["pooled"]["pool_size"], LECTURE["pooled"]["stride"]) == (2, 2)
    # the slide's wrong cell does not change the pooled map: both maps pool to the slide's
    assert np.array_equal(tf_pool(tf, TRUE_MAP), POOLED)
    assert np.array_equal(tf_pool(tf, SLIDE_MAP), POOLED)
    assert np.array_equal(POOLED, [[1, 1, 0], [4, 2, 1], [0, 2, 1]])
    assert np.array_equal(ref.max_pool2d(TRUE_MAP, 2, 2, "same"), POOLED)
    # 'valid' would drop the last row and column: 2x2
    assert np.array_equal(tf_pool(tf, TRUE_MAP, padding="VALID"), POOLED[:2, :2])


def test_flattened_keras_flatten(keras):
    expected = arr(LECTURE["flattened"]["slide"])
    assert expected.tolist() == [1, 1, 0, 4, 2, 1, 0, 2, 1]
    got = keras.layers.Flatten(dtype="float64")(POOLED[None, :, :, None]).numpy()[0]
    assert np.array_equal(got, expected)
    assert np.array_equal(ref.flatten(POOLED), expected)


# ---------------------------------------------------------------- the colour example

C = LECTURE["colour"]


def colour_channels():
    x = np.stack([arr(C["red"]), arr(C["green"]), arr(C["blue"])], axis=-1)
    k = np.stack([arr(C["kernel_red"]), arr(C["kernel_green"]), arr(C["kernel_blue"])], axis=-1)
    return x, k


def test_colour_channel_sums_by_hand():
    assert C["padding"] == 1
    sums = []
    for ch, kname in (("red", "kernel_red"), ("green", "kernel_green"), ("blue", "kernel_blue")):
        window = np.pad(arr(C[ch]), 1)[0:3, 0:3]  # the padded top-left 3x3 corner
        sums.append(float(np.sum(window * arr(C[kname]))))
    # only the bottom-right 2x2 of each kernel meets image cells (the rest sees padding zeros):
    # red:   [[1, -1], [1, 1]]   . [[156, 155], [153, 154]] = 156 - 155 + 153 + 154 = 308
    # green: [[-1, -1], [0, -1]] . [[167, 166], [164, 165]] = -167 - 166 - 165    = -498
    # blue:  [[1, 0], [-1, 1]]   . [[163, 162], [160, 161]] = 163 - 160 + 161     = 164
    assert 156 - 155 + 153 + 154 == 308 and -167 - 166 - 165 == -498 and 163 - 160 + 161 == 164
    assert sums == [308, -498, 164] == C["channel_sums"]
    # plus the bias once: 308 - 498 + 164 + 1 = -25
    assert sum(sums) + C["bias"] == -25 == C["top_left"]


def test_colour_top_left_tf_nn_conv2d(tf):
    x, k = colour_channels()
    p = C["padding"]
    out = tf.nn.conv2d(
        tf.constant(x[None], tf.float64),
        tf.constant(k[..., None], tf.float64),
        strides=1,
        padding=[[0, 0], [p, p], [p, p], [0, 0]],
    ).numpy()[0, :, :, 0]
    assert out.shape == x.shape[:2]  # padding 1 with a 3x3 kernel keeps the size
    assert out[0, 0] + C["bias"] == -25
    # per channel, the same through tf.nn.conv2d one channel at a time
    per_channel = [
        tf_conv_single(tf, x[:, :, c], k[:, :, c], padding=[[0, 0], [1, 1], [1, 1], [0, 0]])[0, 0] for c in range(3)
    ]
    assert per_channel == [308, -498, 164]
    # the reference agrees on the whole map
    got = ref.conv2d(x, k[..., None], arr([C["bias"]]), padding=p)
    assert got[0, 0, 0] == -25
    np.testing.assert_allclose(got[:, :, 0], out + C["bias"], rtol=0, atol=1e-9)


# ---------------------------------------------------------------- the named kernels


@pytest.mark.parametrize("name", ["sharpen", "blur", "edge_detect", "emboss"])
def test_named_kernels_tf_nn_conv2d(tf, name):
    k = arr(LECTURE["kernels"][name])
    expected = tf_conv_single(tf, IMAGE, k)
    got = ref.conv2d_single(IMAGE, k)
    assert got.shape == (7 - k.shape[0] + 1, 7 - k.shape[1] + 1) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_named_kernels_a_few_cells_by_hand():
    K = {n: arr(v) for n, v in LECTURE["kernels"].items() if n != "source"}
    assert sorted(K) == ["blur", "edge_detect", "emboss", "sharpen"]
    # sharpen (5x5, centre 5, four -1 neighbours) at (0, 0) is centred on img[2, 2] = 0:
    # 5*0 - img[1,2] - img[3,2] - img[2,1] - img[2,3] = 0 - 0 - 0 - 0 - 0 = 0
    # at (1, 1) centred on img[3, 3] = 1: 5*1 - img[2,3] - img[4,3] - img[3,2] - img[3,4] = 5
    sharp = ref.conv2d_single(IMAGE, K["sharpen"])
    assert sharp[0, 0] == 0 and sharp[1, 1] == 5
    # blur (3x3 ones inside a 5x5 border) at (1, 1): sum of img[2:5, 2:5] = 1 (the nose only)
    assert ref.conv2d_single(IMAGE, K["blur"])[1, 1] == IMAGE[2:5, 2:5].sum() == 1
    # edge detect at (2, 2), centred on img[3, 3] = 1: -4*1 + img[2,3] + img[4,3] + img[3,2] + img[3,4] = -4
    assert ref.conv2d_single(IMAGE, K["edge_detect"])[2, 2] == -4
    # emboss at (0, 0): window img[0:3, 0:3] has its only 1 at (1, 1), where emboss has 1 -> 1
    assert ref.conv2d_single(IMAGE, K["emboss"])[0, 0] == 1
