"""The grading pipeline for one submission, stage by stage.

load the notebook          notebook.load        -> code cells
run it in a sandbox        sandbox.run          -> plain arrays per call
compare with the reference score.grade_question (judge.judge_case)
diagnose                   judge.judge_case against the mistake catalogue
score                      score.grade_question -> points per question
report                     report.*             -> text, JSON, HTML, CSV
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from .. import sandbox
from ..course.assignment import Assignment, load
from ..portable.feedback import Check
from ..portable.status import ErrorKind, RowStatus, StepStatus
from ..sandbox.budget import Deadline
from . import notebook
from .plan import build_calls, call_id
from .results import QuestionResult, SubmissionResult, missing_question
from .score import grade_question


def limits_for(assignment: Assignment) -> sandbox.Limits:
    """The sandbox's limits: the assignment's ``[limits]`` (contract.Limits, the one limits type,
    defaults there), with the assignment's own times and memory (a caller may change those)."""
    base = assignment.contract.limits if assignment.contract is not None else sandbox.Limits()
    return dataclasses.replace(
        base,
        cell_seconds=assignment.cell_seconds,
        call_seconds=assignment.call_seconds,
        total_seconds=assignment.total_seconds,
        memory_bytes=int(assignment.memory_gb * 1024**3),
    )


def private_paths(assignment: Assignment) -> list[str]:
    """What the sandbox must not read: the assignment folder (hidden fixtures), its reference
    solutions, and every other assignment and solution (checked before a process-mode run;
    see isolation.check_fallback)."""
    paths = [str(assignment.folder)]
    solutions = assignment.folder.parent.parent / "solutions"
    paths += [str(solutions / f"{assignment.name}.py"), str(solutions / f"{assignment.name}_mistakes.py")]
    return paths + [str(assignment.folder.parent), str(solutions)]


def run_cells(
    assignment: Assignment,
    cells: list[tuple[int, str]],
    questions: list[str] | None = None,
    deadline: Deadline | None = None,
) -> sandbox.RunResult:
    """Run the cells and every planned call (of ``questions``, default all) in one sandbox.

    deadline: the submission's (sandbox/budget.py; default: its whole budget from now)."""
    return sandbox.run(
        cells,
        build_calls(assignment, questions),
        limits_for(assignment),
        extra_ro=assignment.contract.sandbox_ro if assignment.contract else [],
        private=private_paths(assignment),
        deadline=deadline,
    )


def score_run(
    assignment: Assignment,
    run: sandbox.RunResult,
    defined: set[str],
    questions: list[str] | None = None,
    deadline: Deadline | None = None,
) -> list[QuestionResult]:
    """Score a run's outcomes in this process (no student code runs here).

    defined: the functions the notebook's cells define (notebook.defined_functions).
    deadline: the submission's (sandbox/budget.py), looked at before each question and each case:
    once it has passed, the questions left get no points and its message."""
    results = []
    for q in assignment.questions:
        if questions is not None and q.name not in questions:
            continue
        if deadline is not None and deadline.stops():
            results.append(out_of_time_question(q, deadline))
            continue
        outcomes = {call_id(q.name, c): run.calls[call_id(q.name, c)] for c in q.cases}
        result = grade_question(assignment, q, outcomes, others=run.calls, deadline=deadline)
        kinds = {(o.error or {}).get("type") for o in outcomes.values() if not o.ok}
        if q.name not in defined and ErrorKind.MISSING in kinds and all(_missing(o) for o in outcomes.values()):
            # only when the name is nowhere: a lambda, a def inside an if or an assignment
            # defines it too, and then its calls' own errors are what the student must see
            result = missing_question(q, f"no function named {q.name} is defined in the notebook")
        results.append(result)
    return results


def out_of_time_question(question, deadline: Deadline) -> QuestionResult:
    """A question not checked because the submission's time budget had passed: no points."""
    return QuestionResult(
        question.name, 0.0, question.points, [Check("checked in time", False, 1.0, [deadline.message()])]
    )


def grade_cells(
    assignment: Assignment,
    cells: list[tuple[int, str]],
    questions: list[str] | None = None,
    defined: set[str] | None = None,
) -> tuple[list[QuestionResult], sandbox.RunResult]:
    """Run the cells and every planned call in one sandbox, then score in this process.

    defined: the functions the cells define, if the caller has parsed them already."""
    run = run_cells(assignment, cells, questions)
    if defined is None:
        defined = notebook.defined_functions(cells)
    return score_run(assignment, run, defined, questions), run


def _missing(outcome: sandbox.StepOutcome) -> bool:
    """A call that did not run because its function does not exist (or a call depending on one)."""
    return not outcome.ok and (outcome.error or {}).get("type") in (ErrorKind.MISSING, ErrorKind.SKIPPED)


def grade_file(assignment: Assignment | str, path: Path | str) -> SubmissionResult:
    """Grade one notebook file. Never raises for a bad submission: the result says why."""
    return grade_notebook(assignment, path)[0]


def grade_notebook(
    assignment: Assignment | str,
    path: Path | str,
    run: sandbox.RunResult | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[SubmissionResult, sandbox.RunResult | None]:
    """Grade one notebook file, and the run that was scored (None: nothing ran, e.g. the
    file is unreadable). Never raises for a bad submission: the result says why.

    run: the stored outcomes of an earlier run of this very notebook under the same run
    key (fingerprint.run_key): re-scored here, and no student code runs; the seconds its
    sandbox took count against the budget as they did when it ran.
    clock: the deadline's clock for the checks (sandbox/budget.py; tests inject one)."""
    if isinstance(assignment, str):
        assignment = load(assignment)
    path = Path(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    try:
        cells = notebook.load(path)
    except notebook.NotebookError as exc:
        return SubmissionResult.not_graded(assignment, str(path), RowStatus.UNREADABLE, str(exc), sha256=digest), None
    defined = notebook.defined_functions(cells)
    if not defined & {q.name for q in assignment.questions}:
        reason = f"the notebook defines none of this assignment's functions ({', '.join(q.name for q in assignment.questions[:3])}, ...): is it the right assignment?"
    else:
        reason = ""
    if run is None:
        # one deadline from the sandbox's start to the last check (sandbox/budget.py)
        run = run_cells(assignment, cells, deadline=Deadline(assignment.total_seconds))
    # checking's deadline: what the sandbox left of the budget, at least budget.check_floor
    checking = Deadline(assignment.total_seconds, clock, spent=run.seconds).for_checking()
    questions = score_run(assignment, run, defined, deadline=checking)
    notes = list(run.notes)
    if checking.stopped:  # the row says why its checks stopped (the grader's words only)
        notes.append(
            f"the time budget ({assignment.total_seconds:g} s for running and checking) ran out while the "
            "outputs were checked: the checks left were not made and earn no points"
        )
    failed_cells = [(i, o) for i, o in sorted(run.cells.items()) if o.status not in (StepStatus.OK, StepStatus.NOT_RUN)]
    for i, o in failed_cells[:5]:
        err = o.error or {}
        notes.append(f"cell {i + 1} of the notebook: {err.get('type', o.status)}: {err.get('message', '')}"[:300])
    incidents = sorted(
        {o.status for o in (*run.cells.values(), *run.calls.values()) if o.status.stopped}
        | ({StepStatus.TIMEOUT} if checking.stopped else set())
    )
    if reason:
        notes.insert(0, reason)
        return SubmissionResult(
            str(path),
            assignment.name,
            questions,
            status=RowStatus.WRONG_ASSIGNMENT,
            reason=reason,
            notes=notes,
            isolation=run.isolation,
            sha256=digest,
            incidents=incidents,
        ), run
    return SubmissionResult(
        str(path), assignment.name, questions, notes=notes, isolation=run.isolation, sha256=digest, incidents=incidents
    ), run
