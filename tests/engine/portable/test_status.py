"""Typed statuses (portable/status.py): each member is the text it stood for before, so stored
runs, results.json and the gradebook hold the same words; a stored word that is not a status is
refused as damaged, never a traceback."""

from __future__ import annotations

import json

import pytest

from deepgrade.grading.results import SubmissionResult
from deepgrade.portable.status import NOT_FINISHED, ErrorKind, Event, RowStatus, StepStatus
from deepgrade.sandbox import StepOutcome
from deepgrade.sandbox.channel import ChannelError, decode_message
from deepgrade.sandbox.stored import StoredError

# the words of the four vocabularies, as README ("Words") and the stored files spell them
WORDS = {
    StepStatus: ["ok", "error", "timeout", "crashed", "memory", "not run"],
    ErrorKind: [
        "Timeout",
        "Crashed",
        "Memory",
        "NotRun",
        "Skipped",
        "Missing",
        "NotCallable",
        "Unreadable",
        "Protocol",
    ],
    Event: ["start", "cell", "call", "done"],
    RowStatus: ["", "graded", "unreadable", "wrong-assignment", "duplicate", "skipped", "error"],
}


@pytest.mark.parametrize("kind", list(WORDS), ids=lambda k: k.__name__)
def test_each_status_is_its_word(kind):
    assert [m.value for m in kind] == WORDS[kind]
    for member in kind:
        assert member == member.value and json.dumps(member) == json.dumps(member.value)
        assert f"{member}" == str(member) == member.value  # feedback text and CSV cells
        assert kind(json.loads(json.dumps(member))) is member


def test_a_stopped_step_reports_its_own_error_kind():
    assert {s for s in StepStatus if s.stopped} == {StepStatus.TIMEOUT, StepStatus.CRASHED, StepStatus.MEMORY}
    assert [s.error_kind for s in StepStatus if s.stopped] == [ErrorKind.TIMEOUT, ErrorKind.CRASHED, ErrorKind.MEMORY]
    assert StepStatus.NOT_RUN.error_kind is ErrorKind.NOT_RUN
    # what the judge calls "did not run to the end": every kind but a forged message
    assert "Protocol" not in NOT_FINISHED and "Skipped" in NOT_FINISHED and "ValueError" not in NOT_FINISHED


def test_a_stored_outcome_keeps_its_words_and_comes_back_typed():
    error = {"type": ErrorKind.TIMEOUT, "message": "stopped", "where": []}
    outcome = StepOutcome(StepStatus.TIMEOUT, error=error)
    stored = json.loads(json.dumps(outcome.to_dict()))
    assert stored["status"] == {"s": "timeout"} and stored["error"]["d"]["type"] == {"s": "Timeout"}
    back = StepOutcome.from_dict(stored)
    assert back.status is StepStatus.TIMEOUT and back.error == error and not back.ok
    assert StepOutcome("ok").status is StepStatus.OK and StepOutcome("ok").ok


@pytest.mark.parametrize("status", [{"s": "finished"}, {"i": 3}])
def test_a_stored_outcome_with_a_status_that_is_not_one_is_refused(status):
    with pytest.raises(StoredError):
        StepOutcome.from_dict({**StepOutcome("ok").to_dict(), "status": status})


def test_a_result_row_keeps_its_words():
    row = SubmissionResult("a.ipynb", "cnn", [], status=RowStatus.WRONG_ASSIGNMENT, incidents=[StepStatus.MEMORY])
    text = json.dumps(row.to_dict())
    assert '"status": "wrong-assignment"' in text and '"incidents": ["memory"]' in text
    back = SubmissionResult.from_dict(json.loads(text))
    assert back.status is RowStatus.WRONG_ASSIGNMENT and json.dumps(back.to_dict()) == text
    with pytest.raises(ValueError):
        SubmissionResult.from_dict({**row.to_dict(), "status": "lost"})


@pytest.mark.parametrize("ev", [["start"], {"start": 1}, "begin", None])
def test_a_forged_event_is_a_channel_error(ev):
    line = json.dumps({"ev": ev, "step": "cell:0"}).encode()
    with pytest.raises(ChannelError):
        decode_message(line)


def test_the_readme_words_table_lists_every_status():
    import re

    from helpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Words") :]
    section = section[: section.index("\n### ")]
    for kind in WORDS:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{kind.__name__}` |"))
        listed = re.findall(r"`([^`]+)`", row.split("|")[3])
        assert listed == [m.value for m in kind if m.value], kind.__name__


def test_a_stored_row_with_a_status_that_is_not_one_is_graded_again(tmp_path):
    from deepgrade.batch import run as batch

    path = tmp_path / "ada.json"
    row = SubmissionResult("ada.ipynb", "cnn", [], status=RowStatus.GRADED).to_dict()
    path.write_text(json.dumps({"version": batch.RESULT_VERSION, "result": row}))
    assert batch._stored(path)["result"]["status"] == "graded"
    path.write_text(json.dumps({"version": batch.RESULT_VERSION, "result": {**row, "status": "lost"}}))
    assert batch._stored(path) is None  # not a row this version writes: no traceback, a new grading
