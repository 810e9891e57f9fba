"""The checks every numpy assignment passes, written once (issue 14 items 5 and 6).

Parametrised over every assignment found under assignments/ that is graded by calling its
functions (helpers.numpy_assignments: not one whose cases train models in a harness; those
are graded by their own tests), and over an exercise `deepgrade new` has just written into
an empty course folder, with no test written for it by hand:

- the notebook filled with the reference earns full marks and the untouched one (the stubs)
  zero without crashing, both through the sandbox (the real path);
- the catalogue (mistakes.toml), the mutants (solutions/<name>_mistakes.py) and the questions
  agree; every mutant differs from the reference on some case; every mistake loses points in
  the graded notebook, is named there with its explanation, and leaves the questions that do
  not use the mutated function whole;
- no hidden check shows an expected value;
- the committed notebook is what make_notebook.py builds, with stable cell ids.

What is particular to one assignment (the lecture's numbers, rnn's consistency credit, gated's
gate-by-gate feedback, ...) stays in test_<name>_grading.py.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from inprocess import share

from deepgrade import assignment as asg
from deepgrade import notebook, pipeline
from deepgrade.portable import compare
from helpers import NEW_EXERCISE, ROOT, diagnoses, hidden_expected_strings, hidden_leaks, numpy_assignments, question

NEW = NEW_EXERCISE  # the exercise `deepgrade new` writes (conftest.new_course)
NUMPY = numpy_assignments(ROOT)
EVERY = [*NUMPY, NEW]


@pytest.fixture(scope="module")
def load(new_course):
    def get(name: str) -> asg.Assignment:
        return asg.load(name, new_course if name == NEW else ROOT)

    return get


def _load_here(name: str) -> asg.Assignment:
    return asg.load(name, ROOT)


MISTAKES = [(name, mid) for name in NUMPY for mid in sorted(_load_here(name).mistakes)]


# ---------------------------------------------------------------- grading notebooks (sandboxed)


def filled(a: asg.Assignment, overrides: dict | None = None) -> nbformat.NotebookNode:
    """The committed notebook, every stub filled from the reference, then ``overrides``."""
    nb = notebook.fill(
        nbformat.read(a.notebook, as_version=4), {q.name: getattr(a.reference, q.name) for q in a.questions}
    )
    return notebook.fill(nb, overrides) if overrides else nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade a notebook once per (assignment, key) and reuse the result."""
    cache: dict[tuple[str, str], pipeline.SubmissionResult] = {}
    folder = tmp_path_factory.mktemp("every_assignment")

    def get(a: asg.Assignment, key: str, make) -> pipeline.SubmissionResult:
        if (a.name, key) not in cache:
            path = folder / f"{a.name}-{key}.ipynb"
            nbformat.write(make(), path)
            cache[(a.name, key)] = pipeline.grade_file(a, path)
        return cache[(a.name, key)]

    return get


def reference_result(a, graded):
    return graded(a, "reference", lambda: filled(a))


def stub_result(a, graded):
    return graded(a, "stub", lambda: nbformat.read(a.notebook, as_version=4))


def mutant_result(a, graded, mid: str):
    return graded(a, f"mutant_{mid}", lambda: filled(a, {a.mistakes[mid].function: a.mutants[mid]}))


def failing_details(q) -> str:
    return "\n".join(d for c in q.checks if not c.passed for d in c.details)


@pytest.mark.parametrize("name", EVERY)
def test_reference_notebook_gets_full_marks(name, load, graded):
    a = load(name)
    r = reference_result(a, graded)
    assert r.status == "graded"
    assert r.points == r.max_points == a.max_points, {
        q.name: failing_details(q) for q in r.questions if q.points < q.max_points
    }
    assert [q.name for q in r.questions] == [q.name for q in a.questions]
    for q in r.questions:
        assert q.checks and all(c.passed for c in q.checks), (q.name, [c.label for c in q.checks if not c.passed])
    assert any(c.hidden for q in r.questions for c in q.checks)  # the hidden cases were graded too


@pytest.mark.parametrize("name", EVERY)
def test_untouched_notebook_gets_zero_without_crashing(name, load, graded):
    a = load(name)
    r = stub_result(a, graded)
    assert r.status == "graded"
    assert r.points == 0
    assert [q.name for q in r.questions] == [q.name for q in a.questions]
    for q in r.questions:
        assert q.points == 0 and q.checks, q.name
        # the stub says so; a question graded on another function's output (rnn_backward on
        # rnn_forward's cache) may instead say that its input never came
        if all(c.function in (None, q.name) for c in a.question(q.name).cases):
            assert "NotImplementedError" in failing_details(q), q.name
        else:
            assert "NotImplementedError" in failing_details(q) or "did not return" in failing_details(q), q.name


@pytest.mark.parametrize("name", EVERY)
def test_reference_keeps_everything_in_process(name, load):
    """The in-process scorer (tests/inprocess.py, which the catalogue tests use) agrees."""
    a = load(name)
    for q in a.questions:
        assert share(a, q, {}) == 1.0, q.name


# ---------------------------------------------------------------- the mistake catalogue


@pytest.mark.parametrize("name", EVERY)
def test_catalogue_ids_match_mutants_and_questions(name, load):
    a = load(name)
    folder = a.folder.parents[1]
    catalogue = tomllib.loads((a.folder / "mistakes.toml").read_text())
    mutants_file = folder / "solutions" / f"{name}_mistakes.py"
    assert mutants_file.is_file()
    # read again here, not through the loader (imported under another name: sys.modules keeps the loader's)
    spec = importlib.util.spec_from_file_location(f"_mutants_of_{name}", mutants_file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = module.MUTANTS
    assert set(catalogue) == set(mutants) == set(a.mutants) == set(a.mistakes)
    questions = {q.name for q in a.questions}
    for mid, m in catalogue.items():
        assert m["function"] in questions, mid
        assert m["title"].strip() and m["explanation"].strip(), mid
        reference = inspect.signature(getattr(a.reference, m["function"])).parameters
        assert list(inspect.signature(mutants[mid]).parameters) == list(reference), mid


def _differs(a: asg.Assignment, case, function: str, mid: str) -> bool:
    """True when the mutant's output on this case is not the reference's (or it returns
    where the reference raises)."""
    outputs = a.mutant_outputs(case, function)
    if case.expect_error is not None:
        return mid in outputs  # returned a value where it must raise
    got = outputs.get(mid)
    if got is None:
        return True  # it raised
    expected = a.expected(case, function)
    e, g = outputs.parts(expected, case.outputs), outputs.parts(got, case.outputs)
    return any(not compare.same_output(g[k], e[k], case.rtol, case.atol) for k in e)


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_each_mutant_differs_from_reference_somewhere(name, mid):
    a = _load_here(name)
    fn = a.mistakes[mid].function
    cases = [c for c in a.question(fn).cases if c.compare and (c.function or fn) == fn]
    assert cases and any(_differs(a, c, fn, mid) for c in cases)


def _same_somewhere(a: asg.Assignment, function: str, mid: str, other: str) -> bool:
    """Whether two mutants of ``function`` return the same on some compared case."""
    for case in a.question(function).cases:
        if not case.compare or case.expect_error is not None or (case.function or function) != function:
            continue
        outputs = a.mutant_outputs(case, function)
        if outputs.get(mid) is None or outputs.get(other) is None:
            continue
        x, y = outputs.parts(outputs[mid], case.outputs), outputs.parts(outputs[other], case.outputs)
        if all(compare.same_output(x[k], y[k], case.rtol, case.atol) for k in x):
            return True
    return False


def _called(a: asg.Assignment) -> dict[str, set[str]]:
    """Function name -> the names every reference function calls, directly or not (from the
    reference's source: a mutant notebook's other functions call the mutant by its name)."""
    tree = ast.parse(Path(a.reference.__file__).read_text())
    direct = {
        f.name: {n.func.id for n in ast.walk(f) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        for f in tree.body
        if isinstance(f, ast.FunctionDef)
    }
    closure = {}
    for name in direct:
        seen, todo = set(), [name]
        while todo:
            for callee in direct.get(todo.pop(), ()):
                if callee not in seen:
                    seen.add(callee)
                    todo.append(callee)
        closure[name] = seen
    return closure


def _uses(a: asg.Assignment, q, function: str) -> bool:
    """Whether grading question q calls ``function``: its own function or a case's does."""
    called = _called(a)
    used = {q.name} | {c.function for c in q.cases if c.function}
    return function in used or any(function in called.get(u, ()) for u in used)


@pytest.mark.parametrize(("name", "mid"), MISTAKES)
def test_each_mistake_loses_points_and_is_named_in_the_graded_notebook(name, mid, graded):
    a = _load_here(name)
    m = a.mistakes[mid]
    r = mutant_result(a, graded, mid)
    assert r.status == "graded"
    q = question(r, m.function)
    assert q.points < q.max_points, f"{mid} earns full marks on {m.function}"
    assert mid in diagnoses(q), (diagnoses(q), failing_details(q))
    # no other mistake is named unless it gives this one's output on some case (the evidence
    # of that case matches both)
    for other in diagnoses(q) - {mid}:
        assert _same_somewhere(a, m.function, mid, other), (mid, other, failing_details(q))
    # the student reads the catalogue's explanation, whole, on a failed check
    explanation = " ".join(m.explanation.split())
    assert any(explanation in " ".join(" ".join(c.details).split()) for c in q.checks if not c.passed)
    # the questions that do not use the mutated function keep full marks
    for other in r.questions:
        if other.name != m.function and not _uses(a, a.question(other.name), m.function):
            assert other.points == other.max_points, (other.name, failing_details(other))


# ---------------------------------------------------------------- hidden checks


@pytest.mark.parametrize("name", EVERY)
def test_hidden_checks_never_show_expected_values(name, load, graded):
    a = load(name)
    secrets = hidden_expected_strings(a)
    assert secrets
    results = [stub_result(a, graded)] + [mutant_result(a, graded, mid) for mid in sorted(a.mistakes)]
    leaks, failed = hidden_leaks(results, secrets)
    assert not leaks, leaks[:3]
    # the scan looked at failing hidden checks, not only passing ones
    assert failed > (20 if a.mistakes else 0)


# ---------------------------------------------------------------- the notebook is built, not edited

_BUILD = "import runpy, sys, nbformat; sys.stdout.write(nbformat.writes(runpy.run_path(sys.argv[1])['build']()))"


def _built(folder: Path) -> str:
    # in its own process, as an instructor runs it: this one holds the course's solutions/
    proc = subprocess.run(
        [sys.executable, "-c", _BUILD, str(folder / "make_notebook.py")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.parametrize("name", [*EVERY, "keras"])
def test_committed_notebook_is_what_make_notebook_builds(name, new_course):
    """The notebook says what its make_notebook.py says (rebuild it after changing either),
    byte for byte, through authoring.new_notebook: stable cell ids, not nbformat's random ones."""
    folder = (new_course if name == NEW else ROOT) / "assignments" / name
    toml = tomllib.loads((folder / "assignment.toml").read_text())
    committed = folder / toml.get("notebook", f"{name}.ipynb")
    text = _built(folder)
    assert committed.read_text() == (text if text.endswith("\n") else text + "\n")
    ids = [c.id for c in nbformat.reads(text, as_version=4).cells]
    assert ids == [f"{name}-{i:02d}" for i in range(len(ids))]
    if name == NEW:  # a scratch course: run the script as the instructor does, writing the notebook
        written = committed.read_bytes()
        subprocess.run([sys.executable, str(folder / "make_notebook.py")], check=True, capture_output=True)
        assert committed.read_bytes() == written


def test_the_discovery_finds_the_numpy_assignments_and_leaves_out_trained_ones():
    assert {"cnn", "rnn", "gated"} <= set(NUMPY)
    for name in asg.available(ROOT):
        if name not in NUMPY:
            a = _load_here(name)
            assert any(c.harness for q in a.questions for c in q.cases), name
