"""The transfer harness builds the lecture's VGG16 and ResNet50 with their weights unset
(harness/transfer.py ``_on_lecture_base``): the verdicts it reports (output shape, frozen,
used) must be those of the bases built the usual way and called on a real image.

Independent source: Keras itself (the application built normally, the student's model called
eagerly on zeros, its trainable weights read directly).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import keras_module, solutions_module

pytestmark = pytest.mark.slow  # builds VGG16 (15 million weights) several times, about 10 s

keras = pytest.importorskip("keras")
TRANSFER = keras_module("harness.transfer")
MISTAKES = solutions_module("keras_mistakes")
REF = solutions_module("keras")


def _usual(build, application):
    base = application(weights=None, include_top=False, input_shape=(150, 150, 3))
    model = build(base, 2)
    shape = np.asarray(model(np.zeros((1, 150, 150, 3), "float32"), training=False)).shape
    ids = {id(w) for w in base.weights}
    return shape, not any(id(w) in ids for w in model.trainable_weights)


def test_an_unset_base_has_the_usual_weights_unfilled_and_leaves_nothing_to_initialise():
    from keras.src.backend.common import global_state

    usual = keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    unset = TRANSFER._unset_base(keras.applications.VGG16)
    assert [tuple(w.shape) for w in unset.weights] == [tuple(w.shape) for w in usual.weights]
    assert all(w._value is None for w in unset.weights)  # nothing drawn: that is the saving
    ours = {id(w) for w in unset.weights}
    assert not any(id(v) in ours for v in global_state.get_global_attribute("uninitialized_variables", []))
    # a symbolic call after it (the student's head) does not fill them either
    keras.Sequential([unset, keras.layers.Flatten(), keras.layers.Dense(2)])(keras.KerasTensor((1, 150, 150, 3)))
    assert all(w._value is None for w in unset.weights)


@pytest.mark.parametrize(
    "build",
    [REF.build_transfer_model, MISTAKES.transfer_unfrozen, MISTAKES.transfer_base_dropped],
    ids=["reference", "unfrozen", "base dropped"],
)
def test_the_verdicts_on_an_unset_base_are_those_of_the_usual_base(build):
    base, model, shape = TRANSFER._on_lecture_base({"build_transfer_model": build}, keras.applications.VGG16, 0)
    assert all(w._value is None for w in base.weights)  # the fast path was taken
    usual_shape, usual_frozen = _usual(build, keras.applications.VGG16)
    assert tuple(shape) == usual_shape
    assert TRANSFER._frozen(model, base) == usual_frozen


def test_a_head_that_only_runs_eagerly_falls_back_to_the_usual_base():
    class Eager(keras.Model):
        # np.asarray fails on a symbolic tensor: only a real call can run this model
        def __init__(self, base, n):
            super().__init__()
            self.base, self.head = base, keras.layers.Dense(n)

        def call(self, x, training=False):
            feats = np.asarray(self.base(x, training=False)).reshape(len(x), -1)
            return self.head(feats)

    def build(base, n):
        base.trainable = False
        return Eager(base, n)

    base, model, shape = TRANSFER._on_lecture_base({"build_transfer_model": build}, keras.applications.VGG16, 0)
    assert tuple(shape) == (1, 2)
    assert all(w._value is not None for w in base.weights)  # built the usual way
