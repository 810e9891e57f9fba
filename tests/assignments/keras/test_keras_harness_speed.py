"""The harness's two speed-ups change no number: building the optimizer before fit()
(harness/common.py ``build_for_training``, Keras' own symbolic build: one trace of the training
step instead of two) and
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


def _model(seed: int, *, with_input: bool = True, metrics: tuple = ()):
    keras.utils.set_random_seed(seed)
    first = [keras.Input(shape=(6, 1))] if with_input else []
    m = keras.Sequential([*first, keras.layers.LSTM(8), keras.layers.Dropout(0.2), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse", metrics=list(metrics))
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


@pytest.mark.parametrize(
    "kind",
    [
        {},  # the stock models: an Input, no metric
        {"metrics": ("mae",)},  # a compiled metric: its variables are built first too
        {"with_input": False},  # no Input: the layers' weights are drawn in the symbolic build
    ],
    ids=["input", "metric", "no-input"],
)
def test_the_symbolic_build_changes_no_weight_and_traces_once(monkeypatch, kind) -> None:
    x, y = _data()
    calls = _count_traces(monkeypatch)
    plain = _model(3, **kind)
    plain.fit(x, y, epochs=2, batch_size=16, verbose=0)
    plain_traces = calls[0]
    calls[0] = 0
    ours = _model(3, **kind)
    h = COMMON.fit_model(ours, "build_x", x, y, epochs=2, batch_size=16, verbose=0)
    assert calls[0] == 1 < plain_traces  # Keras alone traced the step twice
    assert h.history.keys() == plain.history.history.keys()
    for a, b in zip(plain.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_dataset_is_built_from_its_element_spec(monkeypatch) -> None:
    import tensorflow as tf

    x, y = _data()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    calls = _count_traces(monkeypatch)
    plain = _model(5, metrics=("mae",))
    plain.fit(ds, epochs=1, verbose=0)
    calls[0] = 0
    ours = _model(5, metrics=("mae",))
    COMMON.fit_model(ours, "build_x", ds, None, epochs=1, verbose=0)
    assert calls[0] == 1
    for a, b in zip(plain.get_weights(), ours.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_that_cannot_be_built_symbolically_still_trains() -> None:
    # a subclassed model whose call() needs real values: the symbolic build fails quietly,
    # fit() builds it as Keras always did
    class Odd(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            if float(keras.ops.convert_to_numpy(keras.ops.sum(x))) > 1e9:  # eager values only
                return self.dense(x) * 0
            return self.dense(x)

    keras.utils.set_random_seed(0)
    m = Odd()
    m.compile(optimizer="adam", loss="mse", run_eagerly=True)
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
