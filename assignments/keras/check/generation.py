"""Exercise 2's fixtures: ``generate`` writes text with a fixed character model (harness/
generate_model.py, plain numpy) and a seeded rng; the text must equal the reference's exactly.

The grader computes the expected text and each catalogued mistake's in its own process; the
public cases' codes ship as data/generate_public.json (the student's copy has no reference).
Texts travel as character codes: int64 arrays (n_chars,). generate is also run with a stand-in
in place of sample_with_temperature (harness/generate.py), and compared with the reference's
generate run with the same stand-in: a right generate over a wrong sampler keeps its points.
"""

from __future__ import annotations

import json
import types
import weakref
from pathlib import Path

import numpy as np

from ..harness import generate_model

DATA = Path(__file__).resolve().parents[1] / "data"

GENERATE_ALPHABET = " .acdeghilmnorstwy"
GENERATE = [  # (name, description, (seed_text, n_chars, temperature, rng_seed, model_seed), hidden)
    ("cool", "seed 'call me ishmael.', 30 characters at temperature 0.5", ("call me ishmael.", 30, 0.5, 1, 7), False),
    ("hot", "seed 'call me ishmael.', 30 characters at temperature 1.5", ("call me ishmael.", 30, 1.5, 2, 7), False),
    ("whale", "seed 'the whale', 50 characters at temperature 0.8, another model", ("the whale", 50, 0.8, 3, 11), True),
    ("sea", "seed 'a great sea.', 40 characters at temperature 2", ("a great sea.", 40, 2.0, 4, 7), True),
]


def _generation_namespace() -> dict:
    """harness/generate_model.py's names: the model and the stand-in the sandbox runs, imported here."""
    return vars(generate_model)


def generation_outputs(generate_fn, stand_in: bool = False) -> dict:
    """{case name: the codes of generate_fn's text, or None if it raised}, with the grader's model
    and rng; with ``stand_in``, generate_fn runs with harness/generate_model.py's stand-in sampler
    as its sample_with_temperature (a copy of the function with those globals: nothing changes
    in generate_fn's module)."""
    ns = _generation_namespace()
    if stand_in:
        generate_fn = types.FunctionType(
            generate_fn.__code__,
            {**generate_fn.__globals__, "sample_with_temperature": ns["stand_in_sampler"]},
            generate_fn.__name__,
            generate_fn.__defaults__,
            generate_fn.__closure__,
        )
    out = {}
    for name, _, (seed_text, n, t, rs, ms), _ in GENERATE:
        try:
            out[name] = ns["codes"](generate_fn(*ns["generation_args"](GENERATE_ALPHABET, seed_text, n, t, rs, ms)))
        except Exception:  # noqa: BLE001 - a mistake that raises has no output to match
            out[name] = None
    return out


GENERATE_PUBLIC = DATA / "generate_public.json"


def public_generation(reference, mutants: dict) -> dict:
    """What data/generate_public.json holds: the public cases' expected codes, the reference's
    codes with the stand-in sampler, and each mistake's codes."""
    ref, stand_in = generation_outputs(reference), generation_outputs(reference, stand_in=True)
    muts = {mid: generation_outputs(fn) for mid, fn in sorted(mutants.items())}
    public = [name for name, _, _, hidden in GENERATE if not hidden]
    return {
        name: {
            "expected": ref[name].tolist(),
            "stand_in": stand_in[name].tolist(),
            "mutants": {mid: out[name].tolist() for mid, out in muts.items() if out[name] is not None},
        }
        for name in public
    }


# {reference generate: {(mistake ids, their functions): expectations}}: they depend on the
# grader's code only, and computing them runs the numpy character model 1,200 times (0.3 s of
# CPU), so a batch computes them once per process, not once per submission
_EXPECTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _generation_expectations(assignment) -> dict:
    """{case: {"expected", "stand_in", "mutants"}}: the grader computes them from the reference
    and the catalogue (once per reference and catalogue: ``_EXPECTED``); the student's copy
    reads the shipped public file. Callers read the arrays, never change them."""
    reference = getattr(getattr(assignment, "reference", None), "generate", None)
    if reference is not None:
        mids = [mid for mid, m in assignment.mistakes.items() if m.function == "generate"]
        key = tuple((mid, assignment.mutants.get(mid)) for mid in mids)
        known = _EXPECTED.setdefault(reference, {})
        if key not in known:
            known[key] = _compute_expectations(reference, mids, assignment.mutants)
        return known[key]
    data = json.loads(GENERATE_PUBLIC.read_text())
    return {
        name: {
            "expected": np.asarray(d["expected"]),
            "stand_in": np.asarray(d["stand_in"]),
            "mutants": {m: np.asarray(v) for m, v in d["mutants"].items()},
        }
        for name, d in data.items()
    }


def _compute_expectations(reference, mids: list[str], mutants: dict) -> dict:
    """The reference's codes per case, with the stand-in sampler, and each mistake's."""
    ref, stand_in = generation_outputs(reference), generation_outputs(reference, stand_in=True)
    muts = {mid: generation_outputs(mutants[mid]) for mid in mids if mid in mutants}
    return {
        name: {
            "expected": ref[name],
            "stand_in": stand_in[name],
            "mutants": {mid: out[name] for mid, out in muts.items() if out[name] is not None},
        }
        for name in ref
    }
