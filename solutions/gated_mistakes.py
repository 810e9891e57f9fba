"""The `gated` mistake catalogue as code: realistic wrong implementations, one spec function each.

Each function is a whole replacement for one student function (same signature). Tests paste
its source into the notebook under the student's name, so a mutant only uses names the
notebook defines too: ``np``, ``sigmoid`` and the spec functions. Explanations live in
assignments/gated/mistakes.toml.
"""

from __future__ import annotations

import numpy as np

# in the grader's process the mutants call the reference for the other functions; pasted into a
# notebook they call the student's own
from solutions.gated import gru_forward, gru_step, lstm_forward, lstm_step


def sigmoid(z):  # the notebook's first cell defines the same helper
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------- lstm_step


def lstm_forget_gate_missing(x_t, h_prev, c_prev, params):
    hx = np.concatenate([h_prev, x_t], axis=1)
    f = sigmoid(hx @ params["W_f"] + params["b_f"])
    i = sigmoid(hx @ params["W_i"] + params["b_i"])
    c_tilde = np.tanh(hx @ params["W_c"] + params["b_c"])
    o = sigmoid(hx @ params["W_o"] + params["b_o"])
    c_t = c_prev + i * c_tilde  # f computed but never used: the old memory is always kept whole
    h_t = o * np.tanh(c_t)
    return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}


def lstm_forget_input_swapped(x_t, h_prev, c_prev, params):
    hx = np.concatenate([h_prev, x_t], axis=1)
    f = sigmoid(hx @ params["W_i"] + params["b_i"])  # the input gate's weights
    i = sigmoid(hx @ params["W_f"] + params["b_f"])  # the forget gate's weights
    c_tilde = np.tanh(hx @ params["W_c"] + params["b_c"])
    o = sigmoid(hx @ params["W_o"] + params["b_o"])
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}


def lstm_no_tanh_on_output(x_t, h_prev, c_prev, params):
    hx = np.concatenate([h_prev, x_t], axis=1)
    f = sigmoid(hx @ params["W_f"] + params["b_f"])
    i = sigmoid(hx @ params["W_i"] + params["b_i"])
    c_tilde = np.tanh(hx @ params["W_c"] + params["b_c"])
    o = sigmoid(hx @ params["W_o"] + params["b_o"])
    c_t = f * c_prev + i * c_tilde
    h_t = o * c_t
    return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}


def lstm_x_h_order(x_t, h_prev, c_prev, params):
    xh = np.concatenate([x_t, h_prev], axis=1)  # x first: rows meant for h multiply x
    f = sigmoid(xh @ params["W_f"] + params["b_f"])
    i = sigmoid(xh @ params["W_i"] + params["b_i"])
    c_tilde = np.tanh(xh @ params["W_c"] + params["b_c"])
    o = sigmoid(xh @ params["W_o"] + params["b_o"])
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)
    return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}


# ---------------------------------------------------------------- lstm_forward


def lstm_forward_state_not_carried(x, h0, c0, params):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, T, H))
    for t in range(T):
        h_t, c_t, _ = lstm_step(x[:, t, :], h0, c0, params)
        h[:, t, :] = h_t
        c[:, t, :] = c_t
    return h, c


# ---------------------------------------------------------------- gru_step


def gru_keras_update(x_t, h_prev, params):
    hx = np.concatenate([h_prev, x_t], axis=1)
    z = sigmoid(hx @ params["W_z"] + params["b_z"])
    r = sigmoid(hx @ params["W_r"] + params["b_r"])
    h_tilde = np.tanh(np.concatenate([r * h_prev, x_t], axis=1) @ params["W_h"] + params["b_h"])
    h_t = z * h_prev + (1 - z) * h_tilde  # Keras' convention
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


def gru_reset_after(x_t, h_prev, params):
    H = h_prev.shape[1]
    hx = np.concatenate([h_prev, x_t], axis=1)
    z = sigmoid(hx @ params["W_z"] + params["b_z"])
    r = sigmoid(hx @ params["W_r"] + params["b_r"])
    W_h = params["W_h"]
    h_tilde = np.tanh(x_t @ W_h[H:] + r * (h_prev @ W_h[:H]) + params["b_h"])  # reset after the product
    h_t = (1 - z) * h_prev + z * h_tilde
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


def gru_x_h_order(x_t, h_prev, params):
    xh = np.concatenate([x_t, h_prev], axis=1)
    z = sigmoid(xh @ params["W_z"] + params["b_z"])
    r = sigmoid(xh @ params["W_r"] + params["b_r"])
    h_tilde = np.tanh(np.concatenate([x_t, r * h_prev], axis=1) @ params["W_h"] + params["b_h"])
    h_t = (1 - z) * h_prev + z * h_tilde
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


# ---------------------------------------------------------------- gru_forward


def gru_dropout_new_mask_per_step(x, h0, params, input_mask=None, recurrent_mask=None):
    # the given masks on the first step, then fresh masks with the same keep rate at every later
    # step (seeded here so the catalogue's output is reproducible)
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    m_x, m_h = input_mask, recurrent_mask
    for t in range(T):
        if t > 0:
            rng = np.random.default_rng(t)
            if input_mask is not None:
                scale = input_mask.max() if input_mask.max() > 0 else 1.0
                m_x = (rng.random(input_mask.shape) < 1 / scale) * scale
            if recurrent_mask is not None:
                scale = recurrent_mask.max() if recurrent_mask.max() > 0 else 1.0
                m_h = (rng.random(recurrent_mask.shape) < 1 / scale) * scale
        x_t = x[:, t, :] if m_x is None else x[:, t, :] * m_x
        h_in = h_prev if m_h is None else h_prev * m_h
        hx = np.concatenate([h_in, x_t], axis=1)
        z = sigmoid(hx @ params["W_z"] + params["b_z"])
        r = sigmoid(hx @ params["W_r"] + params["b_r"])
        h_tilde = np.tanh(np.concatenate([r * h_in, x_t], axis=1) @ params["W_h"] + params["b_h"])
        h_prev = (1 - z) * h_prev + z * h_tilde
        h[:, t, :] = h_prev
    return h


def gru_dropout_mask_in_interpolation(x, h0, params, input_mask=None, recurrent_mask=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        x_t = x[:, t, :] if input_mask is None else x[:, t, :] * input_mask
        # the masked state replaces h_prev everywhere, also in the interpolation
        h_prev = h_prev if recurrent_mask is None else h_prev * recurrent_mask
        h_prev, _ = gru_step(x_t, h_prev, params)
        h[:, t, :] = h_prev
    return h


def gru_dropout_on_output_only(x, h0, params, input_mask=None, recurrent_mask=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        x_t = x[:, t, :] if input_mask is None else x[:, t, :] * input_mask
        h_prev, _ = gru_step(x_t, h_prev, params)
        # ordinary dropout on what the layer returns; the recurrence itself is never dropped
        h[:, t, :] = h_prev if recurrent_mask is None else h_prev * recurrent_mask
    return h


def gru_dropout_ignored(x, h0, params, input_mask=None, recurrent_mask=None):
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        h_prev, _ = gru_step(x[:, t, :], h_prev, params)
        h[:, t, :] = h_prev
    return h


# ---------------------------------------------------------------- bidirectional_forward


def bidir_backward_not_reversed(x, params_fwd, params_bwd, cell="gru", merge="concat"):
    N = x.shape[0]
    if cell == "gru":
        H = params_fwd["b_z"].shape[0]
        fwd = gru_forward(x, np.zeros((N, H)), params_fwd)
        bwd = gru_forward(x[:, ::-1, :], np.zeros((N, H)), params_bwd)
    else:
        H = params_fwd["b_f"].shape[0]
        fwd = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), params_fwd)[0]
        bwd = lstm_forward(x[:, ::-1, :], np.zeros((N, H)), np.zeros((N, H)), params_bwd)[0]
    # bwd[:, t] is the backward RNN's state after reading x_{T-1-t}: never flipped back
    if merge == "concat":
        return np.concatenate([fwd, bwd], axis=2)
    if merge == "sum":
        return fwd + bwd
    return (fwd + bwd) / 2


def bidir_input_not_reversed(x, params_fwd, params_bwd, cell="gru", merge="concat"):
    N = x.shape[0]
    if cell == "gru":
        H = params_fwd["b_z"].shape[0]
        fwd = gru_forward(x, np.zeros((N, H)), params_fwd)
        bwd = gru_forward(x, np.zeros((N, H)), params_bwd)  # reads x in order too
    else:
        H = params_fwd["b_f"].shape[0]
        fwd = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), params_fwd)[0]
        bwd = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), params_bwd)[0]
    if merge == "concat":
        return np.concatenate([fwd, bwd], axis=2)
    if merge == "sum":
        return fwd + bwd
    return (fwd + bwd) / 2


def bidir_concat_backward_first(x, params_fwd, params_bwd, cell="gru", merge="concat"):
    N = x.shape[0]
    if cell == "gru":
        H = params_fwd["b_z"].shape[0]
        fwd = gru_forward(x, np.zeros((N, H)), params_fwd)
        bwd = gru_forward(x[:, ::-1, :], np.zeros((N, H)), params_bwd)[:, ::-1, :]
    else:
        H = params_fwd["b_f"].shape[0]
        fwd = lstm_forward(x, np.zeros((N, H)), np.zeros((N, H)), params_fwd)[0]
        bwd = lstm_forward(x[:, ::-1, :], np.zeros((N, H)), np.zeros((N, H)), params_bwd)[0][:, ::-1, :]
    if merge == "concat":
        return np.concatenate([bwd, fwd], axis=2)
    if merge == "sum":
        return fwd + bwd
    return (fwd + bwd) / 2


# ---------------------------------------------------------------- embedding_lookup


def embedding_negative_ids_wrap(ids, E):
    return E[ids]  # numpy reads E[-1] as the last row: a bad id slips through


MUTANTS = {
    "lstm_forget_gate_missing": lstm_forget_gate_missing,
    "lstm_forget_input_swapped": lstm_forget_input_swapped,
    "lstm_no_tanh_on_output": lstm_no_tanh_on_output,
    "lstm_x_h_order": lstm_x_h_order,
    "lstm_forward_state_not_carried": lstm_forward_state_not_carried,
    "gru_keras_update": gru_keras_update,
    "gru_reset_after": gru_reset_after,
    "gru_x_h_order": gru_x_h_order,
    "gru_dropout_new_mask_per_step": gru_dropout_new_mask_per_step,
    "gru_dropout_mask_in_interpolation": gru_dropout_mask_in_interpolation,
    "gru_dropout_on_output_only": gru_dropout_on_output_only,
    "gru_dropout_ignored": gru_dropout_ignored,
    "bidir_backward_not_reversed": bidir_backward_not_reversed,
    "bidir_input_not_reversed": bidir_input_not_reversed,
    "bidir_concat_backward_first": bidir_concat_backward_first,
    "embedding_negative_ids_wrap": embedding_negative_ids_wrap,
}
