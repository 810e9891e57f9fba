"""Fixtures of the gated assignment: small public cases to check by hand, seeded hidden cases.

Public cases use one or two units, one or two samples and round weights. Hidden cases have
N > 1, T >= 3, D != H and non-zero biases, so that a swapped axis, a swapped gate or a
hard-coded answer never earns full marks. Only inputs live here: every expected value is
computed by the grader from the reference at grading time.
"""

from __future__ import annotations

import numpy as np

from deepgrade.course.assignment import Case, seeded
from deepgrade.grading.plan import call_id
from deepgrade.portable.compare import same_output
from deepgrade.portable.feedback import Check

LSTM_OUTPUTS = [
    "h_t",
    "c_t",
    {"f": "forget gate f", "i": "input gate i", "c_tilde": "candidate c_tilde", "o": "output gate o"},
]
GRU_OUTPUTS = ["h_t", {"z": "update gate z", "r": "reset gate r", "h_tilde": "candidate h_tilde"}]


def arr(values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def small_lstm() -> dict:
    """One unit, one input feature: each W is (2, 1), row 0 multiplies h, row 1 multiplies x."""
    return {
        "W_f": arr([[0.5], [-1.0]]),
        "W_i": arr([[2.0], [0.5]]),
        "W_c": arr([[-0.5], [1.0]]),
        "W_o": arr([[1.0], [1.0]]),
        "b_f": arr([1.0]),
        "b_i": arr([0.0]),
        "b_c": arr([0.0]),
        "b_o": arr([0.0]),
    }


def small_gru() -> dict:
    """One unit, one input feature: each W is (2, 1), row 0 multiplies h, row 1 multiplies x."""
    return {
        "W_z": arr([[0.5], [-1.0]]),
        "W_r": arr([[1.0], [0.5]]),
        "W_h": arr([[-1.0], [1.0]]),
        "b_z": arr([0.0]),
        "b_r": arr([0.0]),
        "b_h": arr([0.5]),
    }


def small_gru_2x3() -> dict:
    """Two units, three input features: each W is (5, 2), rows 0-1 multiply h, rows 2-4 multiply x."""
    grid = np.arange(10).reshape(5, 2) % 5 * 0.5 - 1.0  # -1, -0.5, 0, 0.5, 1
    return {
        "W_z": grid,
        "W_r": grid[::-1].copy(),
        "W_h": np.roll(grid, 1, axis=0),
        "b_z": arr([0.5, 0.0]),
        "b_r": arr([0.0, -0.5]),
        "b_h": arr([0.5, 0.5]),
    }


def random_params(rng: np.random.Generator, gates: str, D: int, H: int) -> dict:
    p = {f"W_{g}": rng.normal(0, 0.6, (H + D, H)) for g in gates}
    p |= {f"b_{g}": rng.normal(0, 0.5, H) for g in gates}
    return p


def mask(rng: np.random.Generator, shape: tuple[int, int], rate: float) -> np.ndarray:
    """0 or 1 / (1 - rate), with at least one of each."""
    m = (rng.random(shape) >= rate).astype(np.float64)
    m.flat[0], m.flat[-1] = 1.0, 0.0
    return m / (1.0 - rate)


def cases() -> dict[str, list[Case]]:
    rng = seeded(20261127)
    lstm1, gru1 = small_lstm(), small_gru()

    # ---------------------------------------------------------------- lstm_step
    lstm_step = [
        Case(
            "one_unit",
            "an LSTM with 1 unit on one step (x_t = 1, h_prev = 0.5, c_prev = 2)",
            (arr([[1.0]]), arr([[0.5]]), arr([[2.0]]), lstm1),
            outputs=LSTM_OUTPUTS,
        ),
        Case(
            "one_unit_two_samples",
            "an LSTM with 1 unit on one step, a batch of 2 samples",
            (arr([[1.0], [-2.0]]), arr([[0.5], [0.0]]), arr([[2.0], [-1.0]]), lstm1),
            outputs=LSTM_OUTPUTS,
        ),
    ]
    for n, d, h in ((3, 4, 2), (2, 2, 5)):
        lstm_step.append(
            Case(
                f"hidden_{n}x{d}_H{h}",
                f"an LSTM step, {n} samples, D = {d} inputs, H = {h} units, non-zero biases",
                (
                    rng.normal(size=(n, d)),
                    rng.normal(size=(n, h)),
                    rng.normal(size=(n, h)) * 2,
                    random_params(rng, "fico", d, h),
                ),
                outputs=LSTM_OUTPUTS,
                hidden=True,
            )
        )

    # ---------------------------------------------------------------- lstm_forward
    lstm_forward = [
        Case(
            "one_unit_three_steps",
            "an LSTM with 1 unit over 3 steps (x = 1, 0, -1), zero initial states",
            (arr([[[1.0], [0.0], [-1.0]]]), arr([[0.0]]), arr([[0.0]]), lstm1),
            outputs=["h", "c"],
        ),
        Case(
            "hidden_3x5",
            "an LSTM over T = 5 steps, 3 samples, D = 4, H = 3, random initial states",
            (
                rng.normal(size=(3, 5, 4)),
                rng.normal(size=(3, 3)),
                rng.normal(size=(3, 3)),
                random_params(rng, "fico", 4, 3),
            ),
            outputs=["h", "c"],
            hidden=True,
        ),
    ]

    # ---------------------------------------------------------------- gru_step
    gru_step = [
        Case(
            "one_unit",
            "a GRU with 1 unit on one step (x_t = 1, h_prev = 0.5)",
            (arr([[1.0]]), arr([[0.5]]), gru1),
            outputs=GRU_OUTPUTS,
        ),
        Case(
            # 2 units: with 1 unit the reset gate before and after the product agree
            "two_units_two_samples",
            "a GRU with 2 units on one step, a batch of 2 samples, D = 3, weights from -1 to 1 in steps of 0.5",
            (arr([[1.0, -1.0, 0.5], [-0.5, 0.0, 1.0]]), arr([[0.5, -0.5], [-1.0, 0.25]]), small_gru_2x3()),
            outputs=GRU_OUTPUTS,
        ),
        Case(
            "two_units",
            "a GRU with 2 units on one step, 1 sample, D = 3, weights from -1 to 1 in steps of 0.5",
            (arr([[1.0, -1.0, 0.5]]), arr([[0.5, -0.5]]), small_gru_2x3()),
            outputs=GRU_OUTPUTS,
        ),
    ]
    for n, d, h in ((3, 4, 2), (2, 2, 5), (4, 3, 3)):
        gru_step.append(
            Case(
                f"hidden_{n}x{d}_H{h}",
                f"a GRU step, {n} samples, D = {d} inputs, H = {h} units, non-zero biases",
                (rng.normal(size=(n, d)), rng.normal(size=(n, h)), random_params(rng, "zrh", d, h)),
                outputs=GRU_OUTPUTS,
                hidden=True,
            )
        )

    # ---------------------------------------------------------------- gru_forward
    x3 = arr([[[1.0], [0.0], [-1.0]]])
    p2 = random_params(rng, "zrh", 3, 2)
    gru_forward = [
        Case("no_masks", "a GRU with 1 unit over 3 steps (x = 1, 0, -1), no dropout", (x3, arr([[0.5]]), gru1)),
        Case(
            "masks_one_unit",
            "a GRU with 1 unit over 3 steps, 2 samples, masks keep sample 0 (x 2) and drop sample 1",
            (arr([[[1.0], [0.0], [-1.0]], [[0.5], [0.5], [0.5]]]), arr([[0.5], [0.5]]), gru1),
            kwargs={"input_mask": arr([[2.0], [0.0]]), "recurrent_mask": arr([[2.0], [0.0]])},
        ),
        Case(
            "masks_two_units",
            "a GRU with 2 units over 3 steps, 1 sample, D = 3; input mask [2, 0, 2], recurrent mask [0, 2]",
            (rng.normal(size=(1, 3, 3)).round(1), arr([[0.5, -0.5]]), p2),
            kwargs={"input_mask": arr([[2.0, 0.0, 2.0]]), "recurrent_mask": arr([[0.0, 2.0]])},
        ),
        Case(
            "hidden_no_masks",
            "a GRU over T = 4 steps, 3 samples, D = 5, H = 3, no dropout",
            (rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 3)), random_params(rng, "zrh", 5, 3)),
            hidden=True,
        ),
    ]
    for n, t, d, h, rate in ((3, 5, 4, 6, 0.5), (4, 3, 6, 2, 0.25), (2, 4, 3, 3, 0.4)):
        gru_forward.append(
            Case(
                f"hidden_masks_{n}x{t}",
                f"a GRU over T = {t} steps, {n} samples, D = {d}, H = {h}, input and recurrent dropout rate {rate}",
                (rng.normal(size=(n, t, d)), rng.normal(size=(n, h)), random_params(rng, "zrh", d, h)),
                kwargs={"input_mask": mask(rng, (n, d), rate), "recurrent_mask": mask(rng, (n, h), rate)},
                hidden=True,
            )
        )
    # one mask at a time, on more steps and units: a mask drawn anew at each step, or the wrong
    # mask on the wrong input, cannot agree with the given one by chance here
    gru_forward += [
        Case(
            "hidden_recurrent_mask_only",
            "a GRU over T = 6 steps, 3 samples, D = 3, H = 5, recurrent dropout rate 0.5 only",
            (rng.normal(size=(3, 6, 3)), rng.normal(size=(3, 5)), random_params(rng, "zrh", 3, 5)),
            kwargs={"recurrent_mask": mask(rng, (3, 5), 0.5)},
            hidden=True,
        ),
        Case(
            "hidden_input_mask_only",
            "a GRU over T = 5 steps, 2 samples, D = 6, H = 4, input dropout rate 0.5 only",
            (rng.normal(size=(2, 5, 6)), rng.normal(size=(2, 4)), random_params(rng, "zrh", 6, 4)),
            kwargs={"input_mask": mask(rng, (2, 6), 0.5)},
            hidden=True,
        ),
    ]

    # ---------------------------------------------------------------- bidirectional_forward
    gru1b = {k: -v for k, v in gru1.items()}
    bidirectional_forward = [
        Case(
            "gru_concat",
            "two GRUs with 1 unit over 3 steps (x = 1, 0, -1), merge 'concat'",
            (x3, gru1, gru1b),
            kwargs={"cell": "gru", "merge": "concat"},
        ),
        Case(
            "gru_sum",
            "two GRUs with 1 unit over 3 steps (x = 1, 0, -1), merge 'sum'",
            (x3, gru1, gru1b),
            kwargs={"cell": "gru", "merge": "sum"},
        ),
        Case(
            "gru_ave",
            "two GRUs with 1 unit over 3 steps (x = 1, 0, -1), merge 'ave'",
            (x3, gru1, gru1b),
            kwargs={"cell": "gru", "merge": "ave"},
        ),
        Case(
            "lstm_concat",
            "two LSTMs with 1 unit over 3 steps (x = 1, 0, -1), the second with negated weights, merge 'concat'",
            (x3, lstm1, {k: -v for k, v in lstm1.items()}),
            kwargs={"cell": "lstm", "merge": "concat"},
        ),
    ]
    for cell, merge, (n, t, d, h) in (
        ("gru", "concat", (2, 4, 3, 2)),
        ("gru", "ave", (3, 3, 2, 4)),
        ("lstm", "concat", (2, 5, 4, 3)),
        ("lstm", "sum", (3, 3, 2, 2)),
        ("lstm", "ave", (2, 4, 3, 5)),
    ):
        gates = "zrh" if cell == "gru" else "fico"
        bidirectional_forward.append(
            Case(
                f"hidden_{cell}_{merge}",
                f"{cell.upper()}s over T = {t} steps, {n} samples, D = {d}, H = {h}, merge '{merge}'",
                (rng.normal(size=(n, t, d)), random_params(rng, gates, d, h), random_params(rng, gates, d, h)),
                kwargs={"cell": cell, "merge": merge},
                hidden=True,
            )
        )

    # ---------------------------------------------------------------- embedding_lookup
    E4 = arr([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    embedding_lookup = [
        Case("small", "ids [[1, 3, 1]] in a 4 x 2 table", (np.array([[1, 3, 1]]), E4)),
        Case(
            "negative_id",
            "ids [[2, -1]] in a 4 x 2 table (-1 is out of range)",
            (np.array([[2, -1]]), E4),
            expect_error=IndexError,
        ),
        Case(
            "hidden_3x5",
            "ids of shape (3, 5) in a 10 x 3 table",
            (rng.integers(0, 10, size=(3, 5)), rng.normal(size=(10, 3))),
            hidden=True,
        ),
        Case(
            "hidden_too_large",
            "ids of shape (2, 4) in a 6 x 3 table, one id equal to 6",
            (np.array([[0, 5, 6, 1], [2, 2, 3, 4]]), rng.normal(size=(6, 3))),
            expect_error=IndexError,
            hidden=True,
        ),
    ]

    return {
        "lstm_step": lstm_step,
        "lstm_forward": lstm_forward,
        "gru_step": gru_step,
        "gru_forward": gru_forward,
        "bidirectional_forward": bidirectional_forward,
        "embedding_lookup": embedding_lookup,
    }


def out_of_range_diagnosis(assignment, question, outcomes) -> list[Check]:
    """A call that should have raised but returned: say which known mistake it matches.

    The expect_error check already costs the points; this line (weight 0) only names the mistake.
    """
    checks = []
    for case in question.cases:
        outcome = outcomes.get(call_id(question.name, case))
        if case.expect_error is None or outcome is None or not outcome.ok:
            continue
        for mid, out in assignment.mutant_outputs(case, question.name).items():
            if same_output(outcome.value, out, case.rtol, case.atol):
                m = assignment.mistakes[mid]
                checks.append(
                    Check(f"why {case.description} did not raise", False, 0.0, [m.explanation], [mid], case.hidden)
                )
                break
    return checks


CHECKS = {"embedding_lookup": out_of_range_diagnosis}
