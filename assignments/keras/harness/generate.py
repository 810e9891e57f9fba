"""generate: the student's text (as character codes) from the fixed model of generate_model.py,
sent before this file instead of common.py."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # defined by generate_model.py, sent before this file
    from .generate_model import codes, generation_args


def run(namespace, alphabet, seed_text, n_chars, temperature, rng_seed, model_seed):
    args = generation_args(str(alphabet), str(seed_text), n_chars, temperature, rng_seed, model_seed)
    return codes(namespace["generate"](*args))
