"""Reference solution: the vanilla RNN and backpropagation through time in plain numpy (float64).

The lecture's RNN, written input-major like `keras.layers.SimpleRNN`
(`x_t @ kernel + h @ recurrent_kernel + bias`):

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b_h)
    y_t = h_t @ W_hy + b_y

with the same weights reused at every time step. Checked against Keras SimpleRNN,
tf.GradientTape and central differences in tests/assignments/rnn/test_rnn_reference.py.
relu_rnn_grad_norms is the same network with ReLU (the lecture's remedy for vanishing gradients).

params: "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K), "b_h" (H,), "b_y" (K,).
"""

from __future__ import annotations

import numpy as np


def rnn_step(x_t: np.ndarray, h_prev: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """One time step of the RNN.

    x_t: (N, D) the current reading, h_prev: (N, H) the previous hidden state.
    params: "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K), "b_h" (H,), "b_y" (K,).
    Returns (h_t, y_t): h_t (N, H) = tanh(x_t @ W_xh + h_prev @ W_hh + b_h),
    y_t (N, K) = h_t @ W_hy + b_y.
    """
    # the new state mixes the current reading with the memory of the past
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    y_t = h_t @ params["W_hy"] + params["b_y"]
    return h_t, y_t


def rnn_forward(x: np.ndarray, h0: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray, object]:
    """Run the RNN over a whole sequence.

    x: (N, T, D) the inputs, h0: (N, H) the initial hidden state.
    params: "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K), "b_h" (H,), "b_y" (K,).
    Returns (h, y, cache): h (N, T, H) every hidden state, y (N, T, K) every output,
    cache: anything your rnn_backward needs.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    K = params["W_hy"].shape[1]
    h = np.zeros((N, T, H))
    y = np.zeros((N, T, K))
    h_prev = h0
    for t in range(T):
        # the SAME weights at every step: the RNN is one cell unrolled in time
        h[:, t], y[:, t] = rnn_step(x[:, t], h_prev, params)
        h_prev = h[:, t]
    # the cache is the student's own; this one holds what rnn_backward needs
    cache = (x, h0, h, params)
    return h, y, cache


def rnn_backward(dy: np.ndarray, cache: object) -> dict:
    """Backpropagation through time.

    dy: (N, T, K) dLoss/dy_t for every t (the loss is a sum over time),
    cache: from your rnn_forward.
    Returns a dict of gradients with keys "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K),
    "b_h" (H,), "b_y" (K,), "h0" (N, H), "x" (N, T, D).
    """
    x, h0, h, params = cache
    T = x.shape[1]
    W_xh, W_hh, W_hy = params["W_xh"], params["W_hh"], params["W_hy"]
    grads = {name: np.zeros_like(params[name], dtype=np.float64) for name in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)  # nothing flows into the last step from the future
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        # output layer: y_t = h_t @ W_hy + b_y; the weights are shared, so gradients add up
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        # h_t feeds both y_t and h_{t+1}: the error coming back from the future is added here
        dh = dy[:, t] @ W_hy.T + dh_next
        # through tanh: d tanh(a)/da = 1 - tanh(a)^2 = 1 - h_t^2 (h_t is already tanh(a))
        da = dh * (1.0 - h[:, t] ** 2)
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ W_xh.T
        # h_{t-1} @ W_hh: the error reaches h_{t-1} through the transpose of W_hh
        dh_next = da @ W_hh.T
    grads["h0"] = dh_next
    grads["x"] = dx
    return grads


def mse_loss(y_hat: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Squared error summed over time and outputs, averaged over the batch.

    y_hat, y: (N, T, K).
    Returns (loss, dy): loss (a float) = 0.5 * sum((y_hat - y)**2) / N,
    dy (N, T, K) = dLoss/dy_hat.
    """
    N = y_hat.shape[0]
    diff = y_hat - y
    loss = 0.5 * float(np.sum(diff**2)) / N
    dy = diff / N
    return loss, dy


def clip_by_global_norm(grads: dict, max_norm: float) -> tuple[dict, float]:
    """Gradient clipping by global norm (Pascanu et al. 2013).

    grads: dict name -> array, max_norm: float.
    Returns (clipped, global_norm): clipped a new dict with the same keys, every array
    scaled by max_norm / global_norm when global_norm > max_norm, else unchanged;
    global_norm (a float) the norm of all gradients together.
    """
    # the global norm: sqrt(sum of every squared entry of every gradient); the scale is
    # applied to new arrays (the input arrays are not modified) so the direction is kept
    global_norm = float(np.sqrt(sum(np.sum(np.asarray(g, dtype=np.float64) ** 2) for g in grads.values())))
    scale = max_norm / global_norm if global_norm > max_norm else 1.0
    clipped = {name: np.asarray(g, dtype=np.float64) * scale for name, g in grads.items()}
    return clipped, global_norm


def hidden_grad_norms(dy: np.ndarray, cache: object) -> np.ndarray:
    """The norm of dLoss/dh_t for every time step.

    dy: (N, T, K) dLoss/dy_t, cache: from your rnn_forward.
    Returns (T,): entry t is np.linalg.norm of dLoss/dh_t (N, H), over the batch
    and the hidden units.
    """
    # the same backward pass as rnn_backward, keeping only dLoss/dh_t
    x, h0, h, params = cache
    T = x.shape[1]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        dh_next = (dh * (1.0 - h[:, t] ** 2)) @ params["W_hh"].T
    return norms


def relu_rnn_grad_norms(dy: np.ndarray, x: np.ndarray, h0: np.ndarray, params: dict) -> np.ndarray:
    """The norm of dLoss/dh_t for every time step, for an RNN with ReLU.

    dy: (N, T, K) dLoss/dy_t, x: (N, T, D) the inputs, h0: (N, H) the initial state.
    params: "W_xh" (D, H), "W_hh" (H, H), "W_hy" (H, K), "b_h" (H,), "b_y" (K,).
    The RNN: h_t = relu(x_t @ W_xh + h_{t-1} @ W_hh + b_h), y_t = h_t @ W_hy + b_y.
    Returns (T,): entry t is np.linalg.norm of dLoss/dh_t (N, H), over the batch
    and the hidden units (from y_t and from step t+1, as in hidden_grad_norms).
    """
    N, T, _ = x.shape
    a = np.zeros((N, T, h0.shape[1]))
    h_prev = h0
    for t in range(T):
        a[:, t] = x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
        h_prev = np.maximum(a[:, t], 0.0)
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        # relu'(a) = 1 where a > 0, else 0: where a unit is active the error passes unshrunk,
        # and with W_hh = I nothing else scales it (the lecture's remedies 1 and 2)
        dh_next = (dh * (a[:, t] > 0)) @ params["W_hh"].T
    return norms
