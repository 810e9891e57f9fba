"""Batch grading of a whole class: parallel, resumable, with class reports.

    subs = intake.expand(["export.zip", "late/"], workdir)
    results = grade_batch("cnn", subs, Path("grades"), workers=2)

Every submission is graded by ``executors.grade_one`` (one sandbox each) in a
worker process; the result is written to ``out/results/<stem>.json`` the moment it
arrives (tmp file + os.replace), so a crash or kill -9 loses only the submissions in
flight. Each run's outcomes (every StepOutcome of every cell and call) are stored too, in
``out/results/outcomes/<stem>.json``. Running the same command again skips every
submission whose file content (sha256) and resume key (fingerprint.py: the assignment's
files, its reference and mistake catalogue, the engine, the inputs sent) match its stored
result. Of the others, those whose notebook and run key (what runs: inputs, harnesses,
sandbox-side code, limits) are unchanged are re-scored here from their stored outcomes,
without a sandbox (a change of points, weights, policy, catalogue or reference); the rest
run again. A line says why for each; ``force=True`` runs them all again.

Then, from the stored results:
    final_grades.csv      Otter-Grader's layout (exports.gradebook_rows), then student_id,
                          student_name and feedback (the row's feedback file)
    canvas.csv            Canvas gradebook import (Student, ID, SIS User ID, SIS Login ID,
                          Section, <assignment>)
    moodle.csv            Moodle assignment grading worksheet (Identifier "Participant N",
                          Full name, Grade, Maximum Grade, Last modified (grade),
                          Feedback comments)
    feedback/<stem>.{html,json,txt}  per row (<name>_<id> for LMS students; intake.py); for a
                          graded row stem.html is the notebook annotated (annotate.py, with
                          stem.ipynb), the flat list stem.report.html
    summary.html, summary.json        the class summary (histogram.png too with matplotlib)

A sandbox that cannot start (isolation.SetupError: bubblewrap gone, Python unreadable to
the sandbox uid, a readable course in the fallback) is the grader's failure: the batch
stops at once and raises it, writing no row for it and no reports; the results stored
before stay, so the same command after the fix grades the others.

Where the grading runs is an executor (executors.py): a local process pool by default,
in this process (serial), or a Dask cluster (executors_dask.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from ..course.assignment import Assignment, load
from ..grading.intake import Submission, readable
from ..grading.results import SubmissionResult
from ..portable.status import RowStatus
from ..reports import exports, prebuild, report, summary
from ..sandbox import RunResult
from ..sandbox.isolation import SetupError
from . import fingerprint
from .executors import SerialExecutor, grade_one, make_executor

RESULT_VERSION = 1
OUTCOMES_VERSION = 1  # results/outcomes/<stem>.json: a run's outcomes, re-scored on a points change


# --------------------------------------------------------------------------- results on disk


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _stored(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != RESULT_VERSION:
        return None
    result = data.get("result")
    if not isinstance(result, dict) or result.get("status", RowStatus.GRADED) not in tuple(RowStatus):
        return None  # not a row this version writes: graded again
    return data


def _not_graded(assignment: Assignment, sub: Submission, status: RowStatus, reason: str) -> SubmissionResult:
    return SubmissionResult.not_graded(
        assignment, sub.source, status, reason, notes=sub.notes, sha256=sub.sha256, student=sub.student
    )


# --------------------------------------------------------------------------- progress


class Progress:
    """counts, rate and time left on stderr; a line every few seconds when not a terminal."""

    def __init__(self, total: int, enabled: bool = True, stream=None) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if not self.tty and now - self.last < 2 and self.done < self.total:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-6)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0
        width = 28
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        line = (
            f"grading [{bar}] {self.done}/{self.total} done, {rate:.2f}/s, "
            f"{int(elapsed) // 60}:{int(elapsed) % 60:02d} elapsed, ETA {int(left) // 60}:{int(left) % 60:02d}"
        )
        if self.tty:
            print("\r" + line[:150], end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            print(file=self.stream, flush=True)


# --------------------------------------------------------------------------- the batch


def grade_batch(
    assignment: Assignment | str,
    submissions: list[Submission],
    out_dir: Path | str,
    workers: int | None = None,
    force: bool = False,
    executor=None,
    progress: bool = True,
    root: Path | str | None = None,
) -> list[SubmissionResult]:
    """Grade every submission (resuming), write results as they finish, then the reports.

    Returns the results in the order of ``submissions``.
    """
    if isinstance(assignment, str):
        assignment = load(assignment, Path(root) if root else None)
    root = Path(root) if root else assignment.folder.parent.parent
    out = Path(out_dir)
    results_dir = out / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    workers = max(1, workers or os.cpu_count() or 1)

    from .. import sandbox

    if sandbox.isolation_mode() != "bubblewrap":
        from ..sandbox.isolation import fallback_reason

        print(
            f"deepgrade: warning: {fallback_reason()}; student code runs with resource limits "
            "only (no network or filesystem isolation)",
            file=sys.stderr,
        )
        # the gradebook and the other students' results must be out of the child's reach too:
        # SetupError (the paths and the fix) before anyone is graded, unless accepted
        from ..grading.pipeline import private_paths
        from ..sandbox.isolation import check_fallback

        check_fallback([*private_paths(assignment), str(out.resolve())])
        from ..grading.pipeline import limits_for
        from ..sandbox.isolation import uncapped_warning  # what its disk caps leave uncapped here, said once

        extra_ro = assignment.contract.sandbox_ro if assignment.contract else []
        if note := uncapped_warning(limits_for(assignment), extra_ro):
            print(f"deepgrade: warning: {note}", file=sys.stderr)

    results: dict[str, SubmissionResult] = {}
    todo: list[Submission] = []
    rescore: list[Submission] = []  # their outcomes are read again one at a time: memory stays flat
    resumed = 0
    key = fingerprint.grading_key(assignment, root)
    run_key = fingerprint.run_key(key)
    regrading: Counter = Counter()  # why stored results are not reused -> how many
    for sub in submissions:
        target = results_dir / f"{sub.stem}.json"
        if sub.status:  # not graded: duplicate or skipped file, recorded now
            r = _not_graded(assignment, sub, sub.status, sub.reason)
            results[sub.stem] = r
            _write_result(target, sub, r, key)
            continue
        stored = None if force else _stored(target)
        if stored and stored.get("assignment") == assignment.name:
            verdict = _verdict(stored, sub, key, assignment.name, results_dir, run_key)
            if verdict is None:
                results[sub.stem] = SubmissionResult.from_dict(stored["result"])
                resumed += 1
                continue
            rescorable, why = verdict
            if why:
                regrading[why] += 1
            if rescorable:
                rescore.append(sub)
                continue
        todo.append(sub)
    for why, n in regrading.items():
        print(f"regrading {n} submission(s): {why}", file=sys.stderr, flush=True)

    bar = Progress(len(rescore) + len(todo), enabled=progress)
    rescored = 0
    for sub in rescore:  # in this process: no sandbox, no student code
        r = _rescored(assignment, sub, results_dir, run_key)
        if r is None:
            todo.append(sub)
            continue
        results[sub.stem] = r
        _write_result(results_dir / f"{sub.stem}.json", sub, r, key)
        rescored += 1
        bar.update(1)
    if resumed or regrading:
        print(
            f"resuming: {resumed} submission(s) already graded with unchanged files are skipped "
            f"(--force runs them again); {rescored} re-scored from their stored outcomes without running "
            f"student code; {len(todo)} to run in the sandbox",
            file=sys.stderr,
            flush=True,
        )

    # annotated notebooks and similarity fingerprints are made as results arrive (prebuild.py)
    pre = prebuild.Prebuilder(assignment, fix=_readable_result)
    for sub in submissions:
        if sub.stem in results:
            pre.add(sub, results[sub.stem], later=True)
    by_path = {str(sub.path): sub for sub in todo}
    own_executor = executor is None
    if executor is None:
        executor = (
            SerialExecutor()
            if workers == 1 and len(todo) <= 1
            else make_executor("local", workers, assignment.name, root)
        )
    items = [(assignment.name, str(root), str(sub.path), sub.student, True) for sub in todo]
    setup_failure = None
    stream = executor.map_unordered(grade_one, items)
    try:
        for data in stream:
            if "setup_failure" in data:  # the sandbox cannot start: stop, record nothing for anyone
                setup_failure = str(data["setup_failure"])
                break
            sub = by_path.pop(str(data.get("file")), None)
            if sub is None:
                continue
            run = data.pop("run", None)
            r = _as_batch_row(SubmissionResult.from_dict(data), sub)
            results[sub.stem] = r
            if isinstance(run, dict):  # before the result: a result never points at stale outcomes
                _write_outcomes(_outcomes_path(results_dir / f"{sub.stem}.json"), sub, run_key, run)
            _write_result(results_dir / f"{sub.stem}.json", sub, r, key)
            pre.add(sub, r)
            bar.update(1)
    finally:
        bar.close()
        if hasattr(stream, "close"):
            stream.close()  # cancels what is queued; what is in flight is not recorded
        if own_executor and hasattr(executor, "close"):
            executor.close()
    if setup_failure is not None:
        # no row, no gradebook: a run after the fix grades everyone not graded yet
        raise SetupError(setup_failure)
    for sub in by_path.values():  # lost by the executor: a row now, regraded next time
        r = _not_graded(
            assignment, sub, RowStatus.ERROR, "the grading worker was lost; run the command again to regrade"
        )
        results[sub.stem] = r
        _write_result(results_dir / f"{sub.stem}.json", sub, r, key)

    pre.finish()
    ordered = [results[s.stem] for s in submissions]
    write_reports(assignment, submissions, ordered, out, pre)
    return ordered


def _as_batch_row(r: SubmissionResult, sub: Submission) -> SubmissionResult:
    """The row as the batch names it: the submission's source, student, sha256 and notes."""
    r.file, r.student, r.sha256 = sub.source, sub.student, sub.sha256
    r.notes = list(sub.notes) + r.notes
    return r


def _verdict(
    stored: dict, sub: Submission, key: dict, name: str, results_dir: Path, run_key: dict
) -> tuple[bool, str] | None:
    """None: the stored result still holds. Else (True: re-score its stored outcomes, False:
    run it again; why in words, "" when a failed grading is simply retried)."""
    if stored.get("sha256") != sub.sha256:
        return False, "re-run (the notebook changed)"
    if fingerprint.changes(stored.get("key"), key, name) is None:
        if stored.get("result", {}).get("status") != RowStatus.ERROR:
            return None
        return False, ""  # the grader failed or its worker was lost last time: run it again
    usable = fingerprint.run_key(stored.get("key")) == run_key and (
        stored.get("result", {}).get("status") == RowStatus.UNREADABLE  # nothing ran: re-scoring reads the file again
        or _stored_run(results_dir, sub, run_key) is not None
    )
    return fingerprint.regrade(stored.get("key"), key, name, usable)


def _rescored(assignment: Assignment, sub: Submission, results_dir: Path, run_key: dict) -> SubmissionResult | None:
    """The submission graded again from its stored outcomes, in this process (no sandbox);
    None if that fails (it is then re-run: a damaged store never costs a grade)."""
    from ..grading.pipeline import grade_notebook

    run = _stored_run(results_dir, sub, run_key)
    if run is None:  # no outcomes: only an unreadable file is scored without them
        from ..grading import notebook

        try:
            notebook.load(sub.path)
            return None
        except notebook.NotebookError:
            run = RunResult({}, {}, [], "")
    try:
        r, _ = grade_notebook(assignment, sub.path, run)
    except Exception as exc:  # e.g. outcomes that lack a call: say so, and run it instead
        what = readable(sub.source, controls=False)
        print(f"deepgrade: re-scoring {what} failed ({type(exc).__name__}); it runs again", file=sys.stderr)
        return None
    if r.sha256 != sub.sha256:  # the file changed since intake: run what is there now
        return None
    return _as_batch_row(r, sub)


def _outcomes_path(result_path: Path) -> Path:
    """results/outcomes/<stem>.json beside results/<stem>.json (a folder of their own: no
    stem's result can be taken for another's outcomes, and results/*.json stay the results)."""
    return result_path.parent / "outcomes" / result_path.name


def _write_outcomes(path: Path, sub: Submission, run_key: dict, run: dict) -> None:
    """The run's outcomes (RunResult.to_dict()), with what they are the outcomes of: the
    notebook's sha256 and the run key (fingerprint.run_key). Re-scored only while both hold."""
    payload = {"version": OUTCOMES_VERSION, "sha256": sub.sha256, "run_key": run_key, "run": run}
    path.parent.mkdir(exist_ok=True)
    _atomic_write(path, json.dumps(payload, separators=(",", ":")))


def _stored_run(results_dir: Path, sub: Submission, run_key: dict) -> RunResult | None:
    """The stored outcomes of this notebook under this run key, or None (none stored, another
    notebook or run key, or a damaged file: all re-run). Read as data: arrays with
    allow_pickle=False (stored.py), every field's kind checked."""
    try:
        data = json.loads(_outcomes_path(results_dir / f"{sub.stem}.json").read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != OUTCOMES_VERSION:
            return None
        if data.get("sha256") != sub.sha256 or data.get("run_key") != run_key:
            return None
        return RunResult.from_dict(data.get("run"))
    except Exception:  # OSError, ValueError, StoredError, RecursionError...: never a crash
        return None


def _write_result(path: Path, sub: Submission, r: SubmissionResult, key: dict) -> None:
    """The result and its resume key (fingerprint.py): reused only while both the
    notebook's sha256 and the key are unchanged."""
    payload = {
        "version": RESULT_VERSION,
        "stem": sub.stem,
        "student": sub.student,
        "name": sub.name,
        "source": sub.source,
        "sha256": sub.sha256,
        "assignment": r.assignment,
        "key": key,
        "result": r.to_dict(),
    }
    _atomic_write(path, json.dumps(payload, indent=1, default=str))


# --------------------------------------------------------------------------- reports


def write_reports(
    assignment: Assignment,
    submissions: list[Submission],
    results: list[SubmissionResult],
    out: Path,
    pre: prebuild.Prebuilder | None = None,
) -> None:
    """final_grades.csv, canvas.csv, moodle.csv, feedback/<stem>.* and the class summary.

    Text that came from a submission (file names, error messages the sandbox passed on)
    may hold lone surrogates, which UTF-8 files cannot: made readable first, so that no
    name or message can stop the reports. pre: what was built while grading ran."""
    for r in results:
        _readable_result(r)
    exports.write_gradebook(assignment, results, out / "final_grades.csv", submissions)
    exports.write_canvas_csv(assignment, submissions, results, out / "canvas.csv")
    exports.write_moodle_csv(assignment, submissions, results, out / "moodle.csv")
    feedback = out / "feedback"
    for sub, r in zip(submissions, results):
        built = pre.built(sub.stem, r) if pre is not None else None
        report.write_submission_reports(r, feedback, sub.stem, assignment, sub.path, built)
    similar = _similarity(assignment, submissions, results, out, pre.prepared if pre is not None else None)
    summary.write_class_summary(assignment, submissions, results, out, similar)


def _similarity(
    assignment: Assignment, submissions: list[Submission], results: list[SubmissionResult], out: Path, prepared=None
):
    """similarity.html/.json over the graded notebooks (similarity.py): the report, or why
    there is none (a sentence for the summary). Flags only; never stops the reports.

    prepared: similarity.prepare's answer (or why not) for every readable submission, made
    while grading ran; ranked here among the graded ones."""
    from ..grading import notebook
    from ..reports import similarity

    graded = {sub.stem for sub, r in zip(submissions, results) if r.status == RowStatus.GRADED and sub.path is not None}
    if isinstance(prepared, str):
        return prepared
    try:
        if prepared is None:
            subs = []
            for sub in submissions:
                if sub.stem in graded:
                    try:
                        subs.append((summary.who(sub), sub.stem, notebook.read(sub.path)))
                    except notebook.NotebookError:
                        continue
            prepared = similarity.prepare(assignment, subs)
        report = similarity.rank(prepared, keep=graded)
    except similarity.Unavailable as exc:
        return str(exc)
    except Exception as exc:  # a flag for a human: its failure must not cost the gradebook
        return f"the similarity report failed ({type(exc).__name__})"
    similarity.write(report, out, assignment.name)
    return report


def _readable_result(r: SubmissionResult) -> None:
    def fix(text: str) -> str:
        return readable(text, controls=False)

    r.file, r.reason, r.student = fix(r.file), fix(r.reason), fix(r.student)
    r.notes = [fix(n) for n in r.notes]
    for q in r.questions:
        for c in q.checks:
            c.label = fix(c.label)
            c.details = [fix(d) for d in c.details]


def grade_paths(
    assignment: Assignment, paths: list[str], out_dir: Path, **kwargs
) -> tuple[list[Submission], list[SubmissionResult]]:
    """intake + grade_batch, with the zip extraction folder cleaned up afterwards."""
    from ..grading import intake

    work = Path(tempfile.mkdtemp(prefix="deepgrade-intake-"))
    try:
        subs = intake.expand(paths, work, notebook=assignment.notebook.name)
        print(f"deepgrade: {intake.describe(subs)}", file=sys.stderr, flush=True)
        return subs, grade_batch(assignment, subs, out_dir, **kwargs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
