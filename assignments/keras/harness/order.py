"""build_order_classifier: train on good/not/bad sequences; predictions, history, layers."""

import keras

from .common import describe_layers, fit_model, history_arrays, predict_all, require_compiled


def run(namespace, X, y, Xtest, vocab, seq_len, seed, epochs, batch):
    keras.utils.set_random_seed(int(seed))
    model = namespace["build_order_classifier"](int(vocab), int(seq_len))
    require_compiled(model, "build_order_classifier")
    h = fit_model(model, "build_order_classifier", X, y, epochs=int(epochs), batch_size=int(batch), verbose=0)
    pred = predict_all(model, Xtest)
    return {"pred": pred, "history": history_arrays(h), "layers": describe_layers(model)}
