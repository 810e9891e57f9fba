"""generate: the student's text (as character codes) from the fixed model of generate_model.py
(imported from there, as common.py's with_name); twice: with the student's sample_with_temperature,
and with generate_model.py's stand-in sampler in its place, so that generate is judged on its
own (a right generate over a wrong or missing sampler is recognised)."""

from .common import with_name
from .generate_model import codes, generation_args, stand_in_sampler


def run(namespace, alphabet, seed_text, n_chars, temperature, rng_seed, model_seed):
    fn = namespace["generate"]

    def args():
        return generation_args(str(alphabet), str(seed_text), n_chars, temperature, rng_seed, model_seed)

    text, error, failure = None, None, None
    try:
        text = codes(fn(*args()))
    except Exception as exc:  # with the student's sampler; the stand-in run says whether generate is at fault
        failure, error = exc, f"{type(exc).__name__}: {str(exc)[:200]}"
    try:
        out, calls = with_name(fn, "sample_with_temperature", stand_in_sampler, *args())
        stand_in = codes(out)
    except Exception:
        if failure is not None:
            raise failure from None  # generate itself fails: the student's own error and line
        stand_in, calls = None, 0
    return {"text": text, "error": error, "stand_in": stand_in if calls else None, "stand_in_calls": calls}
