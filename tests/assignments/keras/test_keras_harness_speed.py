"""The harness's two speed-ups change no number: building the optimizer before fit()
(harness/common.py ``build_optimizer``: one trace of the training step instead of two) and
predictions by an eager call in chunks (``predict_all``) instead of predict().

Independent source: Keras itself, trained the usual way (model.fit with nothing built before,
model.predict). The trace count is read from Keras' own train_step, called once per trace.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import keras_module

pytestmark = pytest.mark.slow  # trains (two tiny models, a few seconds)

keras = pytest.importorskip("keras")
COMMON = keras_module("harness.common")


def _model(seed: int):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential(
        [keras.Input(shape=(6, 1)), keras.layers.LSTM(8), keras.layers.Dropout(0.2), keras.layers.Dense(1)]
    )
    m.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    return m


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 1)).astype("float32")
    return x, x.sum(axis=(1, 2))


def _count_traces(monkeypatch) -> list[int]:
    from keras.src.backend.tensorflow import trainer

    calls, original = [0], trainer.TensorFlowTrainer.train_step

    def counted(self, data):
        calls[0] += 1
        return original(self, data)

    monkeypatch.setattr(trainer.TensorFlowTrainer, "train_step", counted)
    return calls


def test_building_the_optimizer_first_changes_no_weight_and_traces_once(monkeypatch) -> None:
    x, y = _data()
    calls = _count_traces(monkeypatch)
    plain = _model(3)
    plain.fit(x, y, epochs=2, batch_size=16, verbose=0)
    plain_traces = calls[0]
    calls[0] = 0
    ours = _model(3)
    COMMON.fit_model(ours, "build_x", x, y, epochs=2, batch_size=16, verbose=0)
    assert calls[0] == 1 < plain_traces  # Keras alone traced the step twice
    for a, b in zip(plain.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_an_unbuilt_model_still_trains() -> None:
    # no Input: no variables before the first call, so fit() builds the optimizer as before
    keras.utils.set_random_seed(0)
    m = keras.Sequential([keras.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones(8, "float32")
    h = COMMON.fit_model(m, "build_x", x, y, epochs=1, batch_size=4, verbose=0)
    assert len(h.history["loss"]) == 1


def test_predictions_in_chunks_equal_predict() -> None:
    x, y = _data()
    m = _model(1)
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    got = COMMON.predict_all(m, x, chunk=20)  # 64 samples: chunks of 20, 20, 20, 4
    np.testing.assert_allclose(got, m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert got.shape == (64, 1)
