"""Reference solution for the `gated` assignment: LSTM, GRU, bidirectional RNNs, embeddings.

Plain numpy, float64. Conventions (docs/spec "Assignment `gated`"):

- ``[h, x]`` is the concatenation along the feature axis, h first, shape (N, H + D).
  The lecture's ``W · [h_{t-1}, x_t]`` is written ``[h, x] @ W`` with W of shape (H + D, H):
  rows 0..H-1 multiply h, rows H..H+D-1 multiply x.
- LSTM params: "W_f", "W_i", "W_c", "W_o" (H + D, H) and "b_f", "b_i", "b_c", "b_o" (H,).
- GRU params: "W_z", "W_r", "W_h" (H + D, H) and "b_z", "b_r", "b_h" (H,).

Mapping onto Keras 3 (used by the tests, see ``to_keras_lstm_weights`` / ``to_keras_gru_weights``):

- Keras stores input-major weights and computes ``x_t @ kernel + h @ recurrent_kernel + bias``.
  So for a gate matrix W (H + D, H): ``recurrent_kernel`` part = W[:H], ``kernel`` part = W[H:].
- LSTM: kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,), gate blocks in the order
  i, f, c, o (input, forget, candidate, output).
- GRU with ``reset_after=False`` (the lecture's form: reset applied to h *before* the
  recurrent product): kernel (D, 3H), recurrent_kernel (H, 3H), bias (3H,), blocks z, r, h.
  Keras computes ``h_t = z_k * h_prev + (1 - z_k) * h_tilde``: its update gate z_k is the
  lecture's 1 - z. Since 1 - sigmoid(a) = sigmoid(-a), the lecture's GRU is a Keras GRU whose
  z block holds -W_z and -b_z. Every other block is copied as it is.
"""

from __future__ import annotations

import numpy as np

GRU_GATES = ("z", "r", "h")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function 1 / (1 + exp(-z)), elementwise."""
    return 1.0 / (1.0 + np.exp(-z))


def lstm_step(
    x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, params: dict
) -> tuple[np.ndarray, np.ndarray, dict]:
    """One LSTM time step (the lecture's forget, memory, cell update and output gates).

    Inputs:
    - x_t: input at this step, (N, D)
    - h_prev: previous hidden state, (N, H)
    - c_prev: previous cell state, (N, H)
    - params: "W_f", "W_i", "W_c", "W_o" (H + D, H) and "b_f", "b_i", "b_c", "b_o" (H,)

    Returns a tuple of:
    - h_t: new hidden state, (N, H)
    - c_t: new cell state, (N, H)
    - gates: {"f", "i", "c_tilde", "o"}, each (N, H)
    """
    hx = np.concatenate([h_prev, x_t], axis=1)  # h first, as in W · [h_{t-1}, x_t]
    f = sigmoid(hx @ params["W_f"] + params["b_f"])  # how much of the old memory to keep
    i = sigmoid(hx @ params["W_i"] + params["b_i"])  # how much of the candidate to write
    c_tilde = np.tanh(hx @ params["W_c"] + params["b_c"])  # what could be written
    o = sigmoid(hx @ params["W_o"] + params["b_o"])  # how much of the memory to show
    c_t = f * c_prev + i * c_tilde
    h_t = o * np.tanh(c_t)  # tanh squashes the (unbounded) cell state into (-1, 1)
    return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}


def lstm_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """Run an LSTM over a whole sequence.

    Inputs:
    - x: input sequence, (N, T, D)
    - h0, c0: initial hidden and cell states, (N, H)
    - params: as in lstm_step

    Returns a tuple of:
    - h: hidden states at every step, (N, T, H)
    - c: cell states at every step, (N, T, H)
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    c = np.zeros((N, T, H))
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, _ = lstm_step(x[:, t, :], h_t, c_t, params)  # the state carries to the next step
        h[:, t, :] = h_t
        c[:, t, :] = c_t
    return h, c


def gru_step(x_t: np.ndarray, h_prev: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """One GRU time step in the lecture's form (reset before the product, z = 1 takes the candidate).

    Inputs:
    - x_t: input at this step, (N, D)
    - h_prev: previous hidden state, (N, H)
    - params: "W_z", "W_r", "W_h" (H + D, H) and "b_z", "b_r", "b_h" (H,)

    Returns a tuple of:
    - h_t: new hidden state, (N, H)
    - gates: {"z", "r", "h_tilde"}, each (N, H)
    """
    hx = np.concatenate([h_prev, x_t], axis=1)
    z = sigmoid(hx @ params["W_z"] + params["b_z"])  # update gate: forget and input gates in one
    r = sigmoid(hx @ params["W_r"] + params["b_r"])  # reset gate: how much of h_prev the candidate sees
    rhx = np.concatenate([r * h_prev, x_t], axis=1)  # reset applied to h BEFORE the product
    h_tilde = np.tanh(rhx @ params["W_h"] + params["b_h"])
    h_t = (1.0 - z) * h_prev + z * h_tilde
    return h_t, {"z": z, "r": r, "h_tilde": h_tilde}


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    params: dict,
    input_mask: np.ndarray | None = None,
    recurrent_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Run a GRU over a sequence, with variational (Gal and Ghahramani 2016) dropout masks.

    Inputs:
    - x: input sequence, (N, T, D)
    - h0: initial hidden state, (N, H)
    - params: as in gru_step
    - input_mask: (N, D) or None; holds 0 or 1 / (1 - rate). The SAME mask multiplies every x_t.
    - recurrent_mask: (N, H) or None; the SAME mask multiplies h_prev at every step where it
      enters the gates and the candidate (not in the interpolation (1 - z) * h_prev).

    Returns:
    - h: hidden states at every step, (N, T, H)
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((N, T, H))
    h_prev = h0
    for t in range(T):
        x_t = x[:, t, :] if input_mask is None else x[:, t, :] * input_mask
        if recurrent_mask is None:  # one GRU step, exactly
            h_prev, _ = gru_step(x_t, h_prev, params)
            h[:, t, :] = h_prev
            continue
        # the dropped units are the same at every step: the network cannot route around them
        h_in = h_prev * recurrent_mask
        hx = np.concatenate([h_in, x_t], axis=1)
        z = sigmoid(hx @ params["W_z"] + params["b_z"])
        r = sigmoid(hx @ params["W_r"] + params["b_r"])
        h_tilde = np.tanh(np.concatenate([r * h_in, x_t], axis=1) @ params["W_h"] + params["b_h"])
        h_prev = (1.0 - z) * h_prev + z * h_tilde  # the memory itself is never dropped
        h[:, t, :] = h_prev
    return h


def bidirectional_forward(
    x: np.ndarray, params_fwd: dict, params_bwd: dict, cell: str = "gru", merge: str = "concat"
) -> np.ndarray:
    """Two RNNs, one reading x in order and one reading it reversed, merged per time step.

    Inputs:
    - x: input sequence, (N, T, D); both RNNs start from zero states
    - params_fwd, params_bwd: GRU or LSTM params (as in gru_step / lstm_step)
    - cell: "gru" or "lstm"
    - merge: "concat" (forward first), "sum" or "ave"

    Returns:
    - out: (N, T, 2H) for "concat", (N, T, H) for "sum" and "ave". out[:, t] lines up with
      x[:, t] for both directions (as Keras' Bidirectional(..., return_sequences=True)).
    """
    if cell not in ("gru", "lstm"):
        raise ValueError(f"cell must be 'gru' or 'lstm', got {cell!r}")
    if merge not in ("concat", "sum", "ave"):
        raise ValueError(f"merge must be 'concat', 'sum' or 'ave', got {merge!r}")

    def run(seq: np.ndarray, params: dict) -> np.ndarray:
        N = seq.shape[0]
        H = params["b_z" if cell == "gru" else "b_f"].shape[0]
        h0 = np.zeros((N, H))
        if cell == "gru":
            return gru_forward(seq, h0, params)
        return lstm_forward(seq, h0, np.zeros((N, H)), params)[0]

    fwd = run(x, params_fwd)
    # the backward RNN reads x_T first; reversing its outputs puts its state at x_t on index t
    bwd = run(x[:, ::-1, :], params_bwd)[:, ::-1, :]
    if merge == "concat":
        return np.concatenate([fwd, bwd], axis=2)
    if merge == "sum":
        return fwd + bwd
    return (fwd + bwd) / 2.0


def embedding_lookup(ids: np.ndarray, E: np.ndarray) -> np.ndarray:
    """Look up rows of an embedding matrix (a lookup table for categorical data).

    Inputs:
    - ids: integer ids, (N, T), each in 0..V-1
    - E: embedding matrix, (V, d)

    Returns:
    - out: (N, T, d) with out[n, t] = E[ids[n, t]]; the same as one_hot(ids) @ E

    Raises IndexError for an id outside 0..V-1 (numpy would wrap a negative id silently).
    """
    ids = np.asarray(ids)
    V = E.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise IndexError(f"ids must be in 0..{V - 1}, got values from {ids.min()} to {ids.max()}")
    return E[ids]


def to_keras_lstm_weights(params: dict) -> list[np.ndarray]:
    """[kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,)] for keras.layers.LSTM (order i, f, c, o)."""
    H = params["b_f"].shape[0]
    order = ("i", "f", "c", "o")
    kernel = np.concatenate([params[f"W_{g}"][H:] for g in order], axis=1)
    recurrent = np.concatenate([params[f"W_{g}"][:H] for g in order], axis=1)
    bias = np.concatenate([params[f"b_{g}"] for g in order])
    return [kernel, recurrent, bias]


def to_keras_gru_weights(params: dict) -> list[np.ndarray]:
    """[kernel (D, 3H), recurrent_kernel (H, 3H), bias (3H,)] for keras.layers.GRU(reset_after=False).

    Keras' update gate is our 1 - z = sigmoid(-(...)): the z block is negated.
    """
    H = params["b_z"].shape[0]
    W = {"z": -params["W_z"], "r": params["W_r"], "h": params["W_h"]}
    b = {"z": -params["b_z"], "r": params["b_r"], "h": params["b_h"]}
    kernel = np.concatenate([W[g][H:] for g in GRU_GATES], axis=1)
    recurrent = np.concatenate([W[g][:H] for g in GRU_GATES], axis=1)
    bias = np.concatenate([b[g] for g in GRU_GATES])
    return [kernel, recurrent, bias]
