"""The `gated` reference against independent sources: Keras layers, hand calculation, one-hot products.

Expected values never come from the reference itself. Keras runs in float64 where it allows.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from solutions import gated as ref

N, T, D, H = 2, 4, 3, 5


def _lstm_params(rng, D=D, H=H):
    p = {f"W_{g}": rng.normal(0, 0.5, (H + D, H)) for g in "fico"}
    p |= {f"b_{g}": rng.normal(0, 0.5, H) for g in "fico"}
    return p


def _gru_params(rng, D=D, H=H):
    p = {f"W_{g}": rng.normal(0, 0.5, (H + D, H)) for g in "zrh"}
    p |= {f"b_{g}": rng.normal(0, 0.5, H) for g in "zrh"}
    return p


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def _sig(a):
    return 1 / (1 + np.exp(-a))


# ---------------------------------------------------------------- hand calculations


def test_lstm_step_by_hand_one_unit():
    # H = 1, D = 1, all weights 0 except the candidate: every sigmoid gate is 0.5
    p = {f"W_{g}": np.zeros((2, 1)) for g in "fico"} | {f"b_{g}": np.zeros(1) for g in "fico"}
    p["W_c"] = np.array([[0.0], [1.0]])  # candidate = tanh(x)
    h, c, g = ref.lstm_step(np.array([[2.0]]), np.array([[0.3]]), np.array([[1.0]]), p)
    c_expected = 0.5 * 1.0 + 0.5 * np.tanh(2.0)
    assert np.allclose(c, c_expected)
    assert np.allclose(h, 0.5 * np.tanh(c_expected))
    assert np.allclose(g["f"], 0.5) and np.allclose(g["i"], 0.5) and np.allclose(g["o"], 0.5)
    assert np.allclose(g["c_tilde"], np.tanh(2.0))


def test_gru_step_by_hand_lecture_convention():
    # z = 1 (large bias) takes the candidate entirely: h_t = h_tilde
    p = {f"W_{g}": np.zeros((2, 1)) for g in "zrh"} | {f"b_{g}": np.zeros(1) for g in "zrh"}
    p["b_z"] = np.array([50.0])
    p["W_h"] = np.array([[1.0], [1.0]])  # h_tilde = tanh(r * h + x), r = 0.5
    h, g = ref.gru_step(np.array([[0.2]]), np.array([[0.8]]), p)
    assert np.allclose(g["r"], 0.5)
    assert np.allclose(h, np.tanh(0.5 * 0.8 + 0.2))
    # z = 0 keeps the old state
    p["b_z"] = np.array([-50.0])
    h, _ = ref.gru_step(np.array([[0.2]]), np.array([[0.8]]), p)
    assert np.allclose(h, 0.8)


def test_gru_step_concat_order_h_first():
    # W_r's first H rows multiply h: a row of ones there and zeros for x makes r = sigmoid(h)
    rng = np.random.default_rng(0)
    p = {f"W_{g}": np.zeros((H + D, H)) for g in "zrh"} | {f"b_{g}": np.zeros(H) for g in "zrh"}
    p["W_r"][:H] = np.eye(H)
    h_prev = rng.normal(size=(N, H))
    _, g = ref.gru_step(rng.normal(size=(N, D)), h_prev, p)
    assert np.allclose(g["r"], _sig(h_prev))


def test_embedding_matches_one_hot_product_and_rejects_out_of_range():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(7, 3))
    ids = np.array([[0, 6, 2], [3, 3, 1]])
    one_hot = np.eye(7)[ids]  # (N, T, V)
    assert np.allclose(ref.embedding_lookup(ids, E), one_hot @ E)
    for bad in (np.array([[0, -1]]), np.array([[7, 0]])):
        with pytest.raises(IndexError):
            ref.embedding_lookup(bad, E)


def test_gru_dropout_masks_independent_derivation():
    """With masks, step t must equal a GRU step on x_t * m_x whose gates and candidate see
    h_prev * m_h, written out by hand from the lecture's equations; the same masks at every t."""
    rng = np.random.default_rng(2)
    p = _gru_params(rng)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    m_x = rng.choice([0.0, 1 / 0.7], size=(N, D))
    m_h = rng.choice([0.0, 2.0], size=(N, H))
    got = ref.gru_forward(x, h0, p, m_x, m_h)
    h = h0
    for t in range(T):
        xm, hm = x[:, t] * m_x, h * m_h
        Wz, Wr, Wh = p["W_z"], p["W_r"], p["W_h"]
        z = _sig(hm @ Wz[:H] + xm @ Wz[H:] + p["b_z"])
        r = _sig(hm @ Wr[:H] + xm @ Wr[H:] + p["b_r"])
        ht = np.tanh((r * hm) @ Wh[:H] + xm @ Wh[H:] + p["b_h"])
        h = (1 - z) * h + z * ht
        assert np.allclose(got[:, t], h, atol=1e-12)
    # all-ones masks are the same as no masks
    assert np.allclose(ref.gru_forward(x, h0, p, np.ones((N, D)), np.ones((N, H))), ref.gru_forward(x, h0, p))


# ---------------------------------------------------------------- Keras


def test_lstm_forward_matches_keras(keras):
    rng = np.random.default_rng(3)
    p = _lstm_params(rng)
    x = rng.normal(size=(N, T, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    layer = keras.layers.LSTM(H, return_sequences=True, dtype="float64")
    layer.build((N, T, D))
    layer.set_weights(ref.to_keras_lstm_weights(p))
    expected = np.asarray(layer(x, initial_state=[h0, c0]))
    h, c = ref.lstm_forward(x, h0, c0, p)
    assert np.allclose(h, expected, atol=1e-10)
    # the cell state: Keras' last c via return_state
    layer_s = keras.layers.LSTM(H, return_sequences=True, return_state=True, dtype="float64")
    layer_s.build((N, T, D))
    layer_s.set_weights(ref.to_keras_lstm_weights(p))
    _, _, c_last = layer_s(x, initial_state=[h0, c0])
    assert np.allclose(c[:, -1], np.asarray(c_last), atol=1e-10)


def test_lstm_step_gates_match_keras_cell(keras):
    rng = np.random.default_rng(4)
    p = _lstm_params(rng)
    x_t, h_prev, c_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    cell = keras.layers.LSTMCell(H, dtype="float64")
    cell.build((N, D))
    cell.set_weights(ref.to_keras_lstm_weights(p))
    kh, (_, kc) = cell(x_t, [h_prev, c_prev])
    h, c, gates = ref.lstm_step(x_t, h_prev, c_prev, p)
    assert np.allclose(h, np.asarray(kh), atol=1e-10)
    assert np.allclose(c, np.asarray(kc), atol=1e-10)
    # gate blocks of Keras' pre-activations, in its order i, f, c, o
    k, rk, b = (np.asarray(w) for w in cell.get_weights())
    pre = x_t @ k + h_prev @ rk + b
    ki, kf, kcand, ko = np.split(pre, 4, axis=1)
    assert np.allclose(gates["i"], _sig(ki)) and np.allclose(gates["f"], _sig(kf))
    assert np.allclose(gates["c_tilde"], np.tanh(kcand)) and np.allclose(gates["o"], _sig(ko))


def test_gru_forward_matches_keras_reset_before(keras):
    rng = np.random.default_rng(5)
    p = _gru_params(rng)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    layer = keras.layers.GRU(H, return_sequences=True, reset_after=False, dtype="float64")
    layer.build((N, T, D))
    layer.set_weights(ref.to_keras_gru_weights(p))
    expected = np.asarray(layer(x, initial_state=[h0]))
    assert np.allclose(ref.gru_forward(x, h0, p), expected, atol=1e-10)


def test_keras_z_is_one_minus_lecture_z(keras):
    """Copying W_z into Keras unchanged gives a different GRU; Keras' z gate equals our 1 - z."""
    rng = np.random.default_rng(6)
    p = _gru_params(rng)
    x_t, h_prev = rng.normal(size=(N, D)), rng.normal(size=(N, H))
    k, rk, b = ref.to_keras_gru_weights(p)
    kz = _sig(x_t @ k[:, :H] + h_prev @ rk[:, :H] + b[:H])  # Keras' update gate
    _, gates = ref.gru_step(x_t, h_prev, p)
    assert np.allclose(kz, 1 - gates["z"])
    naive = [np.concatenate([p[f"W_{g}"][H:] for g in "zrh"], 1), np.concatenate([p[f"W_{g}"][:H] for g in "zrh"], 1)]
    naive.append(np.concatenate([p[f"b_{g}"] for g in "zrh"]))
    cell = keras.layers.GRUCell(H, reset_after=False, dtype="float64")
    cell.build((N, D))
    cell.set_weights(naive)
    kh, _ = cell(x_t, [h_prev])
    h, _ = ref.gru_step(x_t, h_prev, p)
    assert not np.allclose(h, np.asarray(kh))
    # with the naive copy Keras computes z*h_prev + (1-z)*h_tilde with the lecture's z
    assert np.allclose(np.asarray(kh), gates["z"] * h_prev + (1 - gates["z"]) * gates["h_tilde"], atol=1e-10)


def test_gru_dropout_matches_keras_with_fixed_masks(keras):
    """Keras' GRUCell keeps its dropout masks in _dropout_mask / _recurrent_dropout_mask (one per
    gate when recurrent_dropout > 0) and reuses them until reset: we fix them to ours."""
    rng = np.random.default_rng(7)
    p = _gru_params(rng)
    x = rng.normal(size=(N, T, D))
    h0 = rng.normal(size=(N, H))
    m_x = rng.choice([0.0, 1 / 0.75], size=(N, D))
    m_h = rng.choice([0.0, 2.0], size=(N, H))
    cell = keras.layers.GRUCell(H, reset_after=False, dropout=0.25, recurrent_dropout=0.5, dtype="float64")
    cell.build((N, D))
    cell.set_weights(ref.to_keras_gru_weights(p))
    cell._dropout_mask = [m_x] * 3
    cell._recurrent_dropout_mask = [m_h] * 3
    h = h0
    expected = []
    for t in range(T):
        h, _ = cell(x[:, t], [h], training=True)
        expected.append(np.asarray(h))
    expected = np.stack(expected, axis=1)
    got = ref.gru_forward(x, h0, p, m_x, m_h)
    assert np.allclose(got, expected, atol=1e-10)
    assert not np.allclose(got, ref.gru_forward(x, h0, p), atol=1e-3)


@pytest.mark.parametrize("merge", ["concat", "sum", "ave"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_bidirectional_matches_keras(keras, merge, cell):
    rng = np.random.default_rng(8)
    make, to_keras = (
        (_gru_params, ref.to_keras_gru_weights) if cell == "gru" else (_lstm_params, ref.to_keras_lstm_weights)
    )
    pf, pb = make(rng), make(rng)
    x = rng.normal(size=(N, T, D))
    if cell == "gru":
        inner = keras.layers.GRU(H, return_sequences=True, reset_after=False, dtype="float64")
    else:
        inner = keras.layers.LSTM(H, return_sequences=True, dtype="float64")
    layer = keras.layers.Bidirectional(inner, merge_mode=merge, dtype="float64")
    layer.build((N, T, D))
    layer.forward_layer.set_weights(to_keras(pf))
    layer.backward_layer.set_weights(to_keras(pb))
    expected = np.asarray(layer(x))
    got = ref.bidirectional_forward(x, pf, pb, cell=cell, merge=merge)
    assert got.shape == expected.shape
    assert np.allclose(got, expected, atol=1e-10)


def test_embedding_matches_keras(keras):
    rng = np.random.default_rng(9)
    E = rng.normal(size=(11, 4))
    ids = rng.integers(0, 11, size=(3, 5))
    layer = keras.layers.Embedding(11, 4, dtype="float64")
    layer.build((3, 5))
    layer.set_weights([E])
    assert np.allclose(ref.embedding_lookup(ids, E), np.asarray(layer(ids)), atol=0)


def test_parameter_counts_match_keras(keras):
    """The notebook's exercise: LSTM 4 (H(H + D) + H) vs GRU 3 (H(H + D) + H), GRU has fewer."""
    lstm = keras.layers.LSTM(H)
    lstm.build((None, T, D))
    gru = keras.layers.GRU(H, reset_after=False)
    gru.build((None, T, D))
    assert lstm.count_params() == 4 * (H * (H + D) + H)
    assert gru.count_params() == 3 * (H * (H + D) + H)
