"""Grading the `gated` assignment: gate-by-gate feedback, a wrong gates dict, the gradebook of
the CLI, and each mistake named alone. What every numpy assignment shares (full marks, zero,
the catalogue) is in test_every_assignment.py."""

from __future__ import annotations

import csv
import inspect
import tomllib

import nbformat
import numpy as np
import pytest
from inprocess import grade

from deepgrade.course import assignment as asg
from deepgrade.portable import outputs
from helpers import ROOT, diagnoses, filled_notebook, grade_notebook, mutant_notebook, question

MISTAKES = tomllib.loads((ROOT / "assignments" / "gated" / "mistakes.toml").read_text())


@pytest.fixture(scope="module")
def gated():
    return asg.load("gated", ROOT)


# The reference notebook's full marks, the untouched notebook's zero, the catalogue, every
# mistake's feedback in the graded notebook and the hidden checks of every mutant:
# tests/generic/test_every_assignment.py. Each mistake is also on a public case: test_catalogue.py.


@pytest.mark.parametrize("mid", sorted(MISTAKES))
def test_each_mistake_is_the_only_one_named(gated, mid):
    """The evidence of a gated mistake matches that mistake only (graded in this process)."""
    fn = MISTAKES[mid]["function"]
    q = grade(gated, gated.question(fn), {fn: gated.mutants[mid]})
    assert diagnoses(q) == {mid}, f"{mid} on {fn}: {diagnoses(q)}"


def _failed_labels(q):
    return [c.label for c in q.checks if not c.passed and c.weight > 0]


def test_gate_by_gate_feedback_names_the_wrong_gate(tmp_path):
    # forget and input gates swapped: only f and i fail; the candidate and output gate pass
    result = grade_notebook("gated", mutant_notebook("gated", "lstm_forget_input_swapped"), tmp_path)
    failed = _failed_labels(question(result, "lstm_step"))
    assert any(label.startswith("forget gate f on ") for label in failed)
    assert any(label.startswith("input gate i on ") for label in failed)
    assert not any(label.startswith(("candidate c_tilde", "output gate o")) for label in failed)


def test_gate_by_gate_feedback_gru_reset_after(tmp_path):
    # reset after the product: z and r are right, only the candidate (and so h_t) is wrong
    result = grade_notebook("gated", mutant_notebook("gated", "gru_reset_after"), tmp_path)
    q = question(result, "gru_step")
    failed = _failed_labels(q)
    assert any(label.startswith("candidate h_tilde on ") for label in failed)
    assert not any(label.startswith(("update gate z", "reset gate r")) for label in failed)
    cand = next(c for c in q.checks if c.label.startswith("candidate h_tilde on ") and not c.passed)
    assert "gru_reset_after" in cand.diagnosis


def test_keras_update_convention_diagnosed_on_h_t_only(tmp_path):
    result = grade_notebook("gated", mutant_notebook("gated", "gru_keras_update"), tmp_path)
    q = question(result, "gru_step")
    failed = _failed_labels(q)
    assert failed and all(label.startswith("h_t on ") for label in failed)


def test_wrong_gates_dict_reported_as_missing_not_crash(tmp_path):
    src = inspect.getsource(asg.load("gated", ROOT).reference.lstm_step)
    src = src.replace('return h_t, c_t, {"f": f, "i": i, "c_tilde": c_tilde, "o": o}', "return h_t, c_t, {}")
    result = grade_notebook("gated", filled_notebook("gated", {"lstm_step": src}), tmp_path)
    q = question(result, "lstm_step")
    assert 0 < q.points < q.max_points
    assert any("key 'f' is missing" in " ".join(c.details) for c in q.checks)


def test_parts_flattens_a_dict_inside_a_tuple():
    value = (np.zeros(2), {"f": np.ones(2), "i": np.ones(2)})
    out = outputs.parts(value, ["h", {"f": "forget gate f", "i": "input gate i"}])
    assert list(out) == ["h", "forget gate f", "input gate i"]
    missing = outputs.parts(np.zeros(2), ["h", {"f": "forget gate f"}])
    assert isinstance(missing["forget gate f"], outputs._Missing)


def test_cli_grade_writes_gradebook(tmp_path, monkeypatch):
    from deepgrade import cli

    monkeypatch.chdir(ROOT)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(filled_notebook("gated"), subs / "ref.ipynb")
    nbformat.write(mutant_notebook("gated", "gru_keras_update"), subs / "keras_z.ipynb")
    out = tmp_path / "out"
    assert cli.main(["grade", "gated", str(subs), "--out", str(out)]) == 0
    with open(out / "final_grades.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:7] == ["file", "lstm_step", "lstm_forward", "gru_step", "gru_forward",
                                 "bidirectional_forward", "embedding_lookup"]  # fmt: skip
    by_file = {r["file"].rsplit("/", 1)[-1]: r for r in rows[1:]}
    assert by_file["ref.ipynb"]["total_points_earned"] == "18"  # the points in assignments/gated/assignment.toml
    assert float(by_file["keras_z.ipynb"]["gru_step"]) < 4
