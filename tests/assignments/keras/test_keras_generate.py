"""Exercise 2: the text-generation loop, graded exactly against the reference.

The reference is checked against an independent loop (temperature as softmax(log p / T),
the draw as a uniform number and a cumulative sum) on the grader's fixed model and on a real
Keras model; the public expectations shipped to students equal the reference's; every
catalogued mistake is caught, named and explained on every case."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from helpers import ROOT, keras_module

A = asg.load("keras", ROOT)
FX = keras_module("fixtures")
GEN = keras_module("check.generation")
REF = A.reference
MISTAKES = [mid for mid, m in A.mistakes.items() if m.function == "generate"]


def independent_generate(predict, seed_ids, n, temperature, rng):
    """Ids in, ids out: softmax(log p / T), then the inverse-CDF draw rng.choice makes."""
    window, out = list(seed_ids), []
    for _ in range(n):
        p = np.asarray(predict(np.array([window])), dtype=np.float64)[0, -1]
        logits = np.log(p) / temperature
        w = np.exp(logits - logits.max())
        cdf = np.cumsum(w / w.sum())
        nxt = int(np.searchsorted(cdf / cdf[-1], rng.random(), side="right"))
        out.append(nxt)
        window = window[1:] + [nxt]
    return out


def test_rng_choice_is_the_inverse_cdf_draw():
    """The premise of the independent loop: rng.choice(n, p=p) uses one uniform per draw."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(200):
        assert a.choice(4, p=p) == np.searchsorted(np.cumsum(p), b.random(), side="right")


@pytest.mark.parametrize("name,description,args,hidden", GEN.GENERATE, ids=[g[0] for g in GEN.GENERATE])
def test_reference_equals_an_independent_loop_on_the_grader_model(name, description, args, hidden):
    ns = GEN._generation_namespace()
    seed_text, n, t, rs, ms = args
    model, *_rest = ns["generation_args"](GEN.GENERATE_ALPHABET, *args)
    text = REF.generate(*ns["generation_args"](GEN.GENERATE_ALPHABET, *args))
    c2i = {c: i for i, c in enumerate(GEN.GENERATE_ALPHABET)}
    want = independent_generate(model.predict, [c2i[c] for c in seed_text], n, t, np.random.default_rng(rs))
    assert text == "".join(GEN.GENERATE_ALPHABET[i] for i in want)
    assert len(text) == n


def test_grader_model_is_a_softmax_rnn():
    """TinyCharModel's probabilities, recomputed step by step by hand."""
    ns = GEN._generation_namespace()
    m = ns["TinyCharModel"](5, 3)
    ids = np.array([[0, 4, 2], [1, 1, 3]])
    p = m.predict(ids)
    assert p.shape == (2, 3, 5)
    np.testing.assert_allclose(p.sum(-1), 1.0)
    h = np.zeros((2, 16))
    for t in range(3):
        h = np.tanh(m.E[ids[:, t]] @ m.Wx + h @ m.Wh)
        z = h @ m.Wy + m.by
        np.testing.assert_allclose(p[:, t], np.exp(z) / np.exp(z).sum(1, keepdims=True), rtol=1e-12)


def test_reference_drives_a_real_keras_model():
    import keras

    chars = sorted(set("call me ishmael."))
    c2i = {c: i for i, c in enumerate(chars)}
    i2c = dict(enumerate(chars))
    keras.utils.set_random_seed(0)
    model = REF.build_char_model(len(chars))
    text = REF.generate(model, "call me", 12, 0.7, np.random.default_rng(1), c2i, i2c)
    want = independent_generate(
        lambda ids: model.predict(ids, verbose=0), [c2i[c] for c in "call me"], 12, 0.7, np.random.default_rng(1)
    )
    assert text == "".join(i2c[i] for i in want)


def test_public_file_is_the_reference_output():
    shipped = json.loads(GEN.GENERATE_PUBLIC.read_text())
    assert shipped == json.loads(
        json.dumps(GEN.public_generation(REF.generate, {m: A.mutants[m] for m in MISTAKES}), sort_keys=True)
    )
    assert set(shipped) == {g[0] for g in GEN.GENERATE if not g[3]}  # public cases only


def judge(functions: dict):
    out = FX.local_outcomes({**vars(REF), **functions}, ["generate"])
    q = A.question("generate")
    return q.extra_check(A, q, out)


def test_reference_passes_every_case():
    checks = judge({})
    assert len(checks) == len(GEN.GENERATE) and all(c.passed for c in checks)


@pytest.mark.parametrize("mid", MISTAKES)
def test_each_mistake_fails_every_case_named_and_explained(mid):
    checks = judge({"generate": A.mutants[mid]})
    for c in checks:
        assert not c.passed, (mid, c.label)
        assert c.diagnosis == [mid], (mid, c.label, c.diagnosis)
        assert A.mistakes[mid].explanation in c.details


def test_a_student_who_uses_np_random_fails_without_a_wrong_name():
    def generate(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
        import numpy as np

        window, out = list(seed_text), []
        for _ in range(n_chars):
            p = model.predict(np.array([[char_to_index[c] for c in window]]), verbose=0)[0, -1] ** (1 / temperature)
            nxt = index_to_char[int(np.random.default_rng(99).choice(len(p), p=p / p.sum()))]
            out.append(nxt)
            window = window[1:] + [nxt]
        return "".join(out)

    checks = judge({"generate": generate})
    assert not any(c.passed for c in checks)
    assert not any(c.diagnosis for c in checks)


def test_returning_a_list_is_a_clear_failure():
    def generate(model, seed_text, n_chars, temperature, rng, char_to_index, index_to_char):
        return list("x" * n_chars)

    checks = judge({"generate": generate})
    assert not any(c.passed for c in checks)
    assert any("not a str" in " ".join(c.details) for c in checks)


def test_hostile_outputs_are_judged_not_trusted():
    """Floats, NaN or surrogate code points coming back from the sandbox fail cleanly."""
    from types import SimpleNamespace

    q = A.question("generate")
    for value in (np.array([np.nan, 1.0]), np.array([0xD800, 65]), "text", None):
        outcomes = {
            f"generate/{g[0]}": SimpleNamespace(ok=True, value=value, status="ok", error=None) for g in GEN.GENERATE
        }
        checks = q.extra_check(A, q, outcomes)
        assert checks and not any(c.passed for c in checks)


# ------------------------------------------------------------------ judged on its own


def notebook_namespace(**sources: str) -> dict:
    """The notebook's names as the sandbox has them: the reference's generate and
    sample_with_temperature pasted in as cells (one dict of globals), then ``sources`` (cells)."""
    from deepgrade.grading import notebook

    ns: dict = {}
    for fn in (REF.generate, REF.sample_with_temperature):
        exec(compile("import numpy as np\n" + notebook.function_source(fn), "<cell>", "exec"), ns)
    for name, source in sources.items():
        exec(compile(source, f"<cell {name}>", "exec"), ns)
    return ns


WRONG_SAMPLERS = {
    # p ** T instead of p ** (1 / T)
    "power": """
def sample_with_temperature(probs, temperature, rng):
    w = probs ** temperature
    return int(rng.choice(len(w), p=w / w.sum()))
""",
    # the stub, unanswered
    "stub": """
def sample_with_temperature(probs, temperature, rng):
    raise NotImplementedError
""",
    # forgets to return
    "no_return": """
def sample_with_temperature(probs, temperature, rng):
    w = probs ** (1 / temperature)
    rng.choice(len(w), p=w / w.sum())
""",
}


def judge_namespace(ns: dict):
    out = FX.local_outcomes(ns, ["generate"])
    q = A.question("generate")
    return q.extra_check(A, q, out)


@pytest.mark.parametrize("sampler", sorted(WRONG_SAMPLERS))
def test_a_right_generate_keeps_its_points_over_a_wrong_sampler(sampler):
    checks = judge_namespace(notebook_namespace(sampler=WRONG_SAMPLERS[sampler]))
    assert len(checks) == len(GEN.GENERATE)
    for c in checks:
        assert c.passed, (c.label, c.details)
        assert not c.diagnosis
        (note,) = c.details
        assert "sample_with_temperature" in note and "(see sample_with_temperature)" in note
        if sampler == "power":
            assert note.startswith("right given your sample_with_temperature")
        else:
            assert "with yours it raised" in note
    # and the sampler itself loses its points, once, on its own question
    out = FX.local_outcomes(notebook_namespace(sampler=WRONG_SAMPLERS[sampler]), ["sample_with_temperature"])
    q = A.question("sample_with_temperature")
    assert not any(c.passed for c in q.extra_check(A, q, out))


def test_the_stand_in_sees_what_generate_passes_to_the_sampler():
    """A generate that passes the sampler a wrong temperature, or the first position's
    probabilities, is still wrong over a wrong sampler: the stand-in depends on every argument."""
    from deepgrade.grading import notebook

    src = notebook.function_source(REF.generate)
    call = "sample_with_temperature(probs, temperature, rng)]"
    assert src.count(call) == 1 and src.count("[0, -1]") == 1
    for wrong in (
        src.replace(call, "sample_with_temperature(probs, 2 * temperature, rng)]"),
        src.replace("[0, -1]", "[0, 0]"),
    ):
        ns = notebook_namespace(sampler=WRONG_SAMPLERS["power"])
        exec(compile(wrong, "<cell>", "exec"), ns)
        checks = judge_namespace(ns)
        assert not any(c.passed for c in checks), [(c.label, c.details) for c in checks]


def test_the_stand_in_expectations_ship_for_the_public_cases():
    """grader.check in the student's copy judges generate on its own too: the shipped file
    holds the reference's text with the stand-in sampler, and it differs from the real text."""
    shipped = json.loads(GEN.GENERATE_PUBLIC.read_text())
    for name, d in shipped.items():
        assert len(d["stand_in"]) == len(d["expected"]) and d["stand_in"] != d["expected"], name
