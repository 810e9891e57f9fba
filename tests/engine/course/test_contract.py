"""The assignment contract (contract.py): every assignment.toml validates, a bad key is one
clear error naming the file and the key, the defaults live in one place, and the contract's
keys reach the grading (per-call time, student files). Also: a catalogued mistake that
raises is recorded, never silently dropped, and nothing in the engine names an assignment."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from deepgrade.course import assignment as asg
from deepgrade.course import contract
from deepgrade.grading.pipeline import limits_for
from deepgrade.grading.plan import build_calls
from deepgrade.sandbox.isolation import Limits as SandboxLimits
from helpers import ROOT

# Catalogued mistakes that may raise on a compared fixture (mistake id, function, case name)
# -> why that is right. None today: every mistake returns an output on every fixture, so
# that its output can be matched to a student's.
MAY_RAISE: dict[tuple[str, str, str], str] = {}


def _course(tmp_path: Path, toml_extra: str = "", name: str = "cnn") -> Path:
    """assignments/cnn and solutions/cnn*.py in a course folder of their own; toml_extra is
    put at the top of its assignment.toml."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / name)
    (course / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / "cnn.py", course / "solutions" / f"{name}.py")
    shutil.copy(ROOT / "solutions" / "cnn_mistakes.py", course / "solutions" / f"{name}_mistakes.py")
    toml = course / "assignments" / name / "assignment.toml"
    text = toml.read_text()
    if toml_extra.startswith("notebook"):
        text = text.replace('notebook = "cnn.ipynb"\n', "")
    toml.write_text(toml_extra + text)
    return course


@pytest.mark.parametrize("name", asg.available(ROOT))
def test_every_assignment_toml_keeps_the_contract(name):
    checked, raw = asg.read_contract(name, ROOT)
    assert set(raw) <= set(contract.TOP_KEYS)
    assert checked.questions and all(p >= 0 for p in checked.questions.values())
    limits = raw.get("limits", {})
    for key, default in contract.LIMIT_DEFAULTS.items():
        assert getattr(checked.limits, key) == float(limits.get(key, default))


def test_the_limits_have_one_set_of_defaults(tmp_path):
    """A toml without [limits] gets the contract's defaults, in the assignment and in the sandbox."""
    course = _course(tmp_path)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    text = toml.read_text()
    toml.write_text(text[: text.index("[limits]")])
    a = asg.load("cnn", course)
    got = {k: getattr(a, k) for k in contract.LIMIT_DEFAULTS}
    assert got == contract.LIMIT_DEFAULTS
    # the values a sandbox gets are the contract's (the sandbox's own defaults are not used)
    lim = limits_for(a)
    assert (lim.cell_seconds, lim.call_seconds, lim.total_seconds) == (10.0, 5.0, 120.0)
    assert lim.memory_bytes == 2 * 1024**3
    assert isinstance(lim, SandboxLimits)


def test_call_seconds_is_the_time_of_a_case_that_sets_none(tmp_path):
    course = _course(tmp_path)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("[limits]\n", "[limits]\ncall_seconds = 7.5\n"))
    a = asg.load("cnn", course)
    assert a.call_seconds == 7.5 and limits_for(a).call_seconds == 7.5
    calls = build_calls(a)
    assert calls and all(c["seconds"] == 7.5 for c in calls)
    # a case's own time wins: rnn_backward's consistency calls set 2 s
    rnn = asg.load("rnn", ROOT)
    own = {f"{q.name}/{c.name}": c.seconds for q in rnn.questions for c in q.cases if c.seconds is not None}
    assert own
    for call in build_calls(rnn):
        assert call["seconds"] == own.get(call["id"], rnn.call_seconds)


@pytest.mark.parametrize(
    "line, key, allowed",
    [
        ("titel = 'x'\n", "titel: unknown key", "allowed: title, notebook, extras"),
        ("pass_percent = 'half'\n", "pass_percent:", "a number from 0 to 100"),
        ("pass_percent = 150\n", "pass_percent:", "a number from 0 to 100"),
        ("sandbox_ro = 'data'\n", "sandbox_ro:", "a list of absolute paths"),
        ("sandbox_ro = ['data']\n", "sandbox_ro:", "a list of absolute paths"),
        ("canvas_assignment_id = 1.5\n", "canvas_assignment_id:", "a whole number or a string"),
        ("notebook = 'sub/cnn.ipynb'\n", "notebook:", "a file name ending in .ipynb"),
        ("student_files = ['../solutions/cnn.py']\n", "student_files:", "relative to the assignment's folder"),
        ("student_files = ['nothere.py']\n", "student_files:", "nothere.py is not a file"),
        ("student_files = ['fixtures.py']\nstudent_check = 'check'\n", "student_check:", '"module.function"'),
        ("student_files = ['fixtures.py']\nstudent_check = 'local.check'\n", "student_check:", "local.py must be"),
    ],
)
def test_a_bad_top_level_key_names_the_file_the_key_and_what_is_allowed(tmp_path, line, key, allowed):
    course = _course(tmp_path, line)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    with pytest.raises(asg.AssignmentError) as info:
        asg.load("cnn", course)
    message = str(info.value)
    assert message.startswith(f"{toml}: {key}") and allowed in message, message
    assert "\n" not in message


@pytest.mark.parametrize(
    "line, key, allowed",
    [
        ("cell_secs = 3\n", "[limits] cell_secs: unknown key", "allowed: cell_seconds, call_seconds"),
        ("memory_gb = '2'\n", "[limits] memory_gb:", "a number > 0"),
        ("call_seconds = 0\n", "[limits] call_seconds:", "a number > 0"),
        ("disk_mb = 1.5\n", "[limits] disk_mb:", "a whole number >= 1"),
        ("inodes = true\n", "[limits] inodes:", "a whole number >= 1"),
    ],
)
def test_a_bad_limit_names_the_key_and_what_is_allowed(tmp_path, line, key, allowed):
    course = _course(tmp_path)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    text = re.sub(rf"(?m)^{line.split()[0]} = .*\n", "", toml.read_text())  # the key once
    toml.write_text(text.replace("[limits]\n", "[limits]\n" + line))
    with pytest.raises(asg.AssignmentError) as info:
        asg.read_contract("cnn", course)
    assert str(info.value).startswith(f"{toml}: {key}") and allowed in str(info.value), str(info.value)


def test_disk_limits_and_the_other_keys_are_read(tmp_path):
    course = _course(tmp_path, "canvas_assignment_id = 98765\npass_percent = 60\nsandbox_ro = ['/opt']\n")
    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("[limits]\n", "[limits]\ndisk_mb = 200\ninodes = 5000\n"))
    a = asg.load("cnn", course)
    assert (a.contract.limits.disk_bytes, a.contract.limits.inodes) == (200 * 1024**2, 5000)
    assert a.contract.canvas_assignment_id == "98765" and not hasattr(a, "meta")
    assert a.contract.pass_percent == 60 and a.contract.sandbox_ro == ["/opt"]


@pytest.mark.parametrize(
    "table, message",
    [
        ("[tolerances.nothing]\nrtol = 1e-6\n", "[tolerances.nothing]: names no question"),
        ("[tolerances.relu]\nrtl = 1e-6\n", "[tolerances.relu]: a table with rtol and/or atol"),
        ("[tolerances.relu]\nrtol = -1\n", "[tolerances.relu]: rtol and atol must be numbers >= 0"),
        ("[points]\nshapes = 0.1\n", "[points]: [points] has unknown keys"),
        ("[points.outputs.relu]\nnope = 1\n", "[points.outputs.relu] names no output ['nope']"),
    ],
)
def test_points_and_tolerances_are_checked(tmp_path, table, message):
    course = _course(tmp_path)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text() + "\n" + table)
    with pytest.raises(asg.AssignmentError, match=re.escape(message)):
        asg.load("cnn", course)


def test_the_student_files_come_from_the_toml_or_else_the_fixtures(tmp_path):
    course = _course(tmp_path, "student_files = ['fixtures.py']\nstudent_check = 'fixtures.check_here'\n")
    a = asg.load("cnn", course)
    assert a.student_files == ["fixtures.py"] and a.student_check == "fixtures.check_here"
    plain = asg.load("cnn", ROOT)
    assert plain.student_files == [] and plain.student_check is None
    # fixtures.py is held by the assignment (student.py reads it there, not in sys.modules)
    assert plain.fixtures is not None and callable(plain.fixtures.cases)


def test_a_mistake_that_raises_is_recorded(tmp_path):
    course = _course(tmp_path)
    with open(course / "solutions" / "cnn_mistakes.py", "a") as fh:
        fh.write("\n\ndef relu_raises(x):\n    raise RuntimeError('boom')\n\n\nMUTANTS['relu_raises'] = relu_raises\n")
    with open(course / "assignments" / "cnn" / "mistakes.toml", "a") as fh:
        fh.write('\n[relu_raises]\nfunction = "relu"\ntitle = "raises"\nexplanation = "raises"\n')
    a = asg.load("cnn", course)
    q = a.question("relu")
    case = next(c for c in q.cases if c.compare)
    assert "relu_raises" not in a.mutant_outputs(case, "relu")
    assert a.mutant_errors[("relu_raises", "relu", case.name)] == "RuntimeError: boom"


@pytest.mark.parametrize("name", asg.available(ROOT))
def test_no_catalogued_mistake_raises_where_it_must_give_an_output(name):
    """A mistake that raises can never be matched to a student's output: the catalogue would
    claim to catch it and not. Every compared case that expects an output is tried."""
    a = asg.load(name, ROOT)
    tried = set()
    for q in a.questions:
        for case in q.cases:
            if case.compare and case.expect_error is None and case.harness is None:
                a.mutant_outputs(case, q.name)
                tried.add(case.name)
    # the assignment is cached: cases that must raise (tried by other tests) may be recorded too
    unexpected = {k: v for k, v in a.mutant_errors.items() if k[2] in tried and k not in MAY_RAISE}
    assert not unexpected, unexpected


def test_no_engine_module_names_an_assignment():
    """Nothing in graders/deepgrade special-cases an assignment by its name."""
    names = set(asg.available(ROOT))
    found = []
    for path in sorted((ROOT / "graders" / "deepgrade").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found, found


def test_the_readme_states_the_contracts_defaults():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    d = contract.LIMIT_DEFAULTS
    stated = f"(defaults {d['cell_seconds']:g}, {d['call_seconds']:g}, {d['total_seconds']:g}, {d['memory_gb']:g})"
    assert stated in readme and f"default {d['call_seconds']:g})" in readme


def test_disk_limits_reach_the_sandbox(tmp_path):
    """[limits] disk_mb and inodes reach the sandbox's own limits (one Limits type: no fake)."""
    course = _course(tmp_path)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml.read_text().replace("[limits]\n", "[limits]\ndisk_mb = 200\ninodes = 5000\n"))
    a = asg.load("cnn", course)
    lim = limits_for(a)
    assert type(lim) is SandboxLimits and (lim.disk_bytes, lim.inodes) == (200 * 1024**2, 5000)
    # the keys the toml does not set keep the sandbox's defaults
    assert (lim.cpu_seconds, lim.open_files) == (SandboxLimits().cpu_seconds, SandboxLimits().open_files)


def test_one_limits_type():
    from deepgrade import sandbox

    assert contract.Limits is SandboxLimits is sandbox.Limits
    assert contract.Limits().memory_gb == contract.LIMIT_DEFAULTS["memory_gb"]


@pytest.mark.parametrize("where", ["import", "cases"])
def test_fixtures_that_fail_are_one_clear_line_naming_the_file_and_line(tmp_path, where):
    """An author's bug or a bad setting while the fixtures import or build their cases: an
    AssignmentError (one line on the command line), naming fixtures.py's line, not a traceback."""
    course = _course(tmp_path, name="broken")
    fixtures = course / "assignments" / "broken" / "fixtures.py"
    text = fixtures.read_text()
    if where == "import":
        text += "\nraise RuntimeError('no data folder')\n"
    else:
        text = text.replace(
            "def cases(", "def cases(*a, **k):\n    raise RuntimeError('no data folder')\n\n\ndef _old_cases("
        )
    fixtures.write_text(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "raise RuntimeError('no data folder')" in s)
    with pytest.raises(asg.AssignmentError) as info:
        asg.load("broken", course)
    message = str(info.value)
    assert message == f"{fixtures}: the fixtures failed (fixtures.py, line {line}): RuntimeError: no data folder"
