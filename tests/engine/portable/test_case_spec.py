"""One case specification (portable/spec.py): the sandbox plan and the student copy's public.json
are made of the same CaseSpec, with one id per case, and judge() takes it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepgrade.course import assignment as asg
from deepgrade.grading.plan import build_calls, case_spec
from deepgrade.portable.call_runner import StepOutcome
from deepgrade.portable.judge import judge
from deepgrade.portable.policy import Policy
from deepgrade.portable.spec import CaseSpec
from deepgrade.publish.student import public_data
from helpers import ROOT

NUMPY_ASSIGNMENTS = ["cnn", "rnn", "gated"]


@pytest.fixture(scope="module", params=NUMPY_ASSIGNMENTS)
def loaded(request):
    return asg.load(request.param, ROOT)


def test_a_spec_survives_json(loaded):
    for q in loaded.questions:
        for case in q.cases:
            spec = case_spec(loaded, q, case)
            back = CaseSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
            assert back == spec
            assert back.call() == spec.call()


def test_the_student_copy_runs_the_very_calls_the_sandbox_is_sent(loaded):
    """Every case public.json ships is, read back, the plan's call for that case: same id, same
    inputs (a reference to a kept value names the same case id on both sides)."""
    plan = {c["id"]: c for c in build_calls(loaded)}
    data = public_data(loaded)
    shipped = 0
    for name, q in data["questions"].items():
        for entry in q["cases"]:
            spec = CaseSpec.from_dict(entry)
            assert spec.question == name and entry["id"] == spec.id == f"{name}/{spec.name}"
            assert spec.call() == plan[spec.id]
            for arg in [*entry["args"], *entry["kwargs"].values()]:
                if "r" in arg:
                    assert arg["r"][0] in plan and arg["r"][0].startswith(f"{name}/")
            shipped += 1
    assert shipped > 0


def test_public_json_judges_no_hidden_case(loaded):
    data = public_data(loaded)
    hidden = {(q.name, c.name) for q in loaded.questions for c in q.cases if c.hidden}
    for name, q in data["questions"].items():
        for entry in q["cases"]:
            if (name, entry["name"]) in hidden:  # shipped only as another case's input
                assert entry["hidden"] and not entry["compare"] and entry["expected"] is None


@pytest.mark.parametrize(
    "data, words",
    [
        ([], "a case is a dict"),
        ({"question": "q", "function": "q"}, "without ['name']"),
        ({"question": "q", "name": "a", "function": "q", "id": "other/a"}, "is not 'q/a'"),
    ],
)
def test_a_malformed_case_is_refused_with_a_clear_message(data, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        CaseSpec.from_dict(data)


def test_the_call_holds_inputs_never_answers():
    spec = CaseSpec("q", "a", "q", "secret description", outputs=["h", None], returns=[0], rtol=0.5)
    assert set(spec.call()) == {"id", "function", "args", "kwargs", "seconds", "returns"}


def _spec(**kw) -> CaseSpec:
    return CaseSpec("f", "one", "f", "a small input", **kw)


def test_judge_reads_the_spec_tolerances_and_labels():
    expected = np.array([1.0, 2.0])
    near = expected + 1e-4
    strict, loose = _spec(rtol=1e-7, atol=1e-9), _spec(rtol=1e-3, atol=1e-3)
    kw = {"explain": {}, "policy": Policy()}
    assert not judge(strict, StepOutcome("ok", value=near), expected, {}, **kw).right
    r = judge(loose, StepOutcome("ok", value=near), expected, {}, **kw)
    assert r.right and r.label == "a small input" and not r.hidden
    hidden = judge(_spec(hidden=True), StepOutcome("ok", value=expected), expected, {}, **kw)
    assert hidden.hidden and hidden.label == "hidden check: a small input"
    # a public case that ran with the hidden calls is shown as a hidden check
    phase = judge(_spec(), StepOutcome("ok", value=expected, hidden_phase=True), expected, {}, **kw)
    assert phase.hidden and phase.label.startswith("hidden check: ")


def test_judge_names_a_mistake_and_an_expected_error():
    expected, wrong = np.array([1.0, 2.0]), np.array([2.0, 1.0])
    r = judge(
        _spec(), StepOutcome("ok", value=wrong), expected, {"swap": wrong}, explain={"swap": "swapped"}, policy=Policy()
    )
    assert not r.right and r.checks[1].diagnosis == ["swap"] and "swapped" in r.checks[1].details
    must_raise = _spec(expect_error="ValueError")
    error = {"type": "ValueError", "message": "bad", "where": []}
    assert judge(must_raise, StepOutcome("error", error=error), None, {}, explain={}, policy=Policy()).raised
    returned = judge(must_raise, StepOutcome("ok", value=expected), None, {}, explain={}, policy=Policy())
    assert not returned.raised and "it returned normally" in returned.checks[0].details[0]
