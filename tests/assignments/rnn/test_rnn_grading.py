"""Grading the `rnn` assignment: a right rnn_backward / hidden_grad_norms judged on the states
of a wrong rnn_forward (by the grader and by grader.check), the own-forward consistency credit
of rnn_backward, the vanishing-gradient story and the cache staying in the sandbox. What every
numpy assignment shares (full marks, zero, the catalogue) is in test_every_assignment.py."""

from __future__ import annotations

import copy
import dataclasses
import tomllib

import numpy as np
import pytest
from inprocess import grade, outcomes, shape_only_outcomes

from deepgrade import sandbox
from deepgrade.course import assignment as asg
from deepgrade.grading import notebook
from deepgrade.grading.plan import build_calls
from deepgrade.grading.score import grade_question
from helpers import ROOT, diagnoses, filled_notebook, grade_notebook, mutant_notebook, question

MISTAKES = tomllib.loads((ROOT / "assignments" / "rnn" / "mistakes.toml").read_text())
CONSISTENCY = "central differences of your own rnn_forward"

# A wrong forward (ReLU instead of tanh) and the true derivative of it: consistent.
RELU_FORWARD = """
def rnn_forward(x, h0, params):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    y = np.zeros((N, T, params["W_hy"].shape[1]))
    h_prev = h0
    for t in range(T):
        h[:, t] = np.maximum(0, x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])
        y[:, t] = h[:, t] @ params["W_hy"] + params["b_y"]
        h_prev = h[:, t]
    return h, y, {"x": x, "h0": h0, "h": h, "p": params}
"""
RELU_BACKWARD = """
def rnn_backward(dy, cache):
    x, h0, h, p = cache["x"], cache["h0"], cache["h"], cache["p"]
    T = x.shape[1]
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dx = np.zeros_like(x)
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        g["W_hy"] += h[:, t].T @ dy[:, t]
        g["b_y"] += dy[:, t].sum(axis=0)
        da = (dy[:, t] @ p["W_hy"].T + dh_next) * (h[:, t] > 0)
        g["W_xh"] += x[:, t].T @ da
        g["W_hh"] += h_prev.T @ da
        g["b_h"] += da.sum(axis=0)
        dx[:, t] = da @ p["W_xh"].T
        dh_next = da @ p["W_hh"].T
    g["h0"] = dh_next
    g["x"] = dx
    return g
"""


@pytest.fixture(scope="module")
def rnn():
    return asg.load("rnn", ROOT)


@pytest.fixture(scope="module")
def reference_backward(rnn):
    """The reference's rnn_backward graded in this process with the grader's scorer (the
    sandboxed reference notebook's full marks: test_every_assignment.py)."""
    return grade(rnn, rnn.question("rnn_backward"), {})


def _consistency_checks(qresult):
    return [c for c in qresult.checks if CONSISTENCY in c.label]


def test_reference_backward_passes_its_consistency_checks(reference_backward):
    checks = _consistency_checks(reference_backward)
    assert len(checks) == 7 and all(c.passed for c in checks)
    assert not any("differs from the reference" in " ".join(c.details) for c in checks)


# The reference notebook's full marks, the untouched notebook's zero, the catalogue and every
# mistake's feedback in the graded notebook: tests/generic/test_every_assignment.py.


def test_wrong_forward_with_consistent_backward_earns_consistency_credit(tmp_path):
    nb = filled_notebook("rnn", {"rnn_forward": RELU_FORWARD, "rnn_backward": RELU_BACKWARD})
    result = grade_notebook("rnn", nb, tmp_path)
    forward, backward = question(result, "rnn_forward"), question(result, "rnn_backward")
    assert "forward_relu" in diagnoses(forward)
    checks = _consistency_checks(backward)
    assert len(checks) == 7 and all(c.passed for c in checks)
    assert all("true derivative of what your rnn_forward computes" in " ".join(c.details) for c in checks)
    # the reference comparison fails (their cache holds ReLU states), the consistency part pays
    assert 0.25 * backward.max_points < backward.points < backward.max_points


def test_right_forward_with_wrong_backward_fails_consistency(tmp_path, rnn):
    nb = mutant_notebook("rnn", "backward_no_carry")
    checks = _consistency_checks(question(grade_notebook("rnn", nb, tmp_path), "rnn_backward"))
    assert not all(c.passed for c in checks)
    assert any("not the derivative of your own rnn_forward" in " ".join(c.details) for c in checks if not c.passed)


def test_student_cache_never_leaves_the_sandbox(rnn):
    cells = notebook.code_cells(filled_notebook("rnn"))
    calls = build_calls(rnn, ["rnn_backward", "hidden_grad_norms"])
    # the cache is passed on by reference inside the sandbox, never as data
    back = next(c for c in calls if c["id"] == "rnn_backward/one")
    assert back["args"][1] == {"r": ["rnn_backward/one_forward", 2]}
    run = sandbox.run(cells, calls)
    for cid, outcome in run.calls.items():
        assert outcome.ok, cid
        if outcome.value is not None and isinstance(outcome.value, tuple) and len(outcome.value) == 3:
            assert outcome.value[2] is None, cid  # the third element (the cache) came back as None
    # only h crosses (to tell a wrong forward from a wrong backward); the cache stays inside
    h, y, cache = run.calls["rnn_backward/one_forward"].value
    assert isinstance(h, np.ndarray) and y is None and cache is None
    h, y, cache = run.calls["hidden_grad_norms/h1_forward"].value
    assert isinstance(h, np.ndarray) and y is None and cache is None


def test_grading_compute_stays_small(rnn):
    # the student's functions themselves: well under a second for the whole assignment
    cells = notebook.code_cells(filled_notebook("rnn"))
    run = sandbox.run(cells, build_calls(rnn))
    assert sum(o.seconds for o in run.calls.values()) < 1.0
    n_cons = sum(1 for c in rnn.question("rnn_backward").cases if c.name.startswith("cons_"))
    assert n_cons < 100


def test_public_fixtures_are_small_and_hidden_ones_follow_the_constraints(rnn):
    for name in ("rnn_forward", "rnn_backward", "hidden_grad_norms"):
        for case in rnn.question(name).cases:
            if not case.hidden or (case.function or name) != "rnn_forward" or case.name.startswith("cons_"):
                continue  # (the consistency check's own tiny RNN is not a graded fixture)
            x, h0, params = case.args
            N, T, D = x.shape
            H, K = h0.shape[1], params["W_hy"].shape[1]
            assert T >= 3 and N > 1 and len({D, H, K}) == 3, case.name
    for name in ("rnn_backward", "hidden_grad_norms"):
        for case in rnn.question(name).cases:
            if case.hidden and case.reference_args is not None:
                dy = case.args[0]
                assert np.all(np.abs(dy).sum(axis=(0, 2)) > 0), case.name  # every step
    for case in rnn.question("rnn_forward").cases:
        if not case.hidden:
            assert copy.deepcopy(case.args)[0].size <= 12


def _check_output(nb, name: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() == f'grader.check("{name}")':
            return "\n".join(
                str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) + "".join(o.get("traceback", []))
                for o in cell.outputs
            )
    raise KeyError(name)


def test_grader_check_in_the_student_copy(tmp_path, rnn):
    pytest.importorskip("nbclient")
    from nbclient import NotebookClient

    from deepgrade.publish.student import make_student_copy

    out = make_student_copy(rnn, tmp_path / "rnn")
    nb = mutant_notebook("rnn", "backward_no_carry")
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(out)}}, allow_errors=True
    ).execute()
    wrong = _check_output(nb, "rnn_backward")
    assert "dh_next" in wrong and "FAIL" in wrong  # the catalogue's explanation, from public checks
    assert "hidden check:" not in wrong
    for name in ("rnn_step", "rnn_forward", "mse_loss", "clip_by_global_norm", "hidden_grad_norms"):
        right = _check_output(nb, name)
        assert "FAIL" not in right and "points" in right, (name, right)


# ---------------------------------------------------------------- the consistency check only adds
# (a wrong step or forward must not earn it): graded in this process with the grader's
# scorer, the reference rnn_backward next to each catalogued wrong rnn_step / rnn_forward.


def _forward_from_step(step):
    """The spec's rnn_forward written on top of a (wrong) rnn_step, as students do."""

    def rnn_forward(x, h0, params):
        N, T, _ = x.shape
        h = np.zeros((N, T, h0.shape[1]))
        y = np.zeros((N, T, params["W_hy"].shape[1]))
        h_prev = h0
        for t in range(T):
            h[:, t], y[:, t] = step(x[:, t], h_prev, params)
            h_prev = h[:, t]
        return h, y, (x, h0, h, params)

    return rnn_forward


def _wrong_forwards(rnn):
    out = {}
    for mid, m in rnn.mistakes.items():
        if m.function == "rnn_forward":
            out[mid] = rnn.mutants[mid]
        elif m.function == "rnn_step":
            out[mid] = _forward_from_step(rnn.mutants[mid])
    return out


FORWARD_MISTAKES = sorted(
    mid
    for mid, m in tomllib.loads((ROOT / "assignments" / "rnn" / "mistakes.toml").read_text()).items()
    if m["function"] in ("rnn_step", "rnn_forward")
)


OWN_STATES = "right for the hidden states your rnn_forward produced"
BACKWARD_MISTAKES = sorted(mid for mid, m in MISTAKES.items() if m["function"] == "rnn_backward")
NORMS_MISTAKES = sorted(mid for mid, m in MISTAKES.items() if m["function"] == "hidden_grad_norms")
# the one catalogued forward mistake whose hidden states are right (only y_t is wrong)
STATES_RIGHT = {"step_output_from_prev"}

# A right rnn_backward for a cache of the student's own format (a dict), written here
# independently of the reference.
DICT_BACKWARD = RELU_BACKWARD.replace("* (h[:, t] > 0)", "* (1.0 - h[:, t] ** 2)")


@pytest.fixture(scope="module")
def public_json(rnn, tmp_path_factory):
    from deepgrade.publish.student import make_student_copy

    return make_student_copy(rnn, tmp_path_factory.mktemp("copy") / "rnn") / "_deepgrade_check" / "public.json"


def _failures(r):
    return [(c.label, c.details) for c in r.checks if not c.passed and c.weight > 0]


@pytest.mark.parametrize("function", ["rnn_backward", "hidden_grad_norms"])
@pytest.mark.parametrize("mid", FORWARD_MISTAKES)
def test_right_backward_with_wrong_forward_keeps_full_points(rnn, mid, function):
    q = rnn.question(function)
    r = grade(rnn, q, {"rnn_forward": _wrong_forwards(rnn)[mid]})
    assert r.points == q.points, _failures(r)
    via = [c for c in r.checks if any(OWN_STATES in d for d in c.details)]
    if mid in STATES_RIGHT:
        assert not via  # their states are the reference's: the reference alone judges
        return
    # the standard values checks of every compared case, public and hidden, passed on their
    # own states, and say which function is wrong
    assert via and all(c.passed and c.weight > 0 for c in via)
    assert {c.hidden for c in via} == {False, True}
    said = f"your {function} is right, your rnn_forward is wrong (see rnn_forward, and rnn_step"
    assert all(said in " ".join(c.details) for c in via)
    # no extra check is needed for it: without them the points are the same
    without = grade_question(
        rnn, dataclasses.replace(q, extra_check=None), outcomes(rnn, q, {"rnn_forward": _wrong_forwards(rnn)[mid]})
    )
    assert without.points == q.points


@pytest.mark.parametrize("function", ["rnn_backward", "hidden_grad_norms"])
@pytest.mark.parametrize("mid", FORWARD_MISTAKES)
def test_grader_check_keeps_a_right_backward_whole_next_to_a_wrong_forward(rnn, public_json, mid, function):
    from deepgrade.portable import student_runner

    functions = {"rnn_forward": _wrong_forwards(rnn)[mid], function: getattr(rnn.reference, function)}
    points, max_points, checks = student_runner.run_question(function, functions, public_json)
    # every public point the question's public checks are worth in the grade
    assert points == max_points > 0, [(c.label, c.details) for c in checks if not c.passed]
    via = [c for c in checks if any(OWN_STATES in d for d in c.details)]
    assert bool(via) is (mid not in STATES_RIGHT)


@pytest.mark.parametrize("mid", ["forward_relu", "step_missing_bias", "forward_no_recurrence"])
def test_right_backward_on_its_own_cache_format_keeps_full_points(rnn, mid):
    # the student's own cache (a dict) and their own right backward, not the reference's
    ns: dict = {"np": np}
    exec(DICT_BACKWARD, ns)
    wrong = _wrong_forwards(rnn)[mid]

    def rnn_forward(x, h0, params):
        h, y, _ = wrong(x, h0, params)
        return h, y, {"x": x, "h0": h0, "h": h, "p": params}

    q = rnn.question("rnn_backward")
    r = grade(rnn, q, {"rnn_forward": rnn_forward, "rnn_backward": ns["rnn_backward"]})
    assert r.points == q.points, _failures(r)


@pytest.mark.parametrize("bmid", BACKWARD_MISTAKES + NORMS_MISTAKES)
@pytest.mark.parametrize("fmid", ["forward_relu", "step_missing_bias", "forward_transposed_recurrent"])
def test_backward_wrong_for_its_own_forward_still_fails(rnn, fmid, bmid):
    function = MISTAKES[bmid]["function"]
    q = rnn.question(function)
    alone = grade(rnn, q, {function: rnn.mutants[bmid]})  # next to a right forward
    r = grade(rnn, q, {"rnn_forward": _wrong_forwards(rnn)[fmid], function: rnn.mutants[bmid]})
    assert r.points < q.points
    # the wrong forward earns the backward's mistake nothing on the graded cases; the only
    # difference is the grader-only consistency credit for the gradients that are the true
    # derivative of the wrong forward (dW_hy, db_y of backward_no_carry: 2.5 instead of 2.24)
    assert r.points <= alone.points + 0.1 * q.points, (r.points, alone.points, _failures(r))
    failed = [
        c for c in r.checks if not c.passed and c.weight > 0 and "your rnn_forward is wrong here" in " ".join(c.details)
    ]
    assert failed, _failures(r)
    # and its own mistake is named, recognised on the states of the wrong forward
    assert bmid in diagnoses(r), _failures(r)


@pytest.mark.parametrize("bmid", ["backward_no_carry", "backward_tanh_of_h", "norms_local_only"])
def test_grader_check_names_a_backward_mistake_next_to_a_wrong_forward(rnn, public_json, bmid):
    from deepgrade.portable import student_runner

    function = MISTAKES[bmid]["function"]
    functions = {"rnn_forward": _wrong_forwards(rnn)["step_relu"], function: rnn.mutants[bmid]}
    points, max_points, checks = student_runner.run_question(function, functions, public_json)
    assert points < max_points
    assert any(bmid in c.diagnosis for c in checks)


def test_a_forward_that_ignores_its_input_makes_no_backward_right(rnn):
    # zeros for h and y, and a backward that returns zeros: no values check may pass
    def rnn_forward(x, h0, params):
        N, T, _ = x.shape
        h = np.zeros((N, T, h0.shape[1]))
        return h, np.zeros((N, T, params["W_hy"].shape[1])), {"x": x, "h0": h0, "h": h, "p": params}

    def zeros_backward(dy, cache):
        return {k: np.zeros_like(v) for k, v in cache["p"].items()} | {
            "h0": np.zeros_like(cache["h0"]),
            "x": np.zeros_like(cache["x"]),
        }

    def zeros_norms(dy, cache):
        return np.zeros(cache["x"].shape[1])

    for function, fn in (("rnn_backward", zeros_backward), ("hidden_grad_norms", zeros_norms)):
        q = rnn.question(function)
        r = grade(rnn, q, {"rnn_forward": rnn_forward, function: fn})
        values = [c for c in r.checks if c.passed and not c.label.startswith(("shape", "hidden check: shape"))]
        assert [c.label for c in values if c.weight > 0 and "inputs" not in c.label] == [], function
        assert r.points <= 0.1 * q.points, (function, r.points)


def test_a_right_backward_keeps_its_points_next_to_an_uncatalogued_wrong_forward(rnn):
    # sigmoid instead of tanh: no catalogue entry, so the student copy cannot judge the
    # backward on its states (it has no reference: it says rnn_forward is the wrong function);
    # the grade judges public and hidden cases with the reference on the student's own states
    def rnn_forward(x, h0, params):
        N, T, _ = x.shape
        h = np.zeros((N, T, h0.shape[1]))
        h_prev = h0
        for t in range(T):
            h[:, t] = 1 / (1 + np.exp(-(x[:, t] @ params["W_xh"] + h_prev @ params["W_hh"] + params["b_h"])))
            h_prev = h[:, t]
        return h, h @ params["W_hy"] + params["b_y"], (x, h0, h, params)

    q = rnn.question("rnn_backward")
    r = grade(rnn, q, {"rnn_forward": rnn_forward})
    assert r.points == q.points, [(c.label, c.details) for c in r.checks if not c.passed]
    # (the credit-only central-difference checks of the student's own forward weigh 0 here: a
    # right backward uses tanh's derivative, which a sigmoid forward's numbers do not have)
    values = [
        c
        for c in r.checks
        if c.label.removeprefix("hidden check: ").startswith(("dW_", "db_", "dh0 ", "dx "))
        and c.weight > 0
        and "central differences" not in c.label
    ]
    hidden = [c for c in values if c.hidden and " on hidden check: " in c.label]
    assert len(hidden) == 3 * 7 and all(c.passed for c in values), [(c.label, c.weight) for c in values if not c.passed]
    # db_y = sum of dy does not depend on the states: it matches the reference itself
    assert all(OWN_STATES in " ".join(c.details) for c in values if "db_y" not in c.label)


def test_consistency_checks_are_hidden_and_say_wrong_keys_once(rnn, reference_backward):
    assert all(c.hidden for c in _consistency_checks(reference_backward))
    q = rnn.question("rnn_backward")

    def renamed(dy, cache):
        return {f"d{k}": v for k, v in rnn.reference.rnn_backward(dy, cache).items()}

    r = grade(rnn, q, {"rnn_backward": renamed})
    cons = [c for c in r.checks if "central differences" in c.label]
    assert len(cons) == 1 and cons[0].hidden and cons[0].weight == 0
    assert "does not hold the gradients under the keys" in cons[0].details[0]


def test_right_backward_with_y_only_wrong_keeps_everything(rnn):
    # y_t computed from h_prev: the states (all rnn_backward reads) are right
    q = rnn.question("rnn_backward")
    r = grade(rnn, q, {"rnn_forward": _wrong_forwards(rnn)["step_output_from_prev"]})
    assert r.points == q.points


def test_zeros_everywhere_earn_no_consistency_credit(rnn):

    q = rnn.question("rnn_backward")
    r = grade_question(rnn, q, shape_only_outcomes(rnn, q))
    cons = _consistency_checks(r)
    assert cons and not any(c.passed for c in cons)
    assert all(c.weight == 0 for c in cons)


def test_backward_consistent_with_its_wrong_forward_gains_credit(rnn):

    ns: dict = {"np": np}
    exec(RELU_FORWARD + RELU_BACKWARD, ns)
    q = rnn.question("rnn_backward")
    outs = outcomes(rnn, q, {"rnn_forward": ns["rnn_forward"], "rnn_backward": ns["rnn_backward"]})
    with_extra = grade_question(rnn, q, outs)
    without = grade_question(rnn, dataclasses.replace(q, extra_check=None), outs)
    assert with_extra.points > without.points
    cons = _consistency_checks(with_extra)
    assert len(cons) == 7 and all(c.passed for c in cons)
    assert all("your rnn_forward is wrong" in " ".join(c.details) for c in cons)


# ------------------------------------------------ the vanishing-gradient story: the problem, then the remedy

PROBLEM, REMEDY = "hidden check: the problem:", "hidden check: the remedy:"


def _story_check(result, prefix):
    (check,) = [c for c in result.checks if c.label.startswith(prefix)]
    return check


def test_right_functions_tell_the_story(rnn):
    assert _story_check(grade(rnn, rnn.question("hidden_grad_norms"), {}), PROBLEM).passed
    assert _story_check(grade(rnn, rnn.question("relu_rnn_grad_norms"), {}), REMEDY).passed


def _no_recurrent_weight(dy, cache):
    # dLoss/dh_t sent back without W_hh.T: tanh' alone (about 0.79 per step here) does not vanish
    x, h0, h, params = cache
    norms, dh_next = np.zeros(x.shape[1]), np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        dh = dy[:, t] @ params["W_hy"].T + dh_next
        norms[t] = np.linalg.norm(dh)
        dh_next = dh * (1 - h[:, t] ** 2)
    return norms


def test_norms_that_do_not_vanish_lose_the_problem_check(rnn):
    check = _story_check(
        grade(rnn, rnn.question("hidden_grad_norms"), {"hidden_grad_norms": _no_recurrent_weight}), PROBLEM
    )
    assert not check.passed and check.weight == 1.0
    ratio = float(check.details[0].rsplit("=", 1)[1])
    assert ratio > 1e-3  # measured, not assumed: 0.79**19 is about 0.01


@pytest.mark.parametrize("mid", ["relu_norms_tanh_forward", "relu_norms_tanh_derivative"])
def test_remedy_check_catches_a_norm_that_vanishes_or_explodes(rnn, mid):
    check = _story_check(
        grade(rnn, rnn.question("relu_rnn_grad_norms"), {"relu_rnn_grad_norms": rnn.mutants[mid]}), REMEDY
    )
    assert not check.passed and check.weight == 1.0


def test_a_wrong_forward_that_breaks_the_story_costs_hidden_grad_norms_nothing(rnn):
    # a forward whose states are far outside [-1, 1]: 1 - h**2 is large, the norms no longer vanish
    def rnn_forward(x, h0, params):
        N, T, _ = x.shape
        h = np.full((N, T, h0.shape[1]), 3.0)
        return h, h @ params["W_hy"] + params["b_y"], (x, h0, h, params)

    check = _story_check(grade(rnn, rnn.question("hidden_grad_norms"), {"rnn_forward": rnn_forward}), PROBLEM)
    assert not check.passed and check.weight == 0.0
    assert "not counted against you" in check.details[0] and "rnn_forward" in check.details[0]


def test_shape_only_norms_fail_both_story_checks(rnn):
    for qname, prefix in (("hidden_grad_norms", PROBLEM), ("relu_rnn_grad_norms", REMEDY)):
        q = rnn.question(qname)
        assert not _story_check(grade_question(rnn, q, shape_only_outcomes(rnn, q)), prefix).passed
