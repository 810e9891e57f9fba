"""Exercise 2's fixed character model with Keras' predict API, in plain numpy (float64), so that
the grader computes the expected text in its own process, exactly, without TensorFlow.

Sent before generate.py (no common.py); the grader also runs it in its own process.
"""

import numpy as np


class TinyCharModel:
    # A fixed character-level RNN: predict(ids (N, T) ints) -> (N, T, V) next-character probabilities.

    def __init__(self, vocab_size, seed):
        rng = np.random.default_rng(int(seed))
        self.E = rng.normal(0.0, 1.0, (vocab_size, 8))
        self.Wx = rng.normal(0.0, 0.5, (8, 16))
        self.Wh = rng.normal(0.0, 0.3, (16, 16))
        self.Wy = rng.normal(0.0, 1.0, (16, vocab_size))
        self.by = np.linspace(1.0, -1.0, vocab_size)

    def predict(self, ids, verbose=0, **kwargs):
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"the model reads integer ids of shape (batch, T); got shape {ids.shape}")
        ids = ids.astype(np.int64)
        h = np.zeros((ids.shape[0], 16))
        out = []
        for t in range(ids.shape[1]):
            h = np.tanh(self.E[ids[:, t]] @ self.Wx + h @ self.Wh)
            z = h @ self.Wy + self.by
            e = np.exp(z - z.max(axis=1, keepdims=True))
            out.append(e / e.sum(axis=1, keepdims=True))
        return np.stack(out, axis=1)

    def __call__(self, ids, training=False):
        return self.predict(ids)


def generation_args(alphabet, seed_text, n_chars, temperature, rng_seed, model_seed):
    model = TinyCharModel(len(alphabet), model_seed)
    char_to_index = {c: i for i, c in enumerate(alphabet)}
    index_to_char = {i: c for i, c in enumerate(alphabet)}
    rng = np.random.default_rng(int(rng_seed))
    return (model, str(seed_text), int(n_chars), float(temperature), rng, char_to_index, index_to_char)


def codes(text):
    if not isinstance(text, str):
        raise TypeError(f"generate returned a {type(text).__name__}, not a str")
    return np.array([ord(c) for c in text], dtype=np.int64)
