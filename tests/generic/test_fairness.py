"""Each function judged on its own: a right function never pays for another function's mistake.

A function that calls the student's other functions (assignment.toml [uses]) is right when it
equals the reference, or the reference composition over the student's own parts as they are
(composite.py). Its feedback names the part that is wrong, raised, is missing or never ends.
Also here: arguments reach the student's functions with their Python types, and the messages
that used to mislead (NaN, functions not defined by a top-level def).
"""

from __future__ import annotations

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from deepgrade.course import contract
from deepgrade.portable import wire
from deepgrade.portable.compare import value_details
from helpers import ROOT, filled_notebook, grade_notebook, mutant_notebook, question


def details(q) -> str:
    return "\n".join(d for c in q.checks for d in c.details)


@pytest.fixture(scope="module")
def cnn():
    return asg.load("cnn", ROOT)


def test_a_right_cnn_forward_over_a_wrong_relu_keeps_full_marks_and_says_why(tmp_path):
    result = grade_notebook("cnn", mutant_notebook("cnn", "leaky_relu"), tmp_path)
    forward, relu = question(result, "cnn_forward"), question(result, "relu")
    assert forward.points == forward.max_points
    assert relu.points < relu.max_points  # the mistake is charged once, under relu
    text = details(forward)
    assert "right given your relu: your relu differs from the reference (see relu)" in text
    assert "leaky" not in text  # the part's own diagnosis belongs under relu


def test_a_wrong_cnn_forward_still_loses_next_to_right_and_wrong_parts(tmp_path):
    no_relu = asg.load("cnn", ROOT).mutants["forward_no_relu"]
    right_parts = grade_notebook("cnn", filled_notebook("cnn", {"cnn_forward": no_relu}), tmp_path, "a.ipynb")
    assert question(right_parts, "cnn_forward").points <= 0.5 * question(right_parts, "cnn_forward").max_points
    no_softmax = asg.load("cnn", ROOT).mutants["forward_no_softmax"]  # calls relu, forgets softmax
    both = filled_notebook("cnn", {"cnn_forward": no_softmax, "relu": asg.load("cnn", ROOT).mutants["leaky_relu"]})
    wrong_part = grade_notebook("cnn", both, tmp_path, "b.ipynb")
    q = question(wrong_part, "cnn_forward")
    assert q.points <= 0.5 * q.max_points
    assert "your relu differs from the reference here (see relu); your cnn_forward does not return" in details(q)


def test_a_stub_part_is_named_as_the_cause_and_the_composite_is_not_called_unimplemented(tmp_path, cnn):
    stub = "def zero_pad(x, pad):\n    raise NotImplementedError\n"
    q = question(grade_notebook("cnn", filled_notebook("cnn", {"zero_pad": stub}), tmp_path), "conv2d")
    text = details(q)
    assert "your zero_pad raised NotImplementedError when your conv2d called it" in text
    assert "fix zero_pad first" in text
    assert "not implemented yet" not in text and "write the function" not in text


def test_a_missing_part_is_named(tmp_path):
    nb = filled_notebook("cnn")
    for cell in nb.cells:  # the student deleted their relu
        if cell.cell_type == "code" and "def relu(" in cell.source:
            cell.source = cell.source.replace("def relu(", "def relu_unused(")
    q = question(grade_notebook("cnn", nb, tmp_path), "cnn_forward")
    assert "your cnn_forward calls relu, which is not defined in the notebook: define relu first" in details(q)


def test_a_part_that_never_ends_is_named_under_the_composite(tmp_path):
    endless = "def conv2d(x, kernels, bias, stride=1, padding=0):\n    while True:\n        pass\n"
    q = question(grade_notebook("cnn", filled_notebook("cnn", {"conv2d": endless}), tmp_path), "cnn_forward")
    assert "your conv2d did not finish on its own checks either" in details(q)


def test_a_part_whose_value_no_right_composite_can_use_is_named(tmp_path):
    # pooling that drops the edges makes the flattened map too short for W: any dense raises
    q = question(grade_notebook("cnn", mutant_notebook("cnn", "pool_drops_edges"), tmp_path), "cnn_forward")
    text = details(q)
    assert "your max_pool2d differs from the reference here (see max_pool2d)" in text
    assert "as it would in a right cnn_forward: fix max_pool2d first" in text


def test_uses_must_name_other_questions_and_no_cycle(tmp_path):
    base = {"questions": {"f": 1, "g": 1}}
    with pytest.raises(contract.AssignmentError, match=r"\[uses\] f: 'h' is not another question"):
        contract.check({**base, "uses": {"f": ["h"]}}, tmp_path / "a.toml", "a")
    with pytest.raises(contract.AssignmentError, match="a cycle"):
        contract.check({**base, "uses": {"f": ["g"], "g": ["f"]}}, tmp_path / "a.toml", "a")
    assert contract.check({**base, "uses": {"f": ["g"]}}, tmp_path / "a.toml", "a").uses == {"f": ["g"]}


# --------------------------------------------------------------------------- arguments


def test_values_keep_their_python_types_on_the_wire():
    values = [3, 2.5, True, [1, 2], (1, [2.0]), np.float64(0.5), np.int64(7), np.array(3.0), {"k": [1]}, None, "same"]
    for v in values:
        back = wire.decode(wire.loads(wire.dumps(wire.encode(v))))
        assert type(back) is type(v) or (isinstance(v, np.ndarray) and isinstance(back, np.ndarray)), (v, back)
        if isinstance(v, list):
            assert back == v
    assert type(wire.decode(wire.encode(2**70))) is wire.Opaque  # beyond int64: only its type crosses


def test_a_function_that_checks_its_argument_types_gets_full_marks(tmp_path):
    # stride and padding are whole numbers in the notebook's docstring: isinstance(stride, int) holds
    strict = """
def conv2d(x, kernels, bias, stride=1, padding=0):
    assert isinstance(stride, int) and isinstance(padding, int), (type(stride), type(padding))
    xp = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    kh, kw, _, c_out = kernels.shape
    h_out, w_out = (xp.shape[0] - kh) // stride + 1, (xp.shape[1] - kw) // stride + 1
    out = np.zeros((h_out, w_out, c_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            out[i, j] = np.tensordot(window, kernels, axes=3) + bias
    return out
"""
    q = question(grade_notebook("cnn", filled_notebook("cnn", {"conv2d": strict}), tmp_path), "conv2d")
    assert q.points == q.max_points, details(q)


def test_scikit_learn_train_test_split_gets_full_marks_in_the_grade_and_in_grader_check(tmp_path):
    pytest.importorskip("sklearn", reason="scikit-learn is part of the keras extra")
    from deepgrade.grading import notebook as nbmod
    from deepgrade.grading import pipeline
    from deepgrade.portable import student_runner
    from deepgrade.publish.student import public_data

    source = """
def split_chronological(X, y, n_test):
    from sklearn.model_selection import train_test_split
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=n_test, shuffle=False)
    return X_train, y_train, X_test, y_test
"""
    a = asg.load("keras", ROOT)
    nb = filled_notebook("keras", {"split_chronological": source})
    results, _ = pipeline.grade_cells(a, nbmod.code_cells(nb), questions=["split_chronological"])
    q = results[0]
    assert q.points == q.max_points, details(q)
    data = tmp_path / "public.json"
    data.write_text(wire.dumps(public_data(a)))
    namespace: dict = {}
    exec(compile(source, "<cell>", "exec"), namespace)
    points, max_points, checks = student_runner.run_question("split_chronological", namespace, data)
    assert points == max_points > 0, [c.details for c in checks if not c.passed]


# --------------------------------------------------------------------------- messages


def test_nan_and_infinities_are_reported_as_such():
    expected = np.array([1.0, 2.0, 3.0, 4.0])
    got = np.array([1.0, np.nan, 3.0 + 1e-6, np.inf])
    lines = value_details(expected, got, 1e-7, 1e-9, hidden=False)
    assert "1 of 4 values are NaN; the first at index 1" in lines
    assert "1 of 4 values are infinite; the first at index 3" in lines
    assert any(line.startswith("largest difference over the 2 cells that are finite 1e-06") for line in lines)
    hidden = value_details(expected, got, 1e-7, 1e-9, hidden=True)
    assert not any(line.startswith("at index") for line in hidden)  # no expected value on a hidden check


def test_a_function_defined_by_a_lambda_or_inside_an_if_is_found(tmp_path):
    nb = filled_notebook("cnn")
    for cell in nb.cells:
        if cell.cell_type == "code" and "def dense(" in cell.source:
            cell.source = "dense = lambda x, W, b: x @ W + b\n"
        if cell.cell_type == "code" and "def flatten(" in cell.source:
            cell.source = "if True:\n    def flatten(x):\n        raise ValueError('flatten failed on purpose')\n"
    result = grade_notebook("cnn", nb, tmp_path)
    assert question(result, "dense").points == question(result, "dense").max_points
    text = details(question(result, "flatten"))
    assert "raised ValueError: flatten failed on purpose" in text
    assert "no function named flatten" not in text


def test_the_replay_ignores_records_far_larger_than_the_case(cnn):
    """A forged record of a huge part value (the student's process may send one) is not used: the
    grader's own work on a case stays within a few times what the case itself costs."""
    from deepgrade.grading import dependencies
    from deepgrade.portable.dependencies import Record

    q = cnn.question("cnn_forward")
    case = next(c for c in q.cases if not c.hidden)
    image, params = cnn._reference_args(case)
    bound = (image, params["kernels"], params["conv_bias"], 1, 0)
    conv = cnn.reference.conv2d(*bound)
    parts = cnn.uses["cnn_forward"]
    small = [Record("conv2d", bound, conv + 1.0)]  # a wrong conv2d of the right size: used
    used = dependencies.replay_case(cnn, q, case, small, parts)
    assert used.wrong == ["conv2d"]
    huge = np.ones((conv.shape[0] * 40, conv.shape[1] * 40, conv.shape[2]))
    assert huge.size > dependencies.record_limit(cnn, q, case)
    ignored = dependencies.replay_case(cnn, q, case, [Record("conv2d", bound, huge)], parts)
    assert ignored.wrong == [] and not ignored.failed  # the reference answered instead
