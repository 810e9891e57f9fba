"""The `rnn` assignment's mistake catalogue: realistic wrong implementations.

Each function is named by its mistake id (see assignments/rnn/mistakes.toml) and has
the signature of the spec function it replaces. Tests paste a mutant's source into the
reference-filled notebook in place of that function, so a mutant uses only numpy (as np)
and the spec's own function names. Backward mutants read the reference rnn_forward's
cache: (x, h0, h, params).
"""

from __future__ import annotations

import numpy as np

from solutions.rnn import rnn_step  # noqa: F401  (mutants of rnn_forward may use it)

# ---------------------------------------------------------------- rnn_step


def step_missing_bias(x_t, h_prev, params):
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"])
    y_t = h_t @ params["W_hy"] + params["b_y"]
    return h_t, y_t


def step_relu(x_t, h_prev, params):
    h_t = np.maximum(0, x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    y_t = h_t @ params["W_hy"] + params["b_y"]
    return h_t, y_t


def step_no_activation(x_t, h_prev, params):
    h_t = x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
    y_t = h_t @ params["W_hy"] + params["b_y"]
    return h_t, y_t


def step_transposed_recurrent(x_t, h_prev, params):
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"].T + params["b_h"])
    y_t = h_t @ params["W_hy"] + params["b_y"]
    return h_t, y_t


def step_output_from_prev(x_t, h_prev, params):
    h_t = np.tanh(x_t @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
    y_t = h_prev @ params["W_hy"] + params["b_y"]
    return h_t, y_t


# ---------------------------------------------------------------- rnn_forward


def forward_missing_bias(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"])
        y[:, t] = h[:, t] @ params["W_hy"] + params["b_y"]
        h_prev = h[:, t]
    return h, y, (x, h0, h, params)


def forward_relu(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.maximum(0, x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
        y[:, t] = h[:, t] @ params["W_hy"] + params["b_y"]
        h_prev = h[:, t]
    return h, y, (x, h0, h, params)


def forward_no_activation(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"]
        y[:, t] = h[:, t] @ params["W_hy"] + params["b_y"]
        h_prev = h[:, t]
    return h, y, (x, h0, h, params)


def forward_transposed_recurrent(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"].T + params["b_h"])
        y[:, t] = h[:, t] @ params["W_hy"] + params["b_y"]
        h_prev = h[:, t]
    return h, y, (x, h0, h, params)


def forward_no_recurrence(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    for t in range(T):
        # h0 at every step: the state is never passed on
        h[:, t], y[:, t] = rnn_step(x[:, t], h0, params)
    return h, y, (x, h0, h, params)


# ---------------------------------------------------------------- rnn_backward


def backward_no_carry(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_prev = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T  # the error from step t+1 is dropped
        da = dh * (1 - h[:, t] ** 2)
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_prev = da @ params["W_hh"].T
    grads["h0"] = dh_prev
    grads["x"] = dx
    return grads


def backward_tanh_of_h(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        da = dh * (1 - np.tanh(h[:, t]) ** 2)  # tanh applied a second time
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_next = da @ params["W_hh"].T
    grads["h0"] = dh_next
    grads["x"] = dx
    return grads


def backward_no_tanh_derivative(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        da = dy[:, t] @ params["W_hy"].T + dh_next  # tanh skipped on the way back
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_next = da @ params["W_hh"].T
    grads["h0"] = dh_next
    grads["x"] = dx
    return grads


def backward_recurrent_not_transposed(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        da = dh * (1 - h[:, t] ** 2)
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_next = da @ params["W_hh"]  # W_hh, not its transpose
    grads["h0"] = dh_next
    grads["x"] = dx
    return grads


def backward_no_dh0(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        da = dh * (1 - h[:, t] ** 2)
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_next = da @ params["W_hh"].T
    grads["h0"] = np.zeros_like(h0, dtype=np.float64)  # the last dh_next is thrown away
    grads["x"] = dx
    return grads


def backward_no_dx(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        grads["W_hy"] += h[:, t].T @ dy[:, t]
        grads["b_y"] += dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        da = dh * (1 - h[:, t] ** 2)
        grads["W_xh"] += x[:, t].T @ da
        grads["W_hh"] += h_prev.T @ da
        grads["b_h"] += da.sum(axis=0)
        dh_next = da @ params["W_hh"].T
    grads["h0"] = dh_next
    grads["x"] = np.zeros_like(x, dtype=np.float64)  # dx never computed
    return grads


def backward_last_step_only(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    grads = {k: np.zeros_like(params[k], dtype=np.float64) for k in ("W_xh", "W_hh", "W_hy", "b_h", "b_y")}
    dx = np.zeros_like(x, dtype=np.float64)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        # the weight gradients are overwritten at each step instead of summed over time
        grads["W_hy"] = h[:, t].T @ dy[:, t]
        grads["b_y"] = dy[:, t].sum(axis=0)
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        da = dh * (1 - h[:, t] ** 2)
        grads["W_xh"] = x[:, t].T @ da
        grads["W_hh"] = h_prev.T @ da
        grads["b_h"] = da.sum(axis=0)
        dx[:, t] = da @ params["W_xh"].T
        dh_next = da @ params["W_hh"].T
    grads["h0"] = dh_next
    grads["x"] = dx
    return grads


# ---------------------------------------------------------------- mse_loss


def mse_not_batch_averaged(y_hat, y):
    diff = y_hat - y
    return 0.5 * float(np.sum(diff**2)), diff


def mse_mean_over_all(y_hat, y):
    diff = y_hat - y
    return 0.5 * float(np.mean(diff**2)), diff / diff.size


def mse_no_half(y_hat, y):
    N = y_hat.shape[0]
    diff = y_hat - y
    return float(np.sum(diff**2)) / N, 2 * diff / N


# ---------------------------------------------------------------- clip_by_global_norm


def clip_per_tensor(grads, max_norm):
    global_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    clipped = {}
    for name, g in grads.items():
        norm = np.linalg.norm(g)
        clipped[name] = g * (max_norm / norm) if norm > max_norm else g.copy()
    return clipped, global_norm


def clip_per_element(grads, max_norm):
    global_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {name: np.clip(g, -max_norm, max_norm) for name, g in grads.items()}, global_norm


def clip_always_rescales(grads, max_norm):
    global_norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    return {name: g * (max_norm / global_norm) for name, g in grads.items()}, global_norm


# ---------------------------------------------------------------- hidden_grad_norms


def norms_local_only(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    # only the error from y_t: what reaches h_t from later steps is left out
    return np.array([np.linalg.norm(dy[:, t] @ params["W_hy"].T) for t in range(T)])


def norms_after_tanh(dy, cache):
    x, h0, h, params = cache
    T = x.shape[1]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        da = (dy[:, t] @ params["W_hy"].T + dh_next) * (1 - h[:, t] ** 2)
        norms[t] = np.linalg.norm(da)  # the norm of dLoss/da_t, not of dLoss/dh_t
        dh_next = da @ params["W_hh"].T
    return norms


# ---------------------------------------------------------------- relu_rnn_grad_norms


def relu_norms_tanh_derivative(dy, x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.maximum(0, x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
        h_prev = h[:, t]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        dh_next = (dh * (1 - h[:, t] ** 2)) @ params["W_hh"].T  # tanh's derivative, copied over
    return norms


def relu_norms_no_mask(dy, x, h0, params):
    T = x.shape[1]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        dh_next = dh @ params["W_hh"].T  # "relu passes the gradient": but not where it is 0
    return norms


def relu_norms_mask_of_previous_state(dy, x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.maximum(0, x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
        h_prev = h[:, t]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        before = h0 if t == 0 else h[:, t - 1]
        dh_next = (dh * (before > 0)) @ params["W_hh"].T  # the mask of h_{t-1}, one step off
    return norms


def relu_norms_tanh_forward(dy, x, h0, params):
    # the tanh RNN's forward and hidden_grad_norms reused: the activation never changed
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.tanh(x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
        h_prev = h[:, t]
    norms = np.zeros(T)
    dh_next = np.zeros_like(h0, dtype=np.float64)
    for t in reversed(range(T)):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        dh_next = (dh * (1 - h[:, t] ** 2)) @ params["W_hh"].T
    return norms


MUTANTS = {
    name: fn
    for name, fn in dict(globals()).items()
    if callable(fn) and getattr(fn, "__module__", None) == __name__ and not name.startswith("_")
}
