"""Fixtures of the `rnn` assignment: public hand-checkable cases and hidden seeded ones.

Hidden cases follow these constraints: T >= 3, a non-zero upstream gradient at
every step, N > 1 and D, H, K all different (so a transposed or swapped weight cannot
go unnoticed). rnn_backward and hidden_grad_norms receive the student's OWN cache: the
case calls their rnn_forward first (keep=True) and passes its third element on with a
Ref; the cache never leaves the sandbox. The grader's reference uses its own cache
(``reference_args``).

A wrong rnn_forward puts wrong hidden states in that cache, and a right rnn_backward
cannot match the reference on them: each such case carries an ``OwnInput`` (the hidden
states h their rnn_forward returned), and where h is wrong it also accepts what a right
function returns on THEIR states (judge.Alternative). Its checks then pass, say that
rnn_forward is the wrong function, and nothing is lost. Hidden cases compute that value
with the reference on the student's h; public cases with the pairs the student copy
ships (the catalogued wrong rnn_step / rnn_forward, ``_wrong_forwards``), so that
grader.check judges them exactly as the grader does.

rnn_backward also gets grader-only checks (CHECKS below, hidden): against central
differences of the student's own rnn_forward, computed here from the outputs y their
rnn_forward returns on slightly changed inputs, so that a wrong forward with a backward
that is its true derivative earns extra credit; they never cost anything.

The lecture's remedies for vanishing gradients are graded the same way (hidden, weight 1
each): hidden_grad_norms on the student's own tanh RNN with W_hh = 0.5 x an orthogonal
matrix must vanish (vanishing_check), relu_rnn_grad_norms with ReLU and W_hh = I must not
(identity_check); the thresholds' closed form is at STORY_T.
"""

from __future__ import annotations

import types

import numpy as np

from deepgrade.course.assignment import Case, OwnInput, Ref, seeded
from deepgrade.portable.feedback import Check, error_check
from deepgrade.portable.outputs import structure_problem

GRAD_KEYS = ("W_xh", "W_hh", "W_hy", "b_h", "b_y", "h0", "x")
GRAD_OUTPUTS = {k: f"d{k}" for k in GRAD_KEYS}

# the consistency check: a tiny RNN so that ~60 forward calls cost a few milliseconds each
CONS_SIZES = (1, 3, 2, 3, 1)  # N, T, D, H, K
CONS_EPS = 1e-6
CONS_TOL = 1e-6  # relative error; central differences in float64 reach ~1e-9 here
CONS_WEIGHT = 2.0  # per gradient, counted only when it passes on a wrong forward: it can only add credit
# (within the hidden checks' share of the question: scoring.split_points; 3.0 when it diluted every check)
CONS_FLAT = 1e-8  # a numerical gradient smaller than this: the forward ignores the input (no credit)


def _params(W_xh, W_hh, W_hy, b_h, b_y) -> dict:
    return {
        "W_xh": np.array(W_xh, dtype=np.float64),
        "W_hh": np.array(W_hh, dtype=np.float64),
        "W_hy": np.array(W_hy, dtype=np.float64),
        "b_h": np.array(b_h, dtype=np.float64),
        "b_y": np.array(b_y, dtype=np.float64),
    }


def _random_rnn(seed: int, N: int, T: int, D: int, H: int, K: int) -> dict:
    """x, h0, params and an upstream gradient dy, none of them zero at any step."""
    rng = seeded(seed)
    params = {
        "W_xh": rng.normal(0, 0.6, (D, H)),
        "W_hh": rng.normal(0, 0.5, (H, H)),  # not symmetric: W_hh and W_hh.T differ
        "W_hy": rng.normal(0, 0.7, (H, K)),
        "b_h": rng.normal(0, 0.3, H),
        "b_y": rng.normal(0, 0.3, K),
    }
    return {
        "x": rng.normal(0, 1.0, (N, T, D)),
        "h0": rng.normal(0, 0.5, (N, H)),
        "params": params,
        "dy": rng.normal(0, 1.0, (N, T, K)),
        "sizes": f"N = {N} sequences of T = {T} steps, D = {D} inputs, H = {H} hidden units, K = {K} outputs",
    }


# Public, hand-checkable RNNs --------------------------------------------------------

# One unit: h_t = tanh(1.0 x_t + 0.5 h_{t-1} + 0.25), y_t = 2.0 h_t + 0.1
ONE_UNIT = _params([[1.0]], [[0.5]], [[2.0]], [0.25], [0.1])

# A batch of 2, 2 inputs, 3 hidden units, 1 output, small round weights
SMALL = _params(
    [[0.5, -0.25, 0.0], [0.0, 0.5, -0.5]],
    [[0.0, 0.5, 0.0], [0.0, 0.0, 0.5], [-0.5, 0.0, 0.0]],  # a rotation-like cycle: W_hh != W_hh.T
    [[1.0], [-1.0], [0.5]],
    [0.1, 0.0, -0.1],
    [0.2],
)
SMALL_X = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [[-1.0, 0.5], [0.5, 0.0], [0.0, -1.0]]])
SMALL_H0 = np.array([[0.0, 0.0, 0.0], [0.5, -0.5, 0.25]])
SMALL_DY = np.array([[[1.0], [0.5], [-1.0]], [[0.25], [-0.5], [1.0]]])
ONE_X = np.array([[[1.0], [0.0], [-1.0]]])
ONE_H0 = np.zeros((1, 1))
ONE_DY = np.array([[[1.0], [1.0], [1.0]]])

PUBLIC_RNNS = {
    "one": (
        "a 1-unit RNN over 3 steps (x = 1, 0, -1; h0 = 0; W_xh = 1, W_hh = 0.5, b_h = 0.25, W_hy = 2, b_y = 0.1)",
        ONE_X,
        ONE_H0,
        ONE_UNIT,
        ONE_DY,
    ),
    "small": (
        "a batch of 2 sequences of 3 steps, 2 inputs, 3 hidden units, 1 output (round weights)",
        SMALL_X,
        SMALL_H0,
        SMALL,
        SMALL_DY,
    ),
}
HIDDEN_RNNS = {
    "h1": _random_rnn(101, N=3, T=4, D=3, H=5, K=2),
    "h2": _random_rnn(102, N=2, T=6, D=4, H=3, K=2),
    "h3": _random_rnn(103, N=4, T=3, D=2, H=4, K=3),
}


def _step_cases() -> list[Case]:
    cases = [
        Case(
            "one_unit",
            "one step of a 1-unit RNN (x_t = 1, h_prev = 0.5; W_xh = 1, W_hh = 0.5, b_h = 0.25, W_hy = 2, b_y = 0.1)",
            args=(np.array([[1.0]]), np.array([[0.5]]), ONE_UNIT),
            outputs=["h_t", "y_t"],
        ),
        Case(
            "small",
            "one step on a batch of 2, 2 inputs, 3 hidden units, 1 output (round weights)",
            args=(SMALL_X[:, 1], SMALL_H0, SMALL),
            outputs=["h_t", "y_t"],
        ),
    ]
    for seed, (N, D, H, K) in ((201, (3, 4, 5, 2)), (202, (2, 3, 2, 4))):
        r = _random_rnn(seed, N, 1, D, H, K)
        cases.append(
            Case(
                f"hidden_{seed}",
                f"one step, N = {N}, D = {D} inputs, H = {H} hidden units, K = {K} outputs",
                args=(r["x"][:, 0], r["h0"], r["params"]),
                hidden=True,
                outputs=["h_t", "y_t"],
            )
        )
    return cases


def _forward_cases() -> list[Case]:
    cases = [
        Case(name, desc, args=(x, h0, p), outputs=["h", "y", None]) for name, (desc, x, h0, p, _) in PUBLIC_RNNS.items()
    ]
    for name, r in HIDDEN_RNNS.items():
        cases.append(Case(name, r["sizes"], args=(r["x"], r["h0"], r["params"]), hidden=True, outputs=["h", "y", None]))
    return cases


def _wrong_forwards(assignment) -> dict:
    """The catalogued wrong rnn_forward, and the reference's rnn_forward on each catalogued wrong
    rnn_step (as a student's forward built on their step computes): the wrong hidden states
    whose right rnn_backward / hidden_grad_norms a public case ships."""
    out = {}
    ref = assignment.reference
    for mid, m in assignment.mistakes.items():
        if mid not in assignment.mutants:
            continue
        if m.function == "rnn_forward":
            out[mid] = assignment.mutants[mid]
        elif m.function == "rnn_step":
            # the reference loop itself (one source of truth), calling the wrong step
            out[mid] = types.FunctionType(
                ref.rnn_forward.__code__,
                {**ref.rnn_forward.__globals__, "rnn_step": assignment.mutants[mid]},
                "rnn_forward",
            )
    return out


def _with_cache(name, desc, x, h0, params, dy, hidden, outputs, rtol=1e-7) -> list[Case]:
    """Two cases on one rnn: the student's rnn_forward on (x, h0, params), kept in the sandbox
    (its h comes back, uncompared; its cache stays there), then the question's function
    (rnn_backward or hidden_grad_norms) on dy and that cache. ``outputs`` names the
    question's outputs; the OwnInput accepts what a right function returns on the hidden
    states of a catalogued wrong forward."""

    def reference_args(ref, x=x, h0=h0, params=params, dy=dy):
        return (dy, ref.rnn_forward(x, h0, params)[2])

    def own_states_args(ref, h, x=x, h0=h0, params=params, dy=dy):
        # the reference's cache layout with the student's hidden states in it
        return (
            dy,
            (np.array(x), np.array(h0), np.asarray(h, dtype=np.float64), {k: np.array(v) for k, v in params.items()}),
        )

    return [
        Case(
            f"{name}_forward",
            f"rnn_forward on {desc}",
            args=(x, h0, params),
            function="rnn_forward",
            keep=True,
            compare=False,
            # h comes back (to tell a wrong forward from a wrong backward); the cache stays theirs
            outputs=["h", None, None],
            hidden=hidden,
        ),
        Case(
            name,
            desc,
            args=(dy, Ref(f"{name}_forward", 2)),
            reference_args=reference_args,
            hidden=hidden,
            outputs=outputs,
            rtol=rtol,
            own_input=OwnInput(
                f"{name}_forward",
                0,
                "hidden states",
                own_states_args,
                _wrong_forwards,
                see="see rnn_forward, and rnn_step if your rnn_forward calls it",
            ),
        ),
    ]


def _cache_cases(outputs) -> list[Case]:
    cases = []
    for name, (desc, x, h0, p, dy) in PUBLIC_RNNS.items():
        cases += _with_cache(name, desc, x, h0, p, dy, False, outputs)
    for name, r in HIDDEN_RNNS.items():
        desc = r["sizes"] + ", a non-zero dLoss/dy_t at every step"
        cases += _with_cache(name, desc, r["x"], r["h0"], r["params"], r["dy"], True, outputs)
    return cases


# Consistency: numerical gradient of the student's own forward ------------------------

CONS = _random_rnn(301, *CONS_SIZES)
CONS_DESC = "a 1-sequence RNN of 3 steps (D = 2 inputs, H = 3 hidden units, K = 1 output)"


def _perturbed(key: str, index: tuple, delta: float) -> tuple:
    x, h0 = CONS["x"].copy(), CONS["h0"].copy()
    params = {k: v.copy() for k, v in CONS["params"].items()}
    target = {"x": x, "h0": h0}.get(key, params.get(key))
    target[index] += delta
    return (x, h0, params)


def _shape_of(key: str) -> tuple:
    return CONS[key].shape if key in ("x", "h0") else CONS["params"][key].shape


def _consistency_cases() -> list[Case]:
    cases = [
        Case(
            "cons_forward",
            f"rnn_forward on {CONS_DESC}",
            args=(CONS["x"], CONS["h0"], CONS["params"]),
            function="rnn_forward",
            keep=True,
            compare=False,
            outputs=[None, "y", None],
            hidden=True,  # grader-only: the student copy does not run the consistency calls
        ),
        Case(
            "cons_backward",
            f"rnn_backward on {CONS_DESC}",
            args=(CONS["dy"], Ref("cons_forward", 2)),
            compare=False,
            hidden=True,
        ),
    ]
    for key in GRAD_KEYS:
        for index in np.ndindex(*_shape_of(key)):
            for sign, tag in ((1, "p"), (-1, "m")):
                cases.append(
                    Case(
                        f"cons_{key}_{'_'.join(map(str, index))}_{tag}",
                        f"rnn_forward with {key}{list(index)} {'+' if sign > 0 else '-'} {CONS_EPS:g}",
                        args=_perturbed(key, index, sign * CONS_EPS),
                        function="rnn_forward",
                        compare=False,
                        outputs=[None, "y", None],
                        seconds=2.0,
                        hidden=True,
                    )
                )
    return cases


def _numerical_gradients(outcomes: dict, question: str) -> tuple[dict, str | None]:
    """Central differences of sum(dy * y) from the y the student's rnn_forward returned."""
    dy = CONS["dy"]
    grads = {}
    for key in GRAD_KEYS:
        g = np.zeros(_shape_of(key))
        for index in np.ndindex(*g.shape):
            losses = []
            for tag in ("p", "m"):
                o = outcomes[f"{question}/cons_{key}_{'_'.join(map(str, index))}_{tag}"]
                if not o.ok:
                    return (
                        {},
                        f"your rnn_forward failed on a slightly changed {key}: {(o.error or {}).get('message', o.status)}",
                    )
                y = o.value[1] if isinstance(o.value, tuple) and len(o.value) > 1 else None
                if not isinstance(y, np.ndarray) or y.shape != dy.shape:
                    return {}, f"your rnn_forward did not return y of shape {dy.shape} (N, T, K) as its second value"
                losses.append(float(np.sum(dy * y)))
            g[index] = (losses[0] - losses[1]) / (2 * CONS_EPS)
        grads[key] = g
    return grads, None


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-12))


def _forward_differs(assignment, outcome) -> bool:
    """Does the student's rnn_forward give other y than the reference on the consistency RNN?"""
    if assignment.reference is None:
        return False
    ref_y = assignment.reference.rnn_forward(
        CONS["x"].copy(), CONS["h0"].copy(), {k: v.copy() for k, v in CONS["params"].items()}
    )[1]
    got_y = outcome.value[1] if isinstance(outcome.value, tuple) and len(outcome.value) > 1 else None
    return not (
        isinstance(got_y, np.ndarray) and got_y.shape == ref_y.shape and np.allclose(got_y, ref_y, rtol=1e-7, atol=1e-9)
    )


def _not_counted(label: str, details: list[str]) -> Check:
    """A consistency check that failed: shown, but weightless (it can only add credit)."""
    return Check(label, False, 0.0, ["not counted against you: " + details[0], *details[1:]], hidden=True)


def consistency_checks(assignment, question, outcomes) -> list[Check]:
    """Credit that only adds (grader-only, from hidden calls): on a tiny RNN, is rnn_backward
    the true derivative (central differences) of the student's own rnn_forward? Where that
    forward is wrong, a pass earns CONS_WEIGHT per gradient; a fail costs nothing, and with a
    right forward the check is shown only. (A right rnn_backward next to a wrong forward keeps
    its points on the graded cases themselves: their OwnInput.)"""
    q = question.name
    label = (
        "hidden check: d{key} against central differences of your own rnn_forward (numerical check on "
        + CONS_DESC
        + ")"
    )
    fwd, bwd = outcomes[f"{q}/cons_forward"], outcomes[f"{q}/cons_backward"]
    failed = None
    if not fwd.ok:
        failed = error_check(f"rnn_forward on {CONS_DESC}", False, fwd.error or {}, 0)
    elif not bwd.ok:
        failed = error_check(f"rnn_backward on {CONS_DESC}", False, bwd.error or {}, 0)
    if failed is not None:
        reason = ["not checked: " + failed.label] + failed.details
        return [_not_counted(label.format(key=k), reason if k == GRAD_KEYS[0] else ["not checked"]) for k in GRAD_KEYS]
    numerical, problem = _numerical_gradients(outcomes, q)
    if problem:
        return [
            _not_counted(label.format(key=k), [problem] if k == GRAD_KEYS[0] else ["not checked"]) for k in GRAD_KEYS
        ]
    # wrong key names, or not a dict: one line for the whole check (the graded cases above
    # already list the keys found and expected), not one per key
    if structure_problem(bwd.value, GRAD_OUTPUTS) is not None:
        return [
            _not_counted(
                "hidden check: rnn_backward against central differences of your own rnn_forward "
                f"(numerical check on {CONS_DESC})",
                [
                    "not checked: the dict your rnn_backward returned does not hold the gradients under "
                    f"the keys {list(GRAD_KEYS)} (the checks above say which keys it has)"
                ],
            )
        ]
    # is the student's forward the reference's here? (who to name in the feedback)
    forward_differs = _forward_differs(assignment, fwd)
    checks = []
    for key in GRAD_KEYS:
        got = bwd.value.get(key) if isinstance(bwd.value, dict) else None
        lbl = label.format(key=key)
        if not isinstance(got, np.ndarray) or type(got) is not np.ndarray or got.dtype.kind not in "biuf":
            checks.append(_not_counted(lbl, [f"your rnn_backward returned no array under the key {key!r}"]))
            continue
        if got.shape != numerical[key].shape:
            checks.append(_not_counted(lbl, [f"expected shape {numerical[key].shape}, got {got.shape}"]))
            continue
        if float(np.max(np.abs(numerical[key]))) < CONS_FLAT:
            # a forward that ignores this input (e.g. returns zeros): any zero gradient would agree
            checks.append(_not_counted(lbl, [f"your rnn_forward's y does not change with {key}: nothing to check"]))
            continue
        err = _rel_error(got.astype(np.float64), numerical[key])
        measured = f"relative error {err:.2g} against central differences of your rnn_forward (eps = {CONS_EPS:g})"
        if err < CONS_TOL and not forward_differs:
            # their forward is the reference's: the checks against the reference say it all
            checks.append(Check(lbl, True, 0.0, [measured], hidden=True))
        elif err < CONS_TOL:
            details = [
                measured,
                "your rnn_forward is wrong (its y differs from the reference's); your rnn_backward is "
                "consistent with it: it is the true derivative of what your rnn_forward computes, and that "
                "earns this part of the credit. Fix rnn_forward and rnn_backward should follow.",
            ]
            checks.append(Check(lbl, True, CONS_WEIGHT, details, hidden=True))
        elif forward_differs:
            checks.append(
                _not_counted(
                    lbl,
                    [
                        "your rnn_forward is wrong (its y differs from the reference's), and your rnn_backward is "
                        "not its derivative: rnn_backward is judged on the graded cases above",
                        measured,
                    ],
                )
            )
        else:
            checks.append(
                _not_counted(
                    lbl,
                    [
                        "your rnn_backward is not the derivative of your own rnn_forward: walk the forward pass "
                        "backwards step by step (y_t, then h_t, then tanh, then the weights, x_t and h_{t-1})",
                        measured,
                    ],
                )
            )
    return checks


# clip_by_global_norm ------------------------------------------------------------------

CLIP_FIXTURES = {
    "three_four": (
        "two gradients a = [2, 2, 1] and b = [2.4, 3.2] (global norm 5) with max_norm = 2.5",
        {"a": np.array([2.0, 2.0, 1.0]), "b": np.array([2.4, 3.2])},
        2.5,
        False,
    ),
    "below": (
        "the same gradients with max_norm = 10 (no clipping needed)",
        {"a": np.array([2.0, 2.0, 1.0]), "b": np.array([2.4, 3.2])},
        10.0,
        False,
    ),
}


def _clip_hidden():
    r = _random_rnn(401, 2, 3, 3, 4, 2)
    big = {k: v * 10 for k, v in r["params"].items()}
    norm = float(np.sqrt(sum(np.sum(v**2) for v in big.values())))
    yield (
        "hidden_big",
        "the five RNN weight gradients (D = 3, H = 4, K = 2), global norm about 4x max_norm",
        big,
        norm / 4,
        True,
    )
    small = {k: v * 0.1 for k, v in r["params"].items()}
    yield (
        "hidden_small",
        "the five RNN weight gradients (D = 3, H = 4, K = 2), global norm below max_norm",
        small,
        5.0,
        True,
    )
    r2 = _random_rnn(402, 3, 3, 2, 3, 2)
    lopsided = {k: v * (30 if k == "W_hh" else 1) for k, v in r2["params"].items()}
    norm = float(np.sqrt(sum(np.sum(v**2) for v in lopsided.values())))
    yield (
        "hidden_lopsided",
        "the five RNN weight gradients (D = 2, H = 3, K = 2), W_hh's far larger than the rest, global norm 2x max_norm",
        lopsided,
        norm / 2,
        True,
    )
    yield (
        "hidden_just_over",
        "the five RNN weight gradients (D = 3, H = 4, K = 2), global norm just above max_norm",
        r["params"],
        float(np.sqrt(sum(np.sum(v**2) for v in r["params"].values()))) / 1.05,
        True,
    )


for _name, _desc, _grads, _max, _hidden in _clip_hidden():
    CLIP_FIXTURES[_name] = (_desc, _grads, _max, _hidden)


def _clip_cases() -> list[Case]:
    """The clipped dict sits inside a tuple: one compared part per gradient, and the norm."""
    return [
        Case(
            name,
            desc,
            args=(grads, max_norm),
            hidden=hidden,
            outputs=[{k: f"clipped {k}" for k in grads}, "global_norm"],
        )
        for name, (desc, grads, max_norm, hidden) in CLIP_FIXTURES.items()
    ]


def _mse_cases() -> list[Case]:
    y_hat = np.array([[[1.0], [2.0]], [[0.0], [1.0]], [[1.0], [0.0]]])
    cases = [
        Case(
            "three_by_two",
            "3 sequences of 2 steps, 1 output: y_hat = [[1, 2], [0, 1], [1, 0]], y = 0 (loss 0.5 * 7 / 3)",
            args=(y_hat, np.zeros_like(y_hat)),
            outputs=["loss", "dy"],
        ),
        Case(
            "targets",
            "2 sequences of 2 steps, 2 outputs: y_hat = [[[1, 0], [2, 1]], [[0, 0], [1, -1]]], "
            "y = [[[0, 1], [1, 1]], [[0, 2], [0, 0]]] (loss 0.5 * 9 / 2)",
            args=(
                np.array([[[1.0, 0.0], [2.0, 1.0]], [[0.0, 0.0], [1.0, -1.0]]]),
                np.array([[[0.0, 1.0], [1.0, 1.0]], [[0.0, 2.0], [0.0, 0.0]]]),
            ),
            outputs=["loss", "dy"],
        ),
    ]
    for seed, shape in ((501, (3, 4, 2)), (502, (5, 3, 3))):
        rng = seeded(seed)
        cases.append(
            Case(
                f"hidden_{seed}",
                f"N = {shape[0]} sequences of T = {shape[1]} steps, K = {shape[2]} outputs",
                args=(rng.normal(size=shape), rng.normal(size=shape)),
                hidden=True,
                outputs=["loss", "dy"],
            )
        )
    return cases


# relu_rnn_grad_norms, and the lecture's story of the remedies --------------------------
#
# The story: the whole loss on the last output of a 20-step sequence, so that everything
# reaching h_1 has come back through 19 steps, each multiplying it by diag(f'(a_t)) W_hh.T.
#
# tanh, W_hh = 0.5 Q (Q orthogonal): ||dh_{t-1}|| = 0.5 ||(dh_t * tanh'(a_t)) Q.T|| <= 0.5
# ||dh_t||, since 0 < tanh' <= 1 and Q keeps norms; so ||dh_1|| <= 0.5**19 ||dh_T|| = 1.9e-6
# ||dh_T||, whatever x and the other weights: the threshold 1e-3 holds with a margin of 500.
# ReLU, W_hh = I: dh_{t-1} = dh_t * relu'(a_t), and relu' = 1 wherever a_t > 0. b_h = 0.5 is
# larger than every |x_t @ W_xh| here (0.28 at most; tests/assignments/rnn/test_rnn_reference.py asserts < 0.5),
# so by induction from h0 = 0 every a_t >= b_h - |x_t @ W_xh| > 0: every unit is active at
# every step and ||dh_1|| = ||dh_T|| exactly. Any ratio in [0.1, 10] reads as "kept"; a right
# function gives 1, and tanh in place of ReLU (relu_norms_tanh_forward) gives ~1e-7.
STORY_T = 20
STORY_RATIO_VANISHED = 1e-3  # tanh, small W_hh: norm at t = 1 below this times the norm at t = T
STORY_RATIO_KEPT = (0.1, 10.0)  # ReLU, W_hh = I: within these factors of the norm at t = T


def _story(seed: int, N: int = 2, D: int = 3, H: int = 6, K: int = 1) -> dict:
    """x, h0 = 0, dy on the last step only, and the weights but W_hh (chosen per experiment)."""
    rng = seeded(seed)
    dy = np.zeros((N, STORY_T, K))
    dy[:, -1] = rng.normal(0, 1.0, (N, K))
    q, _ = np.linalg.qr(rng.normal(size=(H, H)))
    base = {
        "W_xh": rng.normal(0, 0.5, (D, H)),
        "W_hy": rng.normal(0, 0.5, (H, K)),
        "b_h": np.full(H, 0.5),
        "b_y": np.zeros(K),
    }
    return {
        "x": rng.normal(0, 0.1, (N, STORY_T, D)),
        "h0": np.zeros((N, H)),
        "dy": dy,
        "tanh_small": {**base, "W_hh": 0.5 * q},
        "relu_identity": {**base, "W_hh": np.eye(H)},
        "sizes": f"N = {N}, T = {STORY_T} steps, D = {D}, H = {H}, K = {K}, the loss on the last output only",
    }


STORY = _story(601)
STORY_HIDDEN = _story(602, N=3, D=2, H=5, K=2)


def _relu_cases() -> list[Case]:
    cases = [
        Case(
            "one",
            "a 1-unit ReLU RNN over 3 steps (x = 1, 0, -1; h0 = 0; W_xh = 1, W_hh = 0.5, b_h = 0.25, "
            "W_hy = 2, b_y = 0.1; dLoss/dy_t = 1): a = 1.25, 0.875, -0.3125, so the last unit is off "
            "and the norms are 3, 2, 2",
            args=(ONE_DY, ONE_X, ONE_H0, ONE_UNIT),
        ),
        Case(
            "small",
            "a batch of 2 sequences of 3 steps, 2 inputs, 3 hidden units, 1 output (round weights)",
            args=(SMALL_DY, SMALL_X, SMALL_H0, SMALL),
        ),
        Case(
            "relu_identity",
            f"the remedy: W_hh = I, b_h = 0.5 ({STORY['sizes']})",
            args=(STORY["dy"], STORY["x"], STORY["h0"], STORY["relu_identity"]),
        ),
        Case(
            "hidden_relu_identity",
            f"the remedy: W_hh = I, b_h = 0.5 ({STORY_HIDDEN['sizes']})",
            args=(STORY_HIDDEN["dy"], STORY_HIDDEN["x"], STORY_HIDDEN["h0"], STORY_HIDDEN["relu_identity"]),
            hidden=True,
        ),
    ]
    for name, r in HIDDEN_RNNS.items():
        cases.append(
            Case(
                name,
                r["sizes"] + ", a non-zero dLoss/dy_t at every step",
                args=(r["dy"], r["x"], r["h0"], r["params"]),
                hidden=True,
            )
        )
    return cases


def _story_tanh_cases() -> list[Case]:
    """The problem, from the student's tanh functions (grader-only; judged by
    vanishing_check below, not against the reference)."""
    return [
        Case(
            "story_tanh_forward",
            f"rnn_forward with W_hh = 0.5 x an orthogonal matrix ({STORY['sizes']})",
            args=(STORY["x"], STORY["h0"], STORY["tanh_small"]),
            function="rnn_forward",
            keep=True,
            compare=False,
            outputs=["h", None, None],  # h comes back: is their forward the reference's here?
            hidden=True,
        ),
        Case(
            "story_tanh_norms",
            f"hidden_grad_norms with W_hh = 0.5 x an orthogonal matrix ({STORY['sizes']})",
            args=(STORY["dy"], Ref("story_tanh_forward", 2)),
            compare=False,
            hidden=True,
        ),
    ]


def _story_ratio(outcome, function: str) -> tuple[float | None, str]:
    """norm at t = 1 / norm at t = T from a norms outcome, or None and why not."""
    if not outcome.ok:
        return None, f"your {function} failed: {(outcome.error or {}).get('message', outcome.status)}"
    v = outcome.value
    if type(v) is not np.ndarray or v.shape != (STORY_T,) or v.dtype.kind not in "biuf":
        return None, f"your {function} did not return an array of shape ({STORY_T},)"
    v = v.astype(np.float64)
    if not np.all(np.isfinite(v)) or v[-1] <= 0:
        return None, f"your {function}'s norms are not finite, or the norm at t = T is not positive"
    return float(v[0] / v[-1]), f"norm at t = 1 / norm at t = T = {float(v[0] / v[-1]):.3g}"


def _story_forward_differs(assignment, outcome) -> bool:
    """Are the hidden states of the student's rnn_forward on the story other than the reference's?"""
    if assignment.reference is None:
        return False
    ref_h = assignment.reference.rnn_forward(STORY["x"].copy(), STORY["h0"].copy(), dict(STORY["tanh_small"]))[0]
    got = outcome.value[0] if isinstance(outcome.value, tuple) and outcome.value else None
    return not (type(got) is np.ndarray and got.shape == ref_h.shape and np.allclose(got, ref_h, rtol=1e-7, atol=1e-9))


def vanishing_check(assignment, question, outcomes) -> list[Check]:
    """Graded (hidden) on hidden_grad_norms: with tanh and W_hh = 0.5 Q, the student's own
    rnn_forward and hidden_grad_norms show the gradient vanishing (closed form: see STORY_T).
    A failure caused by a wrong rnn_forward is not counted (a right function never loses
    points to a wrong one)."""
    q = question.name
    label = (
        "hidden check: the problem: with tanh and W_hh = 0.5 x an orthogonal matrix, the gradient vanishes "
        f"(norm at t = 1 below {STORY_RATIO_VANISHED:g} x the norm at t = T; {STORY['sizes']})"
    )
    fwd = outcomes[f"{q}/story_tanh_forward"]
    if not fwd.ok:
        why = f"your rnn_forward failed: {(fwd.error or {}).get('message', fwd.status)}"
        return [Check(label, False, 0.0, ["not counted against you: " + why, "see rnn_forward"], hidden=True)]
    ratio, why = _story_ratio(outcomes[f"{q}/story_tanh_norms"], "hidden_grad_norms")
    if ratio is not None and ratio < STORY_RATIO_VANISHED:
        return [Check(label, True, 1.0, [why], hidden=True)]
    if _story_forward_differs(assignment, fwd):
        details = ["not counted against you: your rnn_forward is wrong here (see rnn_forward)", why]
        return [Check(label, False, 0.0, details, hidden=True)]
    details = [
        why,
        "each step back multiplies dLoss/dh_t by (1 - h_t**2) and 0.5 x an orthogonal W_hh.T: by 0.5 at most",
    ]
    return [Check(label, False, 1.0, details, hidden=True)]


def identity_check(assignment, question, outcomes) -> list[Check]:
    """Graded (hidden) on relu_rnn_grad_norms: with ReLU and W_hh = I (every unit active) the
    student's norms keep the gradient (closed form: see STORY_T)."""
    lo, hi = STORY_RATIO_KEPT
    ratio, why = _story_ratio(outcomes[f"{question.name}/relu_identity"], "relu_rnn_grad_norms")
    kept = ratio is not None and lo <= ratio <= hi
    details = [why]
    if ratio is not None and not kept:
        details.append("every unit is active here (a_t > 0), so relu' = 1 and W_hh = I pass the gradient unchanged")
    label = (
        "hidden check: the remedy: with ReLU and W_hh = I the gradient is kept "
        f"(norm at t = 1 within {lo:g} to {hi:g} x the norm at t = T; {STORY['sizes']})"
    )
    return [Check(label, kept, 1.0, details, hidden=True)]


CHECKS = {
    "rnn_backward": consistency_checks,
    "hidden_grad_norms": vanishing_check,
    "relu_rnn_grad_norms": identity_check,
}


def cases() -> dict[str, list[Case]]:
    return {
        "rnn_step": _step_cases(),
        "rnn_forward": _forward_cases(),
        "rnn_backward": _cache_cases(GRAD_OUTPUTS) + _consistency_cases(),
        "mse_loss": _mse_cases(),
        "clip_by_global_norm": _clip_cases(),
        "hidden_grad_norms": _cache_cases(None) + _story_tanh_cases(),
        "relu_rnn_grad_norms": _relu_cases(),
    }
