"""kill -9 a batch midway, run it again: graded submissions are skipped, the rest graded,
and the gradebook equals a --force run's. A stored result is reused only while its resume
key holds: a change to the assignment, its reference or catalogue, or the engine regrades.
Re-scoring is not re-running: a change to what scores (points, policy, catalogue) re-scores
the stored outcomes with no sandbox; only a change to what runs (notebook, inputs, harness,
the sandbox-side engine, limits) runs the student's code again."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))
from helpers import ROOT, filled_notebook  # noqa: E402

DEEPGRADE = [sys.executable, "-m", "deepgrade.cli"]


def make_class(folder: Path, n: int = 8) -> None:
    ref = filled_notebook("cnn")
    for i in range(n):
        nb = nbformat.from_dict(ref)
        # a second per notebook, so that a kill lands mid-batch
        nb.cells.insert(1, nbformat.v4.new_code_cell(f"import time\ntime.sleep(1.0)\nstudent = {i}"))
        (folder / f"student{i:02d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"student{i:02d}" / "cnn.ipynb")


def run(args, **kw):
    return subprocess.run(DEEPGRADE + args, capture_output=True, text=True, cwd=ROOT, timeout=120, **kw)


@pytest.mark.slow  # a batch killed and resumed, or a keras key built from TensorFlow data: CI runs it after the fast subset
def test_kill_and_resume(tmp_path):
    make_class(tmp_path / "class")
    out = tmp_path / "out"
    results = out / "results"
    cmd = DEEPGRADE + ["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, as a power cut would
    proc.wait()
    done = sorted(results.glob("*.json"))
    assert 2 <= len(done) < 8, f"{len(done)} results when killed"
    assert not (out / "final_grades.csv").exists()
    mtimes = {p.name: p.stat().st_mtime_ns for p in done}

    again = run(["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--workers", "2", "--quiet"])
    assert again.returncode == 0, again.stderr
    m = re.search(r"resuming: (\d+) submission", again.stderr)
    assert m and int(m.group(1)) == len(done), again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in done} == mtimes  # not regraded
    resumed = (out / "final_grades.csv").read_text()

    forced = run(
        [
            "grade",
            "cnn",
            str(tmp_path / "class"),
            "--out",
            str(tmp_path / "forced"),
            "--workers",
            "2",
            "--force",
            "--quiet",
        ]
    )
    assert forced.returncode == 0, forced.stderr
    assert resumed == (tmp_path / "forced" / "final_grades.csv").read_text()
    rows = resumed.splitlines()[2:]
    assert len(rows) == 8 and all(",22,100.0,completed" in r for r in rows)

    # a changed file is regraded, the others skipped
    nb = tmp_path / "class" / "student03" / "cnn.ipynb"
    nb.write_text(nb.read_text().replace("student = 3", "student = 33"))
    third = run(["grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--quiet"])
    assert "resuming: 7 submission(s)" in third.stderr and "1 to run in the sandbox" in third.stderr
    assert "regrading 1 submission(s): re-run (the notebook changed)" in third.stderr


# --------------------------------------------------------------------------- the resume key


def _course_copy(tmp_path: Path) -> Path:
    """assignments/cnn and solutions/cnn*.py in a course folder of their own, to be edited."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    (course / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    return course


def _gradebook(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["file"]).name: r for r in csv.DictReader(fh)}


def test_a_changed_assignment_is_regraded_and_says_why(tmp_path):
    """The reported case: relu 1 -> 3 points in assignment.toml; the stored rows kept the old
    points. Now every stored result is regraded, with one line saying why."""
    course = _course_copy(tmp_path)
    (tmp_path / "class").mkdir()
    for name in ("ada", "alan"):
        nbformat.write(filled_notebook("cnn"), tmp_path / "class" / f"{name}.ipynb")
    out = tmp_path / "grades"

    def grade() -> subprocess.CompletedProcess:
        proc = run(["--course", str(course), "grade", "cnn", str(tmp_path / "class"), "--out", str(out), "--quiet"])
        assert proc.returncode == 0, proc.stderr
        return proc

    grade()
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["relu"] == "1"
    assert book["ada.ipynb"]["total_points_earned"] == "22"

    unchanged = grade()
    assert "resuming: 2 submission(s)" in unchanged.stderr and "regrading" not in unchanged.stderr

    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("relu = 1\n", "relu = 3\n"))
    changed = grade()
    assert (
        "regrading 2 submission(s): re-scored, no student code runs (the assignment changed (assignment.toml))"
        in changed.stderr
    )
    assert "0 to run in the sandbox" in changed.stderr
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["relu"] == "3"
    for name in ("ada.ipynb", "alan.ipynb"):  # a perfect notebook: 22 - 1 + 3
        assert book[name]["relu"] == "3" and book[name]["total_points_earned"] == "24"

    # the mistake catalogue's implementations are part of the key too
    mistakes = course / "solutions" / "cnn_mistakes.py"
    mistakes.write_text(mistakes.read_text() + "\n# edited\n")
    assert (
        "regrading 2 submission(s): re-scored, no student code runs (the assignment changed (solutions/cnn_mistakes.py))"
        in grade().stderr
    )

    # and the engine: a result stored by another deepgrade version is regraded
    stored = out / "results" / next(p.name for p in (out / "results").glob("*.json"))
    data = json.loads(stored.read_text())
    data["key"]["engine"]["version"] = "0.0.1"
    stored.write_text(json.dumps(data))
    again = grade()
    assert "regrading 1 submission(s): re-scored, no student code runs (deepgrade changed (0.0.1 -> " in again.stderr
    assert "resuming: 1 submission(s)" in again.stderr


def test_the_key_names_every_file_that_decides_a_grade():
    from deepgrade.batch import fingerprint
    from deepgrade.course import assignment as asg

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    for f in ("assignment.toml", "fixtures.py", "mistakes.toml"):
        assert f"assignments/cnn/{f}" in key["files"]
    assert {"solutions/cnn.py", "solutions/cnn_mistakes.py"} <= set(key["files"])
    assert not [f for f in key["files"] if f.startswith("solutions/") and "cnn" not in f]
    assert key["engine"]["version"] and len(key["engine"]["source"]) == 64
    assert fingerprint.changes(key, key, "cnn") is None


def test_the_key_covers_the_inputs_and_says_so_when_only_they_change():
    """Inputs the fixtures build from outside the course folder (an instructor's photos or text)
    are in the key through the calls the sandbox is sent: a changed input regrades."""
    from deepgrade.batch import fingerprint
    from deepgrade.course import assignment as asg

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    assert len(key["inputs"]) == 64
    case = a.questions[0].cases[0]
    old_args = case.args
    try:
        case.args = tuple(x + 1 if hasattr(x, "shape") else x for x in case.args)
        moved = fingerprint.grading_key(a, ROOT)
    finally:
        case.args = old_args
    assert moved["inputs"] != key["inputs"] and moved["files"] == key["files"]
    assert "the fixtures' inputs changed" in fingerprint.changes(key, moved, "cnn")
    assert fingerprint.changes(key, fingerprint.grading_key(a, ROOT), "cnn") is None


_KERAS_INPUTS = (
    "import sys; from pathlib import Path; from deepgrade.batch import fingerprint as fp; from deepgrade.course import assignment as asg; "
    "print(fp.inputs_key(asg.load('keras', Path(sys.argv[1]))))"
)


@pytest.mark.slow  # a batch killed and resumed, or a keras key built from TensorFlow data: CI runs it after the fast subset
def test_an_instructors_text_changes_the_keras_key(tmp_path):
    """DEEPGRADE_KERAS_TEXT names a file outside the course folder: the files' key cannot see it,
    the inputs' key does (each in its own process, as two batch runs would be)."""
    text = tmp_path / "moby.txt"
    text.write_text("Call me Ishmael. Some years ago, never mind how long precisely. " * 2000)
    keys = []
    for extra in ({}, {"DEEPGRADE_KERAS_TEXT": str(text)}):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEEPGRADE_")} | extra
        proc = subprocess.run(
            [sys.executable, "-c", _KERAS_INPUTS, str(ROOT)], capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        keys.append(proc.stdout.split()[-1])
    assert len(keys[0]) == 64 and keys[0] != keys[1]


# --------------------------------------------------------------------------- re-scoring is not re-running


class _NoRuns:
    """An executor for batches that must run nothing: any submission it is given fails the test."""

    def map_unordered(self, fn, items):
        items = list(items)
        assert not items, f"{len(items)} submission(s) were run again: {[i[2] for i in items]}"
        return iter(())


def _no_sandbox(*args, **kwargs):
    raise AssertionError("the sandbox was started: student code ran again")


def _in_process_batch(name: str, course: Path, class_dir: Path, out: Path, executor=None):
    """grade_batch in this process, as the CLI calls it (the assignment read afresh)."""
    from deepgrade.batch import run as batch
    from deepgrade.batch.executors import SerialExecutor
    from deepgrade.course import assignment as asg
    from deepgrade.grading import intake

    asg._CACHE.pop((str(course.resolve()), name), None)  # the test edits the course between batches
    a = asg.load(name, course)
    subs = intake.expand([str(class_dir)], out.parent / f"work-{out.name}", notebook=a.notebook.name)
    return batch.grade_batch(a, subs, out, executor=executor or SerialExecutor(), progress=False, root=course), a


def _totals(results) -> dict[str, float]:
    return {Path(r.file).name: r.points for r in results}


def _points(results, question: str) -> dict[str, float]:
    return {Path(r.file).name: next(q.points for q in r.questions if q.name == question) for r in results}


def _cnn_class(tmp_path: Path) -> Path:
    from helpers import mutant_notebook

    class_dir = tmp_path / "class"
    class_dir.mkdir()
    nbformat.write(filled_notebook("cnn"), class_dir / "ada.ipynb")
    # a relu that is wrong: its points scale with the question's
    nbformat.write(filled_notebook("cnn", {"relu": "def relu(x):\n    return x\n"}), class_dir / "bob.ipynb")
    nbformat.write(mutant_notebook("cnn", "flipped_kernel"), class_dir / "cy.ipynb")
    (class_dir / "dee.ipynb").write_text("{ not a notebook")
    return class_dir


def test_a_points_change_rescores_the_stored_outcomes_without_the_sandbox(tmp_path, monkeypatch, capsys):
    from deepgrade import sandbox

    course = _course_copy(tmp_path)
    class_dir = _cnn_class(tmp_path)
    out = tmp_path / "grades"
    first, a = _in_process_batch("cnn", course, class_dir, out)
    graded = {"ada.ipynb", "bob.ipynb", "cy.ipynb"}
    assert {Path(r.file).name for r in first if r.status == "graded"} == graded
    for stem in ("ada", "bob", "cy"):  # every run's outcomes are stored beside its result
        assert (out / "results" / "outcomes" / f"{stem}.json").is_file()
    assert not (out / "results" / "outcomes" / "dee.json").exists()  # nothing ran for it
    before, relu_before = _totals(first), _points(first, "relu")
    assert relu_before["ada.ipynb"] == 1 and relu_before["bob.ipynb"] < 1  # the wrong relu lost points

    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("relu = 1\n", "relu = 3\n"))
    monkeypatch.setattr(sandbox, "run", _no_sandbox)
    capsys.readouterr()
    second, _ = _in_process_batch("cnn", course, class_dir, out, executor=_NoRuns())
    err = capsys.readouterr().err
    assert (
        "regrading 4 submission(s): re-scored, no student code runs (the assignment changed (assignment.toml))" in err
    )
    assert "4 re-scored from their stored outcomes" in err and "0 to run in the sandbox" in err
    relu_after, after = _points(second, "relu"), _totals(second)
    for name in graded:  # the question's share is the same, its points three times as many
        # (points are rounded to 0.01: three times a rounded share is within 0.015 of it)
        assert relu_after[name] == pytest.approx(3 * relu_before[name], abs=0.02)
        assert after[name] == pytest.approx(before[name] - relu_before[name] + relu_after[name], abs=0.011)
    assert after["ada.ipynb"] == 24 and after["cy.ipynb"] == before["cy.ipynb"] + 2
    assert after["dee.ipynb"] == 0 and next(r for r in second if r.file.endswith("dee.ipynb")).status == "unreadable"
    assert all(r.max_points == a.max_points + 2 for r in second)
    # and what the reports read: the gradebook has the new points
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["relu"] == "3" and book["ada.ipynb"]["total_points_earned"] == "24"

    # the same result as running everything again with the new points
    monkeypatch.undo()
    forced, _ = _in_process_batch("cnn", course, class_dir, tmp_path / "forced")
    assert [r.to_dict()["questions"] for r in forced] == [r.to_dict()["questions"] for r in second]


def test_a_changed_input_reruns_the_students_code(tmp_path, monkeypatch, capsys):
    from deepgrade import sandbox

    course = _course_copy(tmp_path)
    class_dir = _cnn_class(tmp_path)
    out = tmp_path / "grades"
    _in_process_batch("cnn", course, class_dir, out)

    # the hidden fixtures drawn from another seed: other inputs are sent to the sandbox
    fixtures = course / "assignments" / "cnn" / "fixtures.py"
    assert "seeded(20261126)" in fixtures.read_text()
    fixtures.write_text(fixtures.read_text().replace("seeded(20261126)", "seeded(20261127)"))
    runs = []
    real_run = sandbox.run
    monkeypatch.setattr(sandbox, "run", lambda *a, **kw: runs.append(1) or real_run(*a, **kw))
    capsys.readouterr()
    results, _ = _in_process_batch("cnn", course, class_dir, out)
    err = capsys.readouterr().err
    assert len(runs) == 3  # the three readable notebooks ran again (the unreadable one cannot)
    assert "regrading 4 submission(s): re-run (the assignment changed (fixtures.py))" in err
    assert "0 re-scored" in err and "4 to run in the sandbox" in err
    assert _totals(results)["ada.ipynb"] == 22


def test_a_damaged_or_forged_outcomes_file_is_rerun_never_trusted(tmp_path, monkeypatch, capsys):
    """The stored outcomes are data: a file that is not JSON, a pickle where an array should
    be, an object array, another notebook's outcomes, outcomes lacking a call: each is run
    again, nothing crashes."""
    import base64
    import io
    import pickle

    import numpy as np

    from deepgrade import sandbox

    course = _course_copy(tmp_path)
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    for name in ("a", "b", "c", "d", "e", "f"):
        nb = filled_notebook("cnn")
        nb.cells.insert(1, nbformat.v4.new_code_cell(f"student = {name!r}"))
        nbformat.write(nb, class_dir / f"{name}.ipynb")
    out = tmp_path / "grades"
    _in_process_batch("cnn", course, class_dir, out)
    stored = out / "results" / "outcomes"

    (stored / "a.json").write_text("{ this is not json")
    data = json.loads((stored / "b.json").read_text())
    call = next(iter(data["run"]["calls"]))
    pickled = base64.b64encode(pickle.dumps(["not", "an", "array"])).decode()
    data["run"]["calls"][call]["value"] = {"a": pickled}
    (stored / "b.json").write_text(json.dumps(data))
    data = json.loads((stored / "c.json").read_text())
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
    data["run"]["calls"][call]["value"] = {"a": base64.b64encode(buf.getvalue()).decode()}
    (stored / "c.json").write_text(json.dumps(data))
    # another notebook's outcomes (a copy of e's): never scored as d's
    shutil.copy(stored / "e.json", stored / "d.json")
    # well-formed, but a call is missing: scoring fails, and it runs instead
    data = json.loads((stored / "f.json").read_text())
    del data["run"]["calls"][call]
    (stored / "f.json").write_text(json.dumps(data))

    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("relu = 1\n", "relu = 3\n"))
    runs = []
    real_run = sandbox.run
    monkeypatch.setattr(sandbox, "run", lambda *a, **kw: runs.append(1) or real_run(*a, **kw))
    capsys.readouterr()
    results, _ = _in_process_batch("cnn", course, class_dir, out)
    err = capsys.readouterr().err
    assert len(runs) == 5  # a, b, c, d, f; e re-scored
    assert "1 re-scored from their stored outcomes" in err and "5 to run in the sandbox" in err
    assert "f.ipynb failed (KeyError); it runs again" in err
    assert all(r.points == 24 and r.status == "graded" for r in results)
    # and the re-run stored good outcomes again
    assert json.loads((stored / "a.json").read_text())["sha256"] == results[0].sha256


def test_step_outcomes_round_trip_field_by_field():
    """Every field of StepOutcome is stored, whatever its kind, and read back as it was;
    a field added to StepOutcome later is stored too, without a change to the store."""
    import dataclasses

    import numpy as np

    from deepgrade.portable.dependencies import Record
    from deepgrade.portable.wire import Opaque
    from deepgrade.sandbox import RunResult, StepOutcome

    value = (
        np.arange(6.0).reshape(2, 3),
        {"h": np.array([1, 2], dtype=np.int32), "mode": "concat", "none": None},
        Opaque("Sequential"),
        np.float32(0.5),
        np.array(True),
    )
    error = {"type": "ValueError", "message": "bad shape", "where": [{"cell": 3, "line": 7, "code": "x = 1"}]}
    parts = [  # what the sandbox recorded of the calls to the student's parts ([uses])
        Record("conv2d", (np.ones((2, 2)), 1, "same"), np.zeros(3)),
        Record("relu", (np.ones(1),), error="ValueError"),
    ]
    o = StepOutcome("ok", value=value, error=error, mutated=[0, 2], seconds=1.25, hidden_phase=True, parts=parts)
    back = StepOutcome.from_dict(json.loads(json.dumps(o.to_dict())))
    assert back.status == "ok" and back.error == error and back.mutated == [0, 2] and type(back.mutated) is list
    assert back.seconds == 1.25 and back.hidden_phase is True
    assert [type(p) for p in back.parts] == [Record, Record] and back.parts[1] == parts[1]
    (conv_args, conv_value) = back.parts[0].args, back.parts[0].value
    assert np.array_equal(conv_args[0], np.ones((2, 2))) and conv_args[1:] == (1, "same") and type(conv_args[1]) is int
    assert np.array_equal(conv_value, np.zeros(3)) and back.parts[0].error is None
    arr, d, opaque, scalar, flag = back.value
    assert type(back.value) is tuple and arr.dtype == np.float64 and np.array_equal(arr, value[0])
    assert d["h"].dtype == np.int32 and list(d["h"]) == [1, 2] and d["mode"] == "concat" and d["none"] is None
    assert isinstance(opaque, Opaque) and opaque.type_name == "Sequential"
    assert type(scalar) is np.float32 and scalar == 0.5 and flag.shape == () and bool(flag)

    # a field added to StepOutcome later needs no change to the store
    Extended = dataclasses.make_dataclass(
        "Extended", [("later", list, dataclasses.field(default_factory=list))], bases=(StepOutcome,)
    )
    later = [{"call": "a/b", "value": np.ones((2, 2)), "ok": True}, {"call": "a/c", "value": None, "ok": False}]
    e = Extended("ok", value=np.zeros(1), later=later)
    got = Extended.from_dict(json.loads(json.dumps(e.to_dict())))
    assert got.later[1] == later[1] and np.array_equal(got.later[0]["value"], np.ones((2, 2)))
    assert got.later[0]["ok"] is True
    # stored before the field existed: its default
    old = {k: v for k, v in e.to_dict().items() if k != "later"}
    assert Extended.from_dict(old).later == []

    # a value of a kind the store does not hold is refused (the batch then stores no outcomes)
    from deepgrade.sandbox.stored import Unstorable

    for odd in (object(), {1: np.zeros(1)}, np.array(["text"])):
        with pytest.raises(Unstorable):
            StepOutcome("ok", value=odd).to_dict()

    run = RunResult({0: StepOutcome("ok"), 4: StepOutcome("timeout")}, {"q/c": o}, ["a note"], "process")
    run_back = RunResult.from_dict(json.loads(json.dumps(run.to_dict())))
    assert sorted(run_back.cells) == [0, 4] and run_back.cells[4].status == "timeout"
    assert run_back.notes == ["a note"] and run_back.isolation == "process" and run_back.calls["q/c"].seconds == 1.25


def test_malformed_stored_outcomes_are_refused():
    from deepgrade.sandbox import RunResult, StepOutcome
    from deepgrade.sandbox.stored import StoredError

    for bad in (
        None,
        [],
        {"value": {"n": None}},  # no status
        {"status": {"i": 3}},  # a status that is not text
        {"status": {"s": "ok"}, "value": {"a": "not base64!"}},
        {"status": {"s": "ok"}, "value": {"q": 1}},
        {"status": {"s": "ok"}, "value": {"f": "1.5"}},
        {"status": {"s": "ok"}, "value": {"t": {"not": "a list"}}},
        {"status": {"s": "ok"}, "parts": {"l": [{"c": ["Popen", {"args": {"t": []}}]}]}},  # not a stored class
        {"status": {"s": "ok"}, "parts": {"l": [{"c": ["Record", {"args": {"t": []}}]}]}},  # no part name
    ):
        with pytest.raises(StoredError):
            StepOutcome.from_dict(bad)
    for bad in (None, {"cells": {}, "calls": {}, "notes": [], "isolation": ""}, {"cells": [["0", {}]], "calls": {}}):
        with pytest.raises(StoredError):
            RunResult.from_dict(bad)


def test_the_run_key_holds_for_points_and_breaks_for_limits():
    """Points, weights and tolerances are not part of what runs; the sandbox's limits are."""
    from deepgrade.batch import fingerprint
    from deepgrade.course import assignment as asg

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    q = a.questions[0]
    old_points, old_seconds = q.points, a.cell_seconds
    try:
        q.points = old_points + 5
        assert fingerprint.run_key(fingerprint.grading_key(a, ROOT)) == fingerprint.run_key(key)
        a.cell_seconds = old_seconds + 1
        moved = fingerprint.grading_key(a, ROOT)
    finally:
        q.points, a.cell_seconds = old_points, old_seconds
    assert fingerprint.run_key(moved) != fingerprint.run_key(key)
    assert fingerprint.regrade(key, moved, "cnn", True) == (
        False,
        "re-run (the sandbox changed (its limits, or the Python or numpy it runs))",
    )
    assert fingerprint.regrade(key, key, "cnn", True) is None
    changed_files = dict(key, files=dict(key["files"], **{"assignments/cnn/assignment.toml": "0" * 64}))
    assert fingerprint.regrade(key, changed_files, "cnn", True) == (
        True,
        "re-scored, no student code runs (the assignment changed (assignment.toml))",
    )
    assert fingerprint.regrade(key, changed_files, "cnn", False)[0] is False


# --------------------------------------------------------------------------- keras: re-scoring trains nothing


def _keras_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(
        ROOT / "assignments" / "keras",
        course / "assignments" / "keras",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (course / "solutions").mkdir()
    for f in ("keras.py", "keras_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    return course


def _fail_training(*args, **kwargs):
    raise AssertionError("a model was trained")


def test_keras_a_points_change_trains_nothing_and_updates_every_total(tmp_path, monkeypatch, capsys):
    """The first batch runs on a stand-in sandbox (the numpy questions answered by the
    reference in this process, every model question failed: training them is what the slow
    test below does); after fit_minmax_scaler's points go from 1 to 4, the second batch
    starts no sandbox and trains no model, and every submission's total grows by 3."""
    import keras
    from inprocess import outcomes as inprocess_outcomes

    from deepgrade import sandbox
    from deepgrade.course import assignment as asg
    from deepgrade.grading.plan import call_id

    course = _keras_course(tmp_path)
    a = asg.load("keras", course)
    answers = {}
    for q in a.questions:
        if any(c.harness for c in q.cases):
            for c in q.cases:
                error = {"type": "NotRun", "message": "a model question: not trained in this test", "where": []}
                answers[call_id(q.name, c)] = sandbox.StepOutcome("error", error=error)
        else:
            answers.update(inprocess_outcomes(a, q, {}))
    assert any(o.ok for o in answers.values()) and not all(o.ok for o in answers.values())

    def stand_in(cells, calls, *args, **kwargs):
        wrong = any("WRONG_WINDOWS" in src for _, src in cells)
        ids = [c["id"] for c in calls]
        assert set(ids) == set(answers)
        out = {
            cid: sandbox.StepOutcome("error", error={"type": "ValueError", "message": "wrong", "where": []})
            if wrong and cid.startswith("make_windows/")
            else answers[cid]
            for cid in ids
        }
        return sandbox.RunResult({i: sandbox.StepOutcome("ok") for i, _ in cells}, out, [], "stand-in")

    class_dir = tmp_path / "class"
    class_dir.mkdir()
    nbformat.write(filled_notebook("keras"), class_dir / "ada.ipynb")
    nb = filled_notebook("keras")
    nb.cells.append(nbformat.v4.new_code_cell("WRONG_WINDOWS = 1"))
    nbformat.write(nb, class_dir / "bob.ipynb")
    out = tmp_path / "grades"
    monkeypatch.setattr(sandbox, "run", stand_in)
    first, _ = _in_process_batch("keras", course, class_dir, out)
    before = _totals(first)
    assert before["ada.ipynb"] > before["bob.ipynb"] > 0
    assert _points(first, "fit_minmax_scaler") == {"ada.ipynb": 1, "bob.ipynb": 1}

    toml = course / "assignments" / "keras" / "assignment.toml"
    assert "\nfit_minmax_scaler = 1\n" in toml.read_text()
    toml.write_text(toml.read_text().replace("\nfit_minmax_scaler = 1\n", "\nfit_minmax_scaler = 4\n"))
    monkeypatch.setattr(sandbox, "run", _no_sandbox)
    monkeypatch.setattr(keras.Model, "fit", _fail_training)
    capsys.readouterr()
    second, a2 = _in_process_batch("keras", course, class_dir, out, executor=_NoRuns())
    err = capsys.readouterr().err
    assert "2 re-scored from their stored outcomes" in err and "0 to run in the sandbox" in err
    after = _totals(second)
    assert after == {name: pytest.approx(points + 3) for name, points in before.items()}
    assert _points(second, "fit_minmax_scaler") == {"ada.ipynb": 4, "bob.ipynb": 4}
    assert all(r.max_points == a.max_points + 3 == a2.max_points for r in second)
    book = _gradebook(out / "final_grades.csv")
    assert book["points-per-question"]["fit_minmax_scaler"] == "4"


@pytest.mark.slow
def test_keras_real_run_then_a_points_change_trains_nothing(tmp_path, monkeypatch, capsys):
    """The reference notebook graded for real (every check model trained in the sandbox);
    then build_stock_lstm's points go from 3 to 6: its stored outcomes (training histories,
    predictions) are re-scored with no sandbox and no training, and the total follows."""
    import keras

    from deepgrade import sandbox

    course = _keras_course(tmp_path)
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    nbformat.write(filled_notebook("keras"), class_dir / "ada.ipynb")
    out = tmp_path / "grades"
    (first,), _ = _in_process_batch("keras", course, class_dir, out)
    assert first.status == "graded" and (out / "results" / "outcomes" / "ada.json").is_file()
    stock = _points([first], "build_stock_lstm")["ada.ipynb"]

    toml = course / "assignments" / "keras" / "assignment.toml"
    assert "\nbuild_stock_lstm = 3\n" in toml.read_text()
    toml.write_text(toml.read_text().replace("\nbuild_stock_lstm = 3\n", "\nbuild_stock_lstm = 6\n"))
    monkeypatch.setattr(sandbox, "run", _no_sandbox)
    monkeypatch.setattr(keras.Model, "fit", _fail_training)
    capsys.readouterr()
    (second,), _ = _in_process_batch("keras", course, class_dir, out, executor=_NoRuns())
    assert "1 re-scored from their stored outcomes" in capsys.readouterr().err
    assert _points([second], "build_stock_lstm")["ada.ipynb"] == pytest.approx(2 * stock, abs=0.02)
    assert second.points == pytest.approx(first.points + _points([second], "build_stock_lstm")["ada.ipynb"] - stock)
    assert second.max_points == first.max_points + 3
    # every other question's checks are judged as they were
    assert [q.to_dict() for q in second.questions if q.name != "build_stock_lstm"] == [
        q.to_dict() for q in first.questions if q.name != "build_stock_lstm"
    ]


@pytest.mark.parametrize("name", ["cnn", "rnn", "gated"])
def test_stored_outcomes_rescore_to_the_same_grade_for_every_numpy_assignment(name, tmp_path, monkeypatch):
    """Graded once in the sandbox, its run stored as JSON and read back, then scored again
    without the sandbox: the same grade, check by check (a right notebook and one with the
    catalogue's first mistake, whose diagnosis depends on the outcomes' values)."""
    from deepgrade import sandbox
    from deepgrade.course import assignment as asg
    from deepgrade.grading import pipeline
    from helpers import mutant_notebook

    a = asg.load(name, ROOT)
    first_mistake = next(iter(a.mistakes))
    for label, nb in (("right", filled_notebook(name)), ("mistake", mutant_notebook(name, first_mistake))):
        path = tmp_path / f"{label}.ipynb"
        nbformat.write(nb, path)
        graded, run = pipeline.grade_notebook(a, path)
        if name == "cnn":  # cnn_forward's calls to the student's parts ([uses]) are stored too
            assert any(o.parts for o in run.calls.values())
        stored = sandbox.RunResult.from_dict(json.loads(json.dumps(run.to_dict())))
        with monkeypatch.context() as m:
            m.setattr(sandbox, "run", _no_sandbox)
            rescored, _ = pipeline.grade_notebook(a, path, stored)
        assert rescored.to_dict() == graded.to_dict()
        if label == "mistake":
            assert graded.points < a.max_points
            assert any(d for q in graded.questions for c in q.checks for d in c.diagnosis)


def test_the_reason_says_whether_deepgrade_changed_what_runs_or_what_scores():
    from deepgrade.batch import fingerprint
    from deepgrade.course import assignment as asg

    a = asg.load("cnn", ROOT)
    key = fingerprint.grading_key(a, ROOT)
    scoring = dict(key, engine=dict(key["engine"], source="0" * 64))  # e.g. score.py edited
    running = dict(scoring, runner="1" * 64)  # e.g. sandbox.py edited
    assert fingerprint.regrade(scoring, key, "cnn", True) == (
        True,
        "re-scored, no student code runs (deepgrade changed (its source))",
    )
    assert fingerprint.regrade(running, key, "cnn", True) == (
        False,
        "re-run (deepgrade changed (its sandbox-side source))",
    )


def test_the_run_key_moves_with_the_sandbox_side_files_only(tmp_path, monkeypatch):
    """An edit to a scoring module keeps the run key; one to a module the sandbox receives
    (portable/, compare.py included) or to the sandbox itself changes it."""
    from deepgrade.batch import fingerprint

    engine = tmp_path / "deepgrade"
    shutil.copytree(fingerprint.ENGINE, engine, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(fingerprint, "ENGINE", engine)

    def code_key() -> str:
        fingerprint._runner_code.cache_clear()
        return fingerprint._runner_code()

    try:
        base = code_key()
        for scoring in ("grading/score.py", "batch/run.py", "grading/results.py", "reports/report.py"):
            (engine / scoring).write_text((engine / scoring).read_text() + "\n# edited\n")
        assert code_key() == base
        for running in (
            "portable/compare.py",
            "portable/worker.py",
            "sandbox/__init__.py",
            "sandbox/isolation.py",
            "sandbox/limits.py",
            "grading/notebook.py",
        ):
            original = (engine / running).read_text()
            (engine / running).write_text(original + "\n# edited\n")
            assert code_key() != base, running
            (engine / running).write_text(original)
        assert code_key() == base
    finally:
        fingerprint._runner_code.cache_clear()
