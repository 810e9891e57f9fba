"""One grade everywhere: grader.check gives exactly the points the same public checks earn at
grading, and the points policy (assignment.toml [points]) means what the README says.

The grader side grades each notebook with the pipeline (one sandbox batch per notebook) and
scores only its public cases with the same scorer (``grade_question(public_only=True)``);
the student side runs ``student_runner.run_question`` in this process on the functions the
same notebook defines, with the public.json of the student copy.

keras is left out: its questions are judged by models the grader trains in harness calls
(no public case of the numpy kind); the student copy trains them itself (test_keras_grading).
"""

from __future__ import annotations

import copy
import sys
import tomllib
import types

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading import notebook, pipeline
from deepgrade.grading.plan import _returns, call_id
from deepgrade.grading.score import grade_question
from deepgrade.portable import student_runner
from deepgrade.portable.call_runner import select
from deepgrade.portable.feedback import Check, explain_once, format_question
from deepgrade.portable.judge import judge, judge_case
from deepgrade.portable.policy import Policy
from deepgrade.portable.scoring import NOT_YET, score_question, split_points
from deepgrade.portable.spec import CaseSpec
from deepgrade.publish.student import make_student_copy
from deepgrade.sandbox import StepOutcome
from helpers import ROOT, filled_notebook, mutant_notebook, numpy_assignments

NUMPY_ASSIGNMENTS = numpy_assignments(ROOT)  # every assignment graded by calling its functions


# rnn: a wrong rnn_forward next to a right rnn_backward / hidden_grad_norms (judged on the
# states of the wrong forward, by the grader and by grader.check alike), in the student's own
# cache format; sigmoid is in no catalogue (grader.check cannot judge the backward there; the
# grade does, with the reference).
_SIGMOID_FORWARD = """
def rnn_forward(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = 1 / (1 + np.exp(-(x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])))
        h_prev = h[:, t]
    return h, h @ params["W_hy"] + params["b_y"], (x, h0, h, params)
"""
_ZEROS_FORWARD = """
def rnn_forward(x, h0, params):
    h = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    return h, np.zeros((x.shape[0], x.shape[1], params["W_hy"].shape[1])), (x, h0, h, params)
"""


def _combinations(name: str):
    if name != "rnn":
        return
    a = asg.load(name, ROOT)
    # a wrong forward (catalogued) with the catalogue's wrong backward: wrong for its own forward too
    yield (
        "forward_relu + backward_no_carry",
        filled_notebook(
            name, {"rnn_forward": a.mutants["forward_relu"], "rnn_backward": a.mutants["backward_no_carry"]}
        ),
    )
    yield (
        "step_relu + norms_local_only",
        filled_notebook(name, {"rnn_step": a.mutants["step_relu"], "hidden_grad_norms": a.mutants["norms_local_only"]}),
    )
    yield "sigmoid forward + right backward", filled_notebook(name, {"rnn_forward": _SIGMOID_FORWARD})
    yield "zeros forward + right backward", filled_notebook(name, {"rnn_forward": _ZEROS_FORWARD})


def _notebooks(name: str):
    """The correct notebook, the stub, every catalogued mistake (for rnn, each wrong rnn_step /
    rnn_forward sits next to the right rnn_backward: "wrong forward + right backward") and the
    combinations above."""
    a = asg.load(name, ROOT)
    yield "correct", filled_notebook(name)
    yield "stub", notebook.read(a.notebook)
    for mid in sorted(a.mistakes):
        if mid in a.mutants:
            yield mid, mutant_notebook(name, mid)
    yield from _combinations(name)


def _functions(cells: list[tuple[int, str]]) -> dict:
    """The notebook's definitions, executed here as a student's kernel would (grader cells skipped)."""
    namespace: dict = {"__name__": "__main__"}
    saved = sys.modules.get("otter")
    sys.modules["otter"] = types.SimpleNamespace(Notebook=lambda *a, **k: types.SimpleNamespace())
    try:
        for _, src in cells:
            if "grader.check" in src:
                continue
            try:
                exec(compile(src, "<cell>", "exec"), namespace)
            except Exception:
                pass
    finally:
        if saved is not None:
            sys.modules["otter"] = saved
        else:
            sys.modules.pop("otter", None)
    return namespace


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_grader_check_gives_the_public_points_of_the_grade(name, tmp_path):
    """grader.check shows what the public checks earn in the grade, of what they are worth there
    (split_points of the whole grade: public and hidden checks, extra checks too)."""
    a = asg.load(name, ROOT)
    data = make_student_copy(a, tmp_path / name) / "_deepgrade_check" / "public.json"
    differences = []
    kept: list[bool] = []
    kept_uncatalogued: list[bool] = []
    kept_composite: list[str] = []
    seen = 0
    for label, nb in _notebooks(name):
        cells = notebook.code_cells(nb)
        _, run = pipeline.grade_cells(a, cells)
        functions = _functions(cells)
        wrong_part = a.mistakes[label].function if label in a.mistakes else None
        for q in a.questions:
            outcomes = {call_id(q.name, c): run.calls[call_id(q.name, c)] for c in q.cases}
            graded = grade_question(a, q, outcomes, others=run.calls)
            split = split_points(graded.checks, q.points)
            public, public_max = round(split.public, 2), round(split.public_max, 2)
            points, max_points, checks = student_runner.run_question(q.name, functions, data)
            seen += 1
            # (unless its catalogue entry says why no right composite can run with it)
            if wrong_part in a.uses.get(q.name, []) and label not in breaks_composites(a):
                # a catalogued mistake in a part: the right composite keeps all its points in the
                # grade (hidden checks too) and its public points in grader.check
                if not (points == public == public_max and graded.points == q.points):
                    kept_composite.append(
                        f"{label} / {q.name}: grader.check {points}, grade {public} of {public_max}, "
                        f"whole question {graded.points} of {q.points}"
                    )
            if label in RIGHT_NEXT_TO_WRONG_FORWARD and q.name in ("rnn_backward", "hidden_grad_norms"):
                # wrong forward + right backward: the right function keeps its public points
                kept.append(points == public == public_max)
            if label in UNCATALOGUED_FORWARD and q.name in ("rnn_backward", "hidden_grad_norms"):
                # a wrong forward in no catalogue: the grade judges the right backward on its
                # states with the reference (full points); grader.check cannot, says so, and
                # gives less, never more
                kept_uncatalogued.append(public == public_max and points < public)
                continue
            if points != public or max_points != public_max:
                differences.append(
                    f"{label} / {q.name}: grader.check {points} of {max_points}, "
                    f"public checks at grading {public} of {public_max}\n"
                    f"    check: {[(c.label, c.passed, c.weight) for c in checks]}\n"
                    f"    grade: {[(c.label, c.passed, c.weight) for c in graded.checks if not c.hidden]}"
                )
    assert seen >= 2 * len(a.questions)
    assert not differences, "\n".join(differences)
    assert not kept_composite, "\n".join(kept_composite)
    if name == "rnn":
        assert len(kept) == 2 * len(RIGHT_NEXT_TO_WRONG_FORWARD) and all(kept), kept
        assert len(kept_uncatalogued) == 2 * len(UNCATALOGUED_FORWARD) and all(kept_uncatalogued), kept_uncatalogued


def breaks_composites(a: asg.Assignment) -> set[str]:
    """Mistakes whose value no right composite can use (mistakes.toml ``breaks_composites``)."""
    catalogue = tomllib.loads((a.folder / "mistakes.toml").read_text())
    return {mid for mid, entry in catalogue.items() if "breaks_composites" in entry}


UNCATALOGUED_FORWARD = {"sigmoid forward + right backward"}

# every catalogued wrong rnn_step / rnn_forward, next to the reference rnn_backward and hidden_grad_norms
RIGHT_NEXT_TO_WRONG_FORWARD = {
    mid for mid, m in asg.load("rnn", ROOT).mistakes.items() if m.function in ("rnn_step", "rnn_forward")
}


def test_grader_check_says_what_the_hidden_checks_hold(tmp_path):
    """The points shown are the public checks' points in the grade; the rest is the hidden checks'."""
    a = asg.load("gated", ROOT)
    data = make_student_copy(a, tmp_path / "gated") / "_deepgrade_check" / "public.json"
    text = student_runner.check("embedding_lookup", {"embedding_lookup": a.reference.embedding_lookup}, data)
    q = a.question("embedding_lookup")
    public = sum(1 for c in q.cases if not c.hidden and c.compare)
    assert 0 < public < len(q.cases)
    points, max_points, _ = student_runner.run_question(
        "embedding_lookup", {"embedding_lookup": a.reference.embedding_lookup}, data
    )
    assert points == max_points < q.points
    assert f"{points:g} / {max_points:g} points" in text
    assert f"hold the other {round(q.points - max_points, 2):g} of the question's {q.points:g} points" in text


# --------------------------------------------------------------------------- the points policy


def _zeros(v):
    if isinstance(v, (np.ndarray, np.generic, float, int)):
        return np.zeros_like(np.asarray(v), dtype=np.float64)
    if isinstance(v, dict):
        return {k: _zeros(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return tuple(_zeros(x) for x in v)
    return v


def _outcomes(a: asg.Assignment, q: asg.Question, answer=None, transform=None) -> dict[str, StepOutcome]:
    """The question's calls answered in this process: the question's own function is ``answer``
    (default: the reference), its outputs passed through ``transform``; other functions right."""
    outcomes, kept = {}, {}
    for case in q.cases:
        fn = case.function or q.name
        args = [kept[x.case][x.index] if isinstance(x, asg.Ref) else x for x in copy.deepcopy(case.args)]
        f = answer if (fn == q.name and answer is not None) else getattr(a.reference, fn)
        try:
            out = f(*args, **copy.deepcopy(case.kwargs))
        except Exception as exc:
            outcomes[call_id(q.name, case)] = StepOutcome("error", error={"type": type(exc).__name__, "where": []})
            continue
        kept[case.name] = out
        value = select(out, _returns(case))
        if fn == q.name and transform is not None:
            value = transform(value)
        outcomes[call_id(q.name, case)] = StepOutcome("ok", value=value)
    return outcomes


def _shape_only_outcomes(a: asg.Assignment, q: asg.Question) -> dict[str, StepOutcome]:
    """Every call of the question answered with zeros of the right shapes (other functions right)."""
    outcomes = _outcomes(a, q, transform=_zeros)
    for case in q.cases:
        if case.expect_error is not None:  # zeros of some shape: it returns instead of raising
            outcomes[call_id(q.name, case)] = StepOutcome("ok", value=np.zeros(3))
    return outcomes


@pytest.mark.parametrize("name", NUMPY_ASSIGNMENTS)
def test_shape_only_answers_earn_at_most_a_tenth(name):
    a = asg.load(name, ROOT)
    for q in a.questions:
        r = grade_question(a, q, _shape_only_outcomes(a, q))
        assert r.points <= 0.1 * q.points + 1e-9, (q.name, r.points, [(c.label, c.passed) for c in r.checks])


def test_raising_everywhere_earns_nothing():
    a = asg.load("gated", ROOT)
    q = a.question("embedding_lookup")
    error = {"type": "IndexError", "message": "index out of range", "where": []}
    outcomes = {call_id(q.name, c): StepOutcome("error", error=error) for c in q.cases}
    r = grade_question(a, q, outcomes)
    assert r.points == 0, [(c.label, c.passed, c.weight) for c in r.checks]
    gated = [c for c in r.checks if c.label.startswith("raises IndexError")]
    assert gated and all(NOT_YET in c.label for c in gated)


def test_expected_error_is_credited_next_to_a_right_output():
    a = asg.load("gated", ROOT)
    q = a.question("embedding_lookup")
    outcomes = {}
    for c in q.cases:
        if c.expect_error is not None:
            outcomes[call_id(q.name, c)] = StepOutcome(
                "error", error={"type": "IndexError", "message": "", "where": []}
            )
        else:
            outcomes[call_id(q.name, c)] = StepOutcome("ok", value=a.expected(c, q.name))
    assert grade_question(a, q, outcomes).points == q.points


def _lstm_result(policy: Policy, wrong: set[str]) -> float:
    """Points of an lstm_step case whose parts in ``wrong`` are off (hand-made outputs)."""
    h, c = np.ones((1, 1)), np.ones((1, 1))
    gates = {"f": np.ones((1, 1)), "i": np.ones((1, 1)), "c_tilde": np.ones((1, 1)), "o": np.ones((1, 1))}
    outputs = [
        "h_t",
        "c_t",
        {"f": "forget gate f", "i": "input gate i", "c_tilde": "candidate c_tilde", "o": "output gate o"},
    ]
    got = (h + ("h_t" in wrong), c + ("c_t" in wrong), {k: v + (k in wrong) for k, v in gates.items()})
    spec = CaseSpec("lstm_step", "x", "lstm_step", "x", outputs=outputs, rtol=1e-7, atol=1e-9)
    r = judge(spec, StepOutcome("ok", value=got), (h, c, gates), {}, explain={}, policy=policy)
    points, _ = score_question([r], [], 1.0, policy, {})
    return points


def test_output_weights_make_the_main_output_dominate():
    policy = asg.load("gated", ROOT).policy
    # h_t wrong, everything else right: at most half, though 5 of 6 parts are right
    assert _lstm_result(policy, {"h_t"}) <= 0.5
    # all the gates wrong, h_t and c_t right: most of the points
    assert _lstm_result(policy, {"f", "i", "c_tilde", "o"}) >= 0.7
    # with equal weights (the default) the gates would count as much as the outputs
    assert _lstm_result(Policy(), {"h_t"}) > 0.7


def test_policy_from_toml_is_checked(tmp_path):
    with pytest.raises(ValueError, match="unknown keys"):
        Policy.from_dict({"shapes": 0.1})
    with pytest.raises(ValueError, match="share"):
        Policy.from_dict({"shape": 1.5})
    assert Policy.from_dict(None) == Policy()


# --------------------------------------------------------------------------- tolerances


def _clip_with_eps(eps: float):
    def clip(grads, max_norm):
        norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        scale = max_norm / (norm + eps)  # torch.nn.utils.clip_grad_norm_'s formula (eps = 1e-6)
        return ({k: g * min(scale, 1.0) for k, g in grads.items()}, norm)

    return clip


@pytest.mark.parametrize("eps", [0.0, 1e-8, 1e-6])
def test_clipping_with_an_epsilon_in_the_norm_passes(eps):
    a = asg.load("rnn", ROOT)
    q = a.question("clip_by_global_norm")
    r = grade_question(a, q, _outcomes(a, q, answer=_clip_with_eps(eps)))
    assert r.points == q.points, [(c.label, c.details) for c in r.checks if not c.passed]


def test_the_clipping_tolerance_still_catches_every_clipping_mistake():
    a = asg.load("rnn", ROOT)
    q = a.question("clip_by_global_norm")
    assert all(c.rtol == 1e-6 for c in q.cases)  # assignment.toml [tolerances.clip_by_global_norm]
    mistakes = [mid for mid, m in a.mistakes.items() if m.function == q.name and mid in a.mutants]
    assert mistakes
    for mid in mistakes:
        r = grade_question(a, q, _outcomes(a, q, answer=a.mutants[mid]))
        assert r.points < q.points, mid
        assert any(mid in c.diagnosis for c in r.checks), mid


def test_float32_results_get_a_named_hint():
    expected = np.array([[1.00067, -2.5], [0.25, 3.0]])
    got = (expected * (1 + 4e-7)).astype(np.float32)  # a float32 computation's rounding
    checks = judge_case("x", False, got, expected, None, {}, {}, 1e-7, 1e-9)
    text = " ".join(checks[1].details)
    assert not checks[1].passed
    assert "your result is float32: compute in float64" in text
    assert "expected 1.00067, got 1.00067" not in text  # equal to 6 digits: more are shown


# --------------------------------------------------------------------------- messages


def test_wrong_gradient_key_names_are_said_once():
    a = asg.load("rnn", ROOT)
    q = a.question("rnn_backward")
    outcomes = _outcomes(a, q, transform=lambda g: {f"d{k}": v for k, v in g.items()})
    r = grade_question(a, q, outcomes)
    assert r.points <= 0.1 * q.points  # only what the grader-only checks may give
    # public checks name the keys found; hidden checks only the keys missing (the keys a student's
    # process chose on hidden inputs are not repeated)
    case_checks = [
        c for c in r.checks if c.details and ("expected the keys" in c.details[0] or "lacks the keys" in c.details[0])
    ]
    compared = [c for c in q.cases if c.compare and c.expect_error is None]
    assert len(case_checks) == len(compared)  # one per compared case, not one per key
    text = "\n".join(format_question(q.name, r.points, q.points, r.checks))
    assert text.count("expected the keys") == 1 and text.count("lacks the keys") == 1, text
    public = sum(1 for c in compared if not c.hidden)
    assert "'dW_xh'" in text and "'W_xh'" in text
    assert f"and {public - 1} more with the same result" in text and f"and {len(compared) - public - 1} more" in text


def test_the_same_mistake_refers_to_the_same_mistake():
    checks = [
        Check("values on case 1", False, 1, ["explain A"], ["a"]),
        Check("values on case 2", False, 1, ["explain B"], ["b"]),
        Check("values on case 3", False, 1, ["explain A"], ["a"]),
    ]
    explain_once(checks, {"a": "explain A", "b": "explain B"})
    assert checks[1].details == ["explain B"]
    assert checks[2].details == ["the same mistake (a) as explained under: values on case 1"]
    # two checks that refer back to different mistakes are not merged into one block
    more = [
        Check("values on case 4", False, 1, ["the same"], ["a"]),
        Check("values on case 5", False, 1, ["the same"], ["b"]),
    ]
    assert "more with the same result" not in "\n".join(format_question("f", 0, 1, more))


def test_inputs_left_alone_without_a_right_output_does_not_read_as_modified():
    a = asg.load("cnn", ROOT)
    q = a.question("relu")
    r = grade_question(a, q, _shape_only_outcomes(a, q))
    nm = [c for c in r.checks if "input" in c.label and "modif" not in c.label]
    assert nm and all(not c.passed and NOT_YET in c.label and "unchanged" in c.label for c in nm)
    assert not any(c.label.endswith("does not modify its inputs") and not c.passed for c in r.checks)
