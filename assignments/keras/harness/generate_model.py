"""Exercise 2's fixed character model with Keras' predict API, in plain numpy (float64), so that
the grader computes the expected text in its own process, exactly, without TensorFlow.

A module: generate.py imports it where it runs; the grader imports it in its own process too
(check/generation.py).
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


def stand_in_sampler(probs, temperature, rng):
    # Not a sampler: an index that depends on everything generate passes to
    # sample_with_temperature (every probability, the temperature, the rng's next draw).
    # generate is also run with this in place of the student's sample_with_temperature, so that
    # a right generate is recognised whatever the student's sampler does (judged on its own).
    p = np.asarray(probs, dtype=np.float64).ravel()
    weighted = float(p @ np.arange(1, p.size + 1))  # in [1, V]; rounded so float noise does not matter
    key = round(weighted * 1000) + round(float(temperature) * 100) + int(rng.integers(1 << 30))
    return int(key % p.size)
