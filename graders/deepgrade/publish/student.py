"""The student's copy of an assignment: the notebook and its public checks, nothing else.

    dist/<name>/<name>.ipynb           the notebook (outputs cleared)
    dist/<name>/tests/<question>.py    Otter exception-based test files (grader.check)
    dist/<name>/_deepgrade_check/      __init__.py (check(): what grader.check calls), public.json,
                                       deepgrade/portable/: the package copied whole, under the name
                                       it has in the grader (student_runner.py runs the checks),
                                       and an assignment's student_files (keras: its check models)

public.json holds only public fixtures: their inputs, expected outputs and the
catalogued mistakes' outputs on them (so the notebook diagnoses as the grader does),
and the assignment's points policy (so it scores as the grader does).
No file of solutions/ and nothing of a hidden fixture is written.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat

from .. import portable
from ..course.assignment import Assignment, Case, Question, Ref
from ..grading import dependencies
from ..grading.notebook import strip_outputs
from ..grading.plan import call_id, case_spec
from ..portable import wire
from ..portable.scoring import group_weight

PORTABLE = Path(portable.__file__).resolve().parent

TEST_FILE = '''"""Public checks for {name} (deepgrade). Run with grader.check("{name}")."""

from otter.test_files import test_case

OK_FORMAT = False

name = "{name}"
points = {points}


@test_case(points={points}, hidden=False)
def test_{name}({params}):
    from _deepgrade_check import check

    check("{name}", {{{mapping}}})
'''


# _deepgrade_check/__init__.py: puts the copy's folder first on sys.path, so that the shipped
# deepgrade.portable imports under the name it has in the grader (an assignment's student files
# import it as the grader's do: no fallback), and reads this copy's public.json.
COPY_INIT = '''"""deepgrade's public checks for this notebook: grader.check("<question>") calls check().

deepgrade/portable/ is the grader's own judging code, shipped under the name it has in the grader.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


def check(name, functions):
    """Run the public checks of question ``name`` on the student's ``functions`` (name -> function)."""
    from deepgrade.portable.student_runner import check as run

    return run(name, functions, HERE / "public.json")
'''

# _deepgrade_check/deepgrade/__init__.py: the copy ships only the portable part of deepgrade
PACKAGE_INIT = '''"""The portable part of deepgrade (deepgrade.portable), shipped with a student's copy."""
'''


def public_data(assignment: Assignment) -> dict:
    """Public cases with expected outputs and the catalogued mistakes' outputs, computed here."""
    questions = {}
    for q in assignment.questions:
        cases = []
        public = [c for c in q.cases if not c.hidden]
        needed = {r.case for c in public for r in list(c.args) + list(c.kwargs.values()) if isinstance(r, Ref)}
        for case in q.cases:
            if case.hidden and case.name not in needed:
                continue
            if case.harness is not None:
                continue  # harness cases (model training) run only in the grader
            cases.append(_case_entry(assignment, q, case))
        questions[q.name] = {"points": q.points, "cases": cases, "hidden_weight": hidden_weight(assignment, q)}
        if _trains_locally(assignment, q):
            questions[q.name]["trained"] = True
    explanations = assignment.explanations
    data = {
        "assignment": assignment.name,
        "questions": questions,
        "explanations": explanations,
        "policy": assignment.policy.to_dict(),
    }
    if any(q.get("trained") for q in questions.values()):
        data["student_check"] = assignment.student_check
    return data


def hidden_weight(assignment: Assignment, q: Question) -> float:
    """What the question's hidden checks weigh in the grade (every compared case that runs with
    the hidden calls: hidden, or reading a hidden call's value), known before any call; with the
    public checks' own weight it gives what the public checks are worth (scoring.split_points)."""
    hidden = {c.name for c in q.cases if c.hidden}
    grew = True
    while grew:  # a case that reads a hidden-phase call's value runs in the hidden phase too
        grew = False
        for c in q.cases:
            refs = [a.case for a in [*c.args, *c.kwargs.values()] if isinstance(a, Ref)]
            if c.name not in hidden and any(r in hidden for r in refs):
                hidden.add(c.name)
                grew = True
    group = [(c.outputs, c.expect_error is not None) for c in q.cases if c.compare and c.name in hidden]
    return group_weight(assignment.policy, q.name, group)


def _trains_locally(assignment: Assignment, question) -> bool:
    """A question judged by harness calls, whose files ship to the student (assignment.toml
    ``student_files`` and ``student_check``): grader.check trains the model in the student's kernel."""
    return (
        assignment.student_check is not None
        and bool(assignment.student_files)
        and any(c.harness is not None for c in question.cases)
    )


def _case_entry(assignment: Assignment, q: Question, case: Case) -> dict:
    """The case's specification (``plan.case_spec``, the very one the sandbox plan is made of) and,
    for a public compared case, its public answers: ``expected``, ``mistakes`` (mistake id -> its output),
    ``own_input`` and ``composite`` (what grader.check needs to judge it on the student's own
    intermediate or parts, as the grader does)."""
    spec = case_spec(assignment, q, case)
    if spec.hidden:
        spec = replace(spec, compare=False)  # shipped only as the input of a public case
    entry = {**spec.to_dict(), "expected": None, "mistakes": {}}
    if spec.compare and case.expect_error is None:
        entry["expected"] = wire.encode(assignment.expected(case, q.name))
        entry["mistakes"] = {mid: wire.encode(v) for mid, v in assignment.mutant_outputs(case, q.name).items()}
        if case.own_input is not None:
            entry["own_input"] = _own_input_entry(assignment, q, case)
        composite = dependencies.candidates(assignment, q, case)
        if composite["parts"]:
            entry["composite"] = composite  # judged on the student's own parts too (dependencies.py)
    return entry


def _own_input_entry(assignment: Assignment, q: Question, case: Case) -> dict:
    """What grader.check needs to judge a public case on the student's own intermediate as the
    grader does (dependencies.own_alternative_for): the reference's intermediate (public: it is an
    expected output of a public case) and, for each catalogued wrong producer, its
    intermediate with what a right function and each catalogued mistake return on it.
    No reference code."""
    producer = dependencies.producer_case(assignment, q, case)
    return {
        "case": call_id(q.name, producer),
        "index": case.own_input.index,
        "function": producer.function or q.name,
        "what": case.own_input.what,
        "see": case.own_input.see,
        "reference": wire.encode(dependencies.own_reference(assignment, q, case)),
        "candidates": [
            [wire.encode(i), wire.encode(e), {mid: wire.encode(v) for mid, v in m.items()}]
            for i, e, m in dependencies.own_candidates(assignment, q, case)
        ],
    }


MANIFEST = ".deepgrade-student-copy"
# made when the copy is used (running the notebook, grader.check): not the instructor's files
_CACHES = {"__pycache__", ".ipynb_checkpoints"}


class StudentCopyError(Exception):
    """The target folder cannot be used for a student copy; the message says why and what to do."""


def _written_by_us(out: Path, notebook_name: str) -> bool:
    """Is ``out`` a student copy deepgrade wrote? Its manifest lists every file in it
    (caches aside); a copy without a manifest (older deepgrade) must have exactly the
    layout written below. Anything else (assignment.toml, solutions/, a course folder)
    is not ours."""
    files = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if not p.is_dir() and not _CACHES & set(p.relative_to(out).parts)
    }
    manifest = out / MANIFEST
    if manifest.is_file() and not manifest.is_symlink():
        try:
            listed = set(json.loads(manifest.read_text(encoding="utf-8")))
        except (ValueError, TypeError, UnicodeDecodeError):
            return False
        return files <= listed | {MANIFEST}
    top = {p.name for p in out.iterdir()} - _CACHES
    return (
        (out / "_deepgrade_check" / "public.json").is_file()
        and top <= {notebook_name, "tests", "_deepgrade_check"}
        and all(f.endswith(".py") for f in files if f.startswith("tests/"))
    )


def _prepare(out: Path, assignment: Assignment, force: bool) -> None:
    """Make ``out`` ready for a new copy. Deletes only a previous student copy, and only with force."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise StudentCopyError(f"{out} exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return
    resolved = out.resolve()
    course = assignment.folder.resolve().parent.parent
    protected = [assignment.folder.resolve(), course / "assignments", course / "solutions", course]
    if any(resolved == p or p.is_relative_to(resolved) for p in protected) or not _written_by_us(
        out, assignment.notebook.name
    ):
        raise StudentCopyError(
            f"{out} is not empty and is not a student copy deepgrade wrote; choose another --out (nothing was deleted)"
        )
    if not force:
        raise StudentCopyError(f"{out} already holds a student copy; pass --force to replace it")
    shutil.rmtree(out)


def make_student_copy(assignment: Assignment, out: Path, force: bool = False) -> Path:
    """Write the student copy to ``out``: a new or empty folder, or (with ``force``) a
    previous student copy, which is replaced. Raises StudentCopyError otherwise; never
    deletes a folder it did not write."""
    out = Path(out)
    _prepare(out, assignment, force)
    (out / "tests").mkdir(parents=True, exist_ok=True)
    pkg = out / "_deepgrade_check"
    pkg.mkdir(exist_ok=True)
    nb = nbformat.read(assignment.notebook, as_version=4)
    nbformat.write(strip_outputs(nb), out / assignment.notebook.name)
    (pkg / "__init__.py").write_text(COPY_INIT, encoding="utf-8")
    (pkg / "deepgrade" / "portable").mkdir(parents=True, exist_ok=True)
    (pkg / "deepgrade" / "__init__.py").write_text(PACKAGE_INIT, encoding="utf-8")
    for f in ("__init__.py", *portable.MODULES):  # the package whole (its test: every module is listed)
        shutil.copy(PORTABLE / f, pkg / "deepgrade" / "portable" / f)
    data = public_data(assignment)
    (pkg / "public.json").write_text(json.dumps(data))
    if any(q.get("trained") for q in data["questions"].values()):
        for rel in assignment.student_files:
            (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(assignment.folder / rel, pkg / rel)
    for q in assignment.questions:
        functions = sorted({c["function"] for c in data["questions"][q.name]["cases"]} | {q.name})
        if data["questions"][q.name].get("trained"):
            functions = sorted(x.name for x in assignment.questions)  # a model may use another answer
        (out / "tests" / f"{q.name}.py").write_text(
            TEST_FILE.format(
                name=q.name,
                points=q.points,
                params=", ".join(functions),
                mapping=", ".join(f'"{f}": {f}' for f in functions),
            )
        )
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    (out / MANIFEST).write_text(json.dumps(written, indent=0) + "\n", encoding="utf-8")
    return out
