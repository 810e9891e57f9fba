"""Wrong implementations written independently of the mistake catalogue, to show that the
fixtures discriminate beyond the mistakes they were written for.

Each is a plausible student answer, written from scratch here in a student's own style
(loops, weight slices, helper variables), not copied from solutions/*_mistakes.py: the
grader must recognise the mistake from the output alone, whatever the code looks like.

CORPUS: (assignment, function, the catalogue id that must diagnose it, implementation).
"""

from __future__ import annotations

import numpy as np


def _sig(a):
    return 1 / (1 + np.exp(-a))


def lstm_step_no_output_tanh(x_t, h_prev, c_prev, params):
    """h_t = o * c_t: the student forgot to squash the memory before the output gate."""
    H = h_prev.shape[1]
    pre = {}
    for g in ("f", "i", "c", "o"):
        W = params["W_" + g]
        pre[g] = h_prev @ W[:H] + x_t @ W[H:] + params["b_" + g]
    f, i, o = _sig(pre["f"]), _sig(pre["i"]), _sig(pre["o"])
    cand = np.tanh(pre["c"])
    c = f * c_prev + i * cand
    return o * c, c, {"f": f, "i": i, "c_tilde": cand, "o": o}


def lstm_step_without_forget(x_t, h_prev, c_prev, params):
    """The forget gate is returned but the old memory is added whole."""
    hx = np.hstack((h_prev, x_t))
    gates = {
        name: hx.dot(params["W_" + key]) + params["b_" + key]
        for name, key in (("f", "f"), ("i", "i"), ("c_tilde", "c"), ("o", "o"))
    }
    for name in ("f", "i", "o"):
        gates[name] = 1.0 / (1.0 + np.exp(-gates[name]))
    gates["c_tilde"] = np.tanh(gates["c_tilde"])
    c_new = c_prev + gates["i"] * gates["c_tilde"]
    h_new = gates["o"] * np.tanh(c_new)
    return h_new, c_new, gates


def gru_step_keras_convention(x_t, h_prev, params):
    """z keeps the old state, as Keras writes it: h = z * h_prev + (1 - z) * h_tilde."""
    H = h_prev.shape[1]
    Wz, Wr, Wh = params["W_z"], params["W_r"], params["W_h"]
    z = _sig(h_prev @ Wz[:H] + x_t @ Wz[H:] + params["b_z"])
    r = _sig(h_prev @ Wr[:H] + x_t @ Wr[H:] + params["b_r"])
    cand = np.tanh((r * h_prev) @ Wh[:H] + x_t @ Wh[H:] + params["b_h"])
    return z * h_prev + (1.0 - z) * cand, {"z": z, "r": r, "h_tilde": cand}


def gru_step_reset_after_product(x_t, h_prev, params):
    """The reset gate multiplies h_prev @ W (Keras' reset_after=True), not h_prev."""
    hx = np.concatenate((h_prev, x_t), axis=-1)
    H = h_prev.shape[-1]
    z = _sig(hx @ params["W_z"] + params["b_z"])
    r = _sig(hx @ params["W_r"] + params["b_r"])
    recurrent = h_prev @ params["W_h"][:H, :]
    h_tilde = np.tanh(r * recurrent + x_t @ params["W_h"][H:, :] + params["b_h"])
    return (1 - z) * h_prev + z * h_tilde, {"z": z, "r": r, "h_tilde": h_tilde}


def softmax_axis0(z):
    """Stable, but normalised down the columns."""
    z = np.asarray(z, dtype=float)
    ez = np.exp(z - z.max(axis=0))
    return ez / ez.sum(axis=0)


def clip_each_by_own_norm(grads, max_norm):
    """Every gradient is clipped to max_norm by its own norm."""
    total = 0.0
    for g in grads.values():
        total += float((g**2).sum())
    out = {}
    for k, g in grads.items():
        n = float(np.sqrt((g**2).sum()))
        out[k] = g * min(1.0, max_norm / n) if n > 0 else g.copy()
    return out, float(np.sqrt(total))


def clip_in_place(grads, max_norm):
    """Right values, but the student's own gradients are scaled in place (g *= scale)."""
    norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
    if norm > max_norm:
        for g in grads.values():
            g *= max_norm / norm
    return grads, float(norm)


def relu_norms_per_sequence_without_mask(dy, x, h0, params):
    """ReLU RNN norms where the student skipped relu' ("ReLU passes gradients through"),
    written one sequence at a time with the states never stored."""
    n_seq, steps = x.shape[0], x.shape[1]
    sq = np.zeros(steps)
    for i in range(n_seq):
        carry = np.zeros(h0.shape[1])
        for t in range(steps - 1, -1, -1):
            g = params["W_hy"] @ dy[i, t] + carry
            sq[t] += float(g @ g)
            carry = params["W_hh"] @ g
    return np.sqrt(sq)


CORPUS = [
    ("gated", "lstm_step", "lstm_no_tanh_on_output", lstm_step_no_output_tanh),
    ("gated", "lstm_step", "lstm_forget_gate_missing", lstm_step_without_forget),
    ("gated", "gru_step", "gru_keras_update", gru_step_keras_convention),
    ("gated", "gru_step", "gru_reset_after", gru_step_reset_after_product),
    ("cnn", "softmax", "softmax_wrong_axis", softmax_axis0),
    ("rnn", "clip_by_global_norm", "clip_per_tensor", clip_each_by_own_norm),
    ("rnn", "relu_rnn_grad_norms", "relu_norms_no_mask", relu_norms_per_sequence_without_mask),
]

# right values, wrong manners: caught by "does not modify its inputs", not by a catalogue entry
MUTATES_INPUTS = [("rnn", "clip_by_global_norm", clip_in_place)]
