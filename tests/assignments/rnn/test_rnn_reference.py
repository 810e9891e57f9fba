"""The rnn reference (solutions/rnn.py) against independent implementations.

Keras SimpleRNN for the forward pass, tf.GradientTape and central differences for the
backward pass and for relu_rnn_grad_norms, tf.clip_by_global_norm for clipping, and a hand-worked 1-unit case.
No expected number here comes from the reference itself. TensorFlow is imported
inside the tests that need it (it takes seconds to import).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from helpers import ROOT
from solutions import rnn

N, T, D, H, K = 3, 5, 4, 6, 2  # all different: a swapped axis cannot pass


@pytest.fixture(scope="module")
def tf():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow

    return tensorflow


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    params = {
        "W_xh": rng.normal(0, 0.5, (D, H)),
        "W_hh": rng.normal(0, 0.4, (H, H)),
        "W_hy": rng.normal(0, 0.6, (H, K)),
        "b_h": rng.normal(0, 0.2, H),
        "b_y": rng.normal(0, 0.2, K),
    }
    return {
        "x": rng.normal(size=(N, T, D)),
        "h0": rng.normal(0, 0.5, (N, H)),
        "params": params,
        "dy": rng.normal(size=(N, T, K)),
    }


def _tf_forward(tf, x, h0, p):
    """The lecture's RNN written in TensorFlow ops (float64): returns (list of h_t, y)."""
    hs, ys = [], []
    h = h0
    for t in range(x.shape[1]):
        h = tf.tanh(tf.matmul(x[:, t], p["W_xh"]) + tf.matmul(h, p["W_hh"]) + p["b_h"])
        hs.append(h)
        ys.append(tf.matmul(h, p["W_hy"]) + p["b_y"])
    return hs, tf.stack(ys, axis=1)


def test_hand_worked_one_unit_one_step():
    # 1 unit, 1 step: x = 1, h0 = 0.5, W_xh = 1, W_hh = 0.5, b_h = 0.25, W_hy = 2, b_y = 0.1
    # a = 1*1 + 0.5*0.5 + 0.25 = 1.5;  h = tanh(1.5);  y = 2*tanh(1.5) + 0.1
    # with dy = 1: dW_hy = h, db_y = 1, dh = 1*2 = 2, da = 2*(1 - h^2),
    # dW_xh = x*da = da, dW_hh = h0*da = 0.5 da, db_h = da, dx = da*W_xh = da, dh0 = da*W_hh = 0.5 da
    p = {
        k: np.array(v)
        for k, v in {"W_xh": [[1.0]], "W_hh": [[0.5]], "W_hy": [[2.0]], "b_h": [0.25], "b_y": [0.1]}.items()
    }
    h_val = math.tanh(1.5)
    h, y, cache = rnn.rnn_forward(np.array([[[1.0]]]), np.array([[0.5]]), p)
    assert h[0, 0, 0] == pytest.approx(h_val, abs=1e-15)
    assert y[0, 0, 0] == pytest.approx(2 * h_val + 0.1, abs=1e-15)
    g = rnn.rnn_backward(np.array([[[1.0]]]), cache)
    da = 2 * (1 - h_val**2)
    expected = {"W_hy": h_val, "b_y": 1.0, "W_xh": da, "W_hh": 0.5 * da, "b_h": da, "x": da, "h0": 0.5 * da}
    for key, value in expected.items():
        assert g[key].size == 1 and g[key].ravel()[0] == pytest.approx(value, abs=1e-14), key


def test_hand_worked_mse_and_clip():
    # y_hat = [[1, 2], [0, 1], [1, 0]], y = 0, N = 3: loss = 0.5 * (1 + 4 + 0 + 1 + 1 + 0) / 3 = 7/6
    y_hat = np.array([[[1.0], [2.0]], [[0.0], [1.0]], [[1.0], [0.0]]])
    loss, dy = rnn.mse_loss(y_hat, np.zeros_like(y_hat))
    assert loss == pytest.approx(7 / 6, abs=1e-15)
    np.testing.assert_allclose(dy, y_hat / 3, atol=1e-15)
    # a = [2, 2, 1] (norm 3), b = [2.4, 3.2] (norm 4): global norm sqrt(9 + 16) = 5; max 2.5 halves all
    grads = {"a": np.array([2.0, 2.0, 1.0]), "b": np.array([2.4, 3.2])}
    clipped, norm = rnn.clip_by_global_norm(grads, 2.5)
    assert norm == pytest.approx(5.0, abs=1e-15)
    np.testing.assert_allclose(clipped["a"], [1.0, 1.0, 0.5], atol=1e-15)
    np.testing.assert_allclose(clipped["b"], [1.2, 1.6], atol=1e-15)
    np.testing.assert_array_equal(grads["a"], [2.0, 2.0, 1.0])  # inputs untouched


def test_forward_matches_keras_simplernn(tf, problem):
    import keras

    x, h0, p = problem["x"], problem["h0"], problem["params"]
    layer = keras.layers.SimpleRNN(H, return_sequences=True, dtype="float64")
    layer.build((None, T, D))
    layer.set_weights([p["W_xh"], p["W_hh"], p["b_h"]])
    dense = keras.layers.Dense(K, dtype="float64")
    dense.build((None, H))
    dense.set_weights([p["W_hy"], p["b_y"]])
    keras_h = np.asarray(layer(x, initial_state=[h0]))
    keras_y = np.asarray(dense(keras_h))
    h, y, _ = rnn.rnn_forward(x, h0, p)
    assert h.shape == (N, T, H) and y.shape == (N, T, K)
    np.testing.assert_allclose(h, keras_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y, keras_y, rtol=1e-12, atol=1e-12)
    # rnn_step is the forward's first step
    h1, y1 = rnn.rnn_step(x[:, 0], h0, p)
    np.testing.assert_allclose(h1, keras_h[:, 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y1, keras_y[:, 0], rtol=1e-12, atol=1e-12)


def test_backward_matches_gradient_tape(tf, problem):
    x, h0, p, dy = problem["x"], problem["h0"], problem["params"], problem["dy"]
    v = {k: tf.Variable(val) for k, val in p.items()}
    vx, vh0 = tf.Variable(x), tf.Variable(h0)
    with tf.GradientTape() as tape:
        _, y = _tf_forward(tf, vx, vh0, v)
        loss = tf.reduce_sum(dy * y)  # dLoss/dy = dy: the loss summed over time
    tf_grads = tape.gradient(loss, {**v, "h0": vh0, "x": vx})
    _, _, cache = rnn.rnn_forward(x, h0, p)
    grads = rnn.rnn_backward(dy, cache)
    assert set(grads) == {"W_xh", "W_hh", "W_hy", "b_h", "b_y", "h0", "x"}
    for key, g in tf_grads.items():
        assert grads[key].shape == tuple(g.shape), key
        np.testing.assert_allclose(grads[key], g.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


def _numerical(f, value: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(value)
    for idx in np.ndindex(*value.shape):
        old = value[idx]
        value[idx] = old + eps
        plus = f()
        value[idx] = old - eps
        minus = f()
        value[idx] = old
        g[idx] = (plus - minus) / (2 * eps)
    return g


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def test_backward_matches_central_differences(problem):
    x, h0, dy = problem["x"].copy(), problem["h0"].copy(), problem["dy"]
    p = {k: v.copy() for k, v in problem["params"].items()}

    def loss() -> float:
        return float(np.sum(dy * rnn.rnn_forward(x, h0, p)[1]))

    grads = rnn.rnn_backward(dy, rnn.rnn_forward(x, h0, p)[2])
    for key, value in [*p.items(), ("h0", h0), ("x", x)]:
        err = _rel_error(grads[key], _numerical(loss, value))
        assert err < 1e-7, (key, err)


def test_mse_gradient_is_numerical(problem):
    rng = np.random.default_rng(3)
    y_hat, y = rng.normal(size=(N, T, K)), rng.normal(size=(N, T, K))
    _, dy = rnn.mse_loss(y_hat, y)
    assert _rel_error(dy, _numerical(lambda: rnn.mse_loss(y_hat, y)[0], y_hat)) < 1e-7


def test_clip_matches_tensorflow(tf, problem):
    rng = np.random.default_rng(5)
    grads = {k: rng.normal(0, 3, v.shape) for k, v in problem["params"].items()}
    for max_norm in (1.0, 1e6):
        tf_clipped, tf_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads.values()], max_norm)
        clipped, norm = rnn.clip_by_global_norm(grads, max_norm)
        assert norm == pytest.approx(float(tf_norm), rel=1e-12)
        for (key, _), g in zip(grads.items(), tf_clipped):
            np.testing.assert_allclose(clipped[key], g.numpy(), rtol=1e-12, atol=1e-14, err_msg=key)


def test_hidden_grad_norms_match_gradient_tape(tf, problem):
    x, h0, p, dy = problem["x"], problem["h0"], problem["params"], problem["dy"]
    tx, th0 = tf.constant(x), tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch([tx, th0])  # so that the ops producing every h_t are recorded
        hs, y = _tf_forward(tf, tx, th0, {k: tf.constant(v) for k, v in p.items()})
        loss = tf.reduce_sum(dy * y)
    dhs = tape.gradient(loss, hs)  # the total derivative: through y_t and through h_{t+1}
    expected = np.array([np.linalg.norm(g.numpy()) for g in dhs])
    norms = rnn.hidden_grad_norms(dy, rnn.rnn_forward(x, h0, p)[2])
    assert norms.shape == (T,)
    np.testing.assert_allclose(norms, expected, rtol=1e-10)


def test_hidden_grad_norms_vanish_and_explode():
    # the story of the plot: the loss on the last output only, W_hh small vs identity
    rng = np.random.default_rng(0)
    n, t_len, d, h = 2, 15, 3, 8
    x = rng.normal(0, 0.1, (n, t_len, d))
    dy = np.zeros((n, t_len, 1))
    dy[:, -1] = 1.0
    q, _ = np.linalg.qr(rng.normal(size=(h, h)))
    base = {
        "W_xh": rng.normal(0, 0.5, (d, h)),
        "W_hy": rng.normal(0, 0.5, (h, 1)),
        "b_h": np.zeros(h),
        "b_y": np.zeros(1),
    }
    small = rnn.hidden_grad_norms(dy, rnn.rnn_forward(x, np.zeros((n, h)), {**base, "W_hh": 0.5 * q})[2])
    ident = rnn.hidden_grad_norms(dy, rnn.rnn_forward(x, np.zeros((n, h)), {**base, "W_hh": np.eye(h)})[2])
    assert small[0] < 1e-3 * small[-1]  # vanishes: 0.5^14 and below
    assert ident[0] > 0.1 * ident[-1]  # the identity keeps it alive


def _tf_relu_hidden_grads(tf, x, h0, p, dy) -> np.ndarray:
    """The ReLU RNN in TensorFlow ops: the norm of the total dLoss/dh_t for every t."""
    tx, th0 = tf.constant(x), tf.constant(h0)
    tp = {k: tf.constant(v) for k, v in p.items()}
    with tf.GradientTape() as tape:
        tape.watch([tx, th0])
        hs, ys = [], []
        h = th0
        for t in range(x.shape[1]):
            h = tf.nn.relu(tf.matmul(tx[:, t], tp["W_xh"]) + tf.matmul(h, tp["W_hh"]) + tp["b_h"])
            hs.append(h)
            ys.append(tf.matmul(h, tp["W_hy"]) + tp["b_y"])
        loss = tf.reduce_sum(dy * tf.stack(ys, axis=1))
    return np.array([np.linalg.norm(g.numpy()) for g in tape.gradient(loss, hs)])


def test_relu_grad_norms_match_gradient_tape(tf, problem):
    fx = asg.load("rnn", ROOT).fixtures
    cases = [
        (problem["dy"], problem["x"], problem["h0"], problem["params"]),
        (fx.STORY["dy"], fx.STORY["x"], fx.STORY["h0"], fx.STORY["relu_identity"]),
        (fx.STORY["dy"], fx.STORY["x"], fx.STORY["h0"], fx.STORY["tanh_small"]),  # some units off
    ]
    for dy, x, h0, p in cases:
        norms = rnn.relu_rnn_grad_norms(dy, x, h0, p)
        assert norms.shape == (x.shape[1],)
        np.testing.assert_allclose(norms, _tf_relu_hidden_grads(tf, x, h0, p, dy), rtol=1e-10)


def test_relu_grad_norms_hand_worked_one_unit():
    # h_t = relu(x_t + 0.5 h_{t-1} + 0.25), y_t = 2 h_t + 0.1, x = 1, 0, -1, h0 = 0, dy = 1:
    # a = 1.25, 0.875, -0.3125 (h = 1.25, 0.875, 0);  dh_3 = 2; relu'(a_3) = 0 so dh_2 = 2;
    # dh_1 = 2 + 0.5 * 2 * relu'(a_2) = 3
    p = {
        k: np.array(v)
        for k, v in {"W_xh": [[1.0]], "W_hh": [[0.5]], "W_hy": [[2.0]], "b_h": [0.25], "b_y": [0.1]}.items()
    }
    norms = rnn.relu_rnn_grad_norms(np.ones((1, 3, 1)), np.array([[[1.0], [0.0], [-1.0]]]), np.zeros((1, 1)), p)
    np.testing.assert_allclose(norms, [3.0, 2.0, 2.0], atol=1e-15)


def test_relu_grad_norms_match_central_differences():
    # dLoss/dh_t by central differences: run the forward with h_t (after the ReLU) replaced by
    # h_t +- eps * e_i and every later step recomputed from it
    rng = np.random.default_rng(11)
    n, t_len, d, h, k = 2, 5, 3, 4, 2
    x, h0, dy = rng.normal(size=(n, t_len, d)), rng.normal(0, 0.5, (n, h)), rng.normal(size=(n, t_len, k))
    p = {
        "W_xh": rng.normal(0, 0.6, (d, h)),
        "W_hh": rng.normal(0, 0.5, (h, h)),
        "W_hy": rng.normal(0, 0.7, (h, k)),
        "b_h": rng.normal(0, 0.3, h),
        "b_y": rng.normal(0, 0.3, k),
    }

    def loss(step: int, delta: np.ndarray) -> float:
        state, total = h0, 0.0
        for t in range(t_len):
            state = np.maximum(x[:, t] @ p["W_xh"] + state @ p["W_hh"] + p["b_h"], 0.0)
            if t == step:
                state = state + delta
            total += float(np.sum(dy[:, t] * (state @ p["W_hy"] + p["b_y"])))
        return total

    expected = []
    for step in range(t_len):
        g = np.zeros((n, h))
        for idx in np.ndindex(n, h):
            e = np.zeros((n, h))
            e[idx] = 1e-6
            g[idx] = (loss(step, e) - loss(step, -e)) / 2e-6
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(rnn.relu_rnn_grad_norms(dy, x, h0, p), expected, rtol=1e-7)


def test_the_story_fixtures_hold_their_closed_form():
    # the premises of the thresholds' closed form in assignments/rnn/fixtures.py (STORY_T)
    fx = asg.load("rnn", ROOT).fixtures
    for story in (fx.STORY, fx.STORY_HIDDEN):
        small, ident = story["tanh_small"]["W_hh"], story["relu_identity"]["W_hh"]
        np.testing.assert_allclose(small.T @ small, 0.25 * np.eye(len(small)), atol=1e-12)  # 0.5 x orthogonal
        np.testing.assert_array_equal(ident, np.eye(len(ident)))
        assert np.all(story["relu_identity"]["b_h"] == 0.5) and np.all(story["h0"] == 0)
        assert np.max(np.abs(story["x"] @ story["relu_identity"]["W_xh"])) < 0.5  # every a_t > 0
        assert np.all(story["dy"][:, :-1] == 0) and np.any(story["dy"][:, -1] != 0)
        tanh = rnn.hidden_grad_norms(story["dy"], rnn.rnn_forward(story["x"], story["h0"], story["tanh_small"])[2])
        relu = rnn.relu_rnn_grad_norms(story["dy"], story["x"], story["h0"], story["relu_identity"])
        assert tanh[0] <= 0.5 ** (fx.STORY_T - 1) * tanh[-1] < fx.STORY_RATIO_VANISHED * tanh[-1]
        assert relu[0] == pytest.approx(relu[-1], rel=1e-12)
