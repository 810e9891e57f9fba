"""The panels of reasonable, correct models that set the keras check models' thresholds
(issue "One grade everywhere", item 7), and the negative controls that must fail.

Read by `deepgrade calibrate keras` (graders/deepgrade/calibrate.py): PANELS, CONTROLS and
RULES (metric from fixtures.measure, "max"/"min", margin, key in thresholds.toml).
Never shipped to students.

Each builder has the student's signature and is self-contained (imports inside), like a
notebook cell. ``PANELS[question]`` lists (label, builder); ``CONTROLS[question]`` the
wrong models. tests/test_keras_panel.py runs them (fewer seeds in CI);
``benchmarks/keras_models.py --panel`` measures them over every seed and prints the table
recorded in assignments/keras/thresholds.toml.
"""

from __future__ import annotations


def _stock(kind: str, units: int, optimizer: str, lr: float | None, depth: int = 2, recurrent_dropout: float = 0.0):
    def build_stock_lstm(window):
        import keras
        from keras import layers

        rnn = getattr(layers, kind)
        stack = [keras.Input(shape=(window, 1))]
        for i in range(depth):
            stack.append(rnn(units, return_sequences=i < depth - 1, recurrent_dropout=recurrent_dropout))
            stack.append(layers.Dropout(0.2))
        stack.append(layers.Dense(1))
        model = keras.Sequential(stack)
        opt = getattr(keras.optimizers, optimizer)() if lr is None else getattr(keras.optimizers, optimizer)(lr)
        model.compile(optimizer=opt, loss="mse")
        return model

    return build_stock_lstm


def _char(kind: str, units: int, emb: int, optimizer: str, lr: float, depth: int = 1):
    def build_char_model(vocab_size):
        import keras
        from keras import layers

        rnn = getattr(layers, kind)
        stack = [keras.Input(shape=(None,), dtype="int32"), layers.Embedding(vocab_size, emb)]
        stack += [rnn(units, return_sequences=True) for _ in range(depth)]
        stack.append(layers.Dense(vocab_size, activation="softmax"))
        model = keras.Sequential(stack)
        model.compile(
            optimizer=getattr(keras.optimizers, optimizer)(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    return build_char_model


def char_no_recurrence(vocab_size):
    """Negative control: each position sees only its own character (a bigram model at best)."""
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            layers.Embedding(vocab_size, 32),
            layers.Dense(128, activation="relu"),
            layers.Dense(vocab_size, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def stock_constant(window):
    """Negative control: ignores the window (a learnt constant, about the training mean)."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(window, 1))
    zero = layers.Lambda(lambda x: x[:, 0, :] * 0.0)(inputs)
    model = keras.Model(inputs, layers.Dense(1)(zero))
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return model


def stock_first_day_of_window(window):
    """Negative control: forecasts the window's first day (x[:, 0] for x[:, -1]), a 20-day-old price."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(window, 1))
    first = layers.Lambda(lambda x: x[:, 0, :])(inputs)
    model = keras.Model(inputs, layers.Dense(1)(first))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


PANELS = {
    "build_stock_lstm": [
        ("LSTM 64 x 2, Dropout 0.2, Adam 3e-3 (reference)", _stock("LSTM", 64, "Adam", 3e-3)),
        ("LSTM 64 x 2, Dropout 0.2, Adam default", _stock("LSTM", 64, "Adam", None)),
        ("LSTM 32 x 2, Dropout 0.2, Adam 3e-3", _stock("LSTM", 32, "Adam", 3e-3)),
        ("GRU 50 x 2, Dropout 0.2, Adam default", _stock("GRU", 50, "Adam", None)),
        ("LSTM 50 x 2, Dropout 0.2, RMSprop 3e-3", _stock("LSTM", 50, "RMSprop", 3e-3)),
        ("LSTM 32 x 3, Dropout 0.2, Adam 3e-3", _stock("LSTM", 32, "Adam", 3e-3, depth=3)),
        (
            "GRU 32 x 2, recurrent_dropout 0.1, RMSprop default",
            _stock("GRU", 32, "RMSprop", None, recurrent_dropout=0.1),
        ),
    ],
    "build_char_model": [
        ("Embedding 32, GRU 128, Adam 1e-2 (reference)", _char("GRU", 128, 32, "Adam", 1e-2)),
        ("Embedding 32, GRU 128, Adam 3e-3 (the textbook model)", _char("GRU", 128, 32, "Adam", 3e-3)),
        ("Embedding 32, LSTM 128, Adam 1e-2", _char("LSTM", 128, 32, "Adam", 1e-2)),
        ("Embedding 64, GRU 256, Adam 3e-3", _char("GRU", 256, 64, "Adam", 3e-3)),
        ("Embedding 16, GRU 64, Adam 1e-2", _char("GRU", 64, 16, "Adam", 1e-2)),
        ("Embedding 32, GRU 64 x 2, Adam 5e-3", _char("GRU", 64, 32, "Adam", 5e-3, depth=2)),
        ("Embedding 32, GRU 128, RMSprop 3e-3", _char("GRU", 128, 32, "RMSprop", 3e-3)),
    ],
}

CONTROLS = {
    "build_stock_lstm": [
        ("a learnt constant", stock_constant),
        ("the window's first day, rescaled (a 20-day-old price)", stock_first_day_of_window),
    ],
    "build_char_model": [("no recurrence: Embedding then Dense", char_no_recurrence)],
}


RULES = {
    # RMSE ratios: the panel's worst x 1.25
    "build_stock_lstm": [
        ("vs_persistence", "max", 1.25, "max_vs_persistence"),
        ("vs_mean", "max", 1.25, "max_vs_mean"),
    ],
    # next-character accuracy over the bigram baseline: the panel's worst minus 1 point. (The
    # worst, GRU 128 with RMSprop 3e-3 on seed 1, is 1.2 points above the bigram baseline after
    # the 2 graded epochs, and the no-recurrence control reaches 0.2 points below it: a wider
    # margin would let the control pass.)
    "build_char_model": [("over_bigram", "min", 0.01, "margin")],
}
