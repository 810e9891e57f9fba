"""Batch grading of a whole class: parallel, resumable, with class reports.

    subs = intake.expand(["export.zip", "late/"], workdir)
    results = grade_batch("cnn", subs, Path("grades"), workers=2)

Every submission is graded by ``grade_one`` (one sandbox each, see sandbox.py) in a
worker process; the result is written to ``out/results/<stem>.json`` the moment it
arrives (tmp file + os.replace), so a crash or kill -9 loses only the submissions in
flight. Running the same command again skips every submission whose file content
(sha256) matches its stored result; ``force=True`` regrades them all.

Then, from the stored results:
    final_grades.csv      Otter-Grader's layout (report.gradebook_rows)
    canvas.csv            Canvas gradebook import (Student, ID, SIS User ID, SIS Login ID,
                          Section, <assignment>)
    moodle.csv            Moodle assignment grading worksheet (Identifier "Participant N",
                          Full name, Grade, Maximum Grade, Last modified (grade),
                          Feedback comments)
    feedback/<stem>.{html,json,txt}  per student
    summary.html + histogram.png      the class summary for the instructor

Executors
---------
An executor is any object with

    map_unordered(fn, items) -> Iterator[dict]

that calls ``fn(*item)`` for every item (a tuple of plain, picklable values) somewhere
and yields the returned dicts in any order, as they finish. ``fn`` is ``grade_one``, a
module-level function taking only strings and returning plain JSON-able data, so an
executor may run it in another process or on another machine (which needs the same
project root and deepgrade installed). An executor may yield fewer results than items
(a lost worker): the batch records those as "error" rows and a re-run grades them.
Executors may also have ``close()``. Register a new one in ``EXECUTORS`` or pass an
instance as ``executor=`` (e.g. the Dask executor in executors_dask.py).
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import report
from .assignment import Assignment, load
from .compare import Check
from .intake import Submission
from .pipeline import SubmissionResult
from .score import QuestionResult, missing_question

RESULT_VERSION = 1


# --------------------------------------------------------------------------- the unit of work


def grade_one(assignment_name: str, root: str, path: str, student: str) -> dict:
    """Grade one notebook file; plain data out (``SubmissionResult.to_dict()``). Never raises."""
    from .pipeline import grade_file

    try:
        assignment = load(assignment_name, Path(root))
        result = grade_file(assignment, path)
        result.student = student
        return result.to_dict()
    except Exception as exc:  # a grader bug must cost one row, not the batch
        return {
            "file": path,
            "student": student,
            "assignment": assignment_name,
            "status": "error",
            "reason": f"the grader failed: {type(exc).__name__}: {str(exc)[:300]}",
            "questions": [],
        }


def _init_worker(assignment_name: str, root: str) -> None:
    """Runs once per worker process: imports and the assignment (reference, fixtures) loaded once."""
    import numpy  # noqa: F401

    from . import sandbox

    load(assignment_name, Path(root))
    sandbox.isolation_mode()


# --------------------------------------------------------------------------- executors


class SerialExecutor:
    """Grades in this process, one at a time (debugging, or a single core)."""

    def map_unordered(self, fn: Callable[..., dict], items: Iterable[tuple]) -> Iterator[dict]:
        for item in items:
            yield fn(*item)

    def close(self) -> None:
        pass


class LocalExecutor:
    """A local process pool; each worker loads the assignment once (initializer).

    A worker that dies (it should not: student code runs in its own sandbox) breaks the
    pool; the pool is started again and the items not finished are retried once.
    """

    def __init__(self, workers: int | None = None, initializer: Callable | None = None, initargs: tuple = ()) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.initializer = initializer
        self.initargs = initargs

    def map_unordered(self, fn: Callable[..., dict], items: Iterable[tuple]) -> Iterator[dict]:
        pending = list(items)
        attempts: Counter = Counter()
        while pending:
            pool = ProcessPoolExecutor(self.workers, initializer=self.initializer, initargs=self.initargs)
            futures = {}
            queue = list(pending)
            broken = False
            try:
                # keep only a few items queued per worker so a broken pool loses little
                while queue or futures:
                    while queue and len(futures) < 2 * self.workers:
                        item = queue.pop(0)
                        futures[pool.submit(fn, *item)] = item
                    done, _ = wait(futures, return_when=FIRST_COMPLETED)
                    for fut in done:
                        item = futures.pop(fut)
                        try:
                            result = fut.result()
                        except BrokenProcessPool:
                            broken = True
                            continue
                        pending.remove(item)
                        yield result
                    if broken:
                        break
            finally:
                pool.shutdown(wait=not broken, cancel_futures=True)
            if broken:
                for item in list(pending):
                    attempts[item] += 1
                    if attempts[item] > 2:
                        pending.remove(item)  # not yielded: recorded as an error row

    def close(self) -> None:
        pass


EXECUTORS: dict[str, Callable[..., object]] = {"local": LocalExecutor, "serial": lambda **kw: SerialExecutor()}


def make_executor(name: str, workers: int, assignment_name: str, root: Path):
    if name == "dask" and "dask" not in EXECUTORS:
        from . import executors_dask  # noqa: F401  (registers itself in EXECUTORS)
    if name not in EXECUTORS:
        raise KeyError(f"unknown executor {name!r}; available: {', '.join(sorted(EXECUTORS))}")
    return EXECUTORS[name](workers=workers, initializer=_init_worker, initargs=(assignment_name, str(root)))


# --------------------------------------------------------------------------- results on disk


def result_from_dict(d: dict) -> SubmissionResult:
    questions = [
        QuestionResult(
            q["name"],
            float(q["points"]),
            float(q["max_points"]),
            [
                Check(
                    c["label"],
                    bool(c["passed"]),
                    float(c.get("weight", 1.0)),
                    list(c.get("details", [])),
                    list(c.get("diagnosis", [])),
                    bool(c.get("hidden", False)),
                )
                for c in q.get("checks", [])
            ],
        )
        for q in d.get("questions", [])
    ]
    return SubmissionResult(
        file=d.get("file", ""),
        assignment=d.get("assignment", ""),
        questions=questions,
        status=d.get("status", "graded"),
        reason=d.get("reason", ""),
        notes=list(d.get("notes", [])),
        isolation=d.get("isolation", ""),
        sha256=d.get("sha256", ""),
        student=d.get("student", ""),
        incidents=list(d.get("incidents", [])),
    )


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
    return data if isinstance(data, dict) and data.get("version") == RESULT_VERSION else None


def _not_graded(assignment: Assignment, sub: Submission, status: str, reason: str) -> SubmissionResult:
    qs = [missing_question(q, f"not graded: {reason}") for q in assignment.questions]
    return SubmissionResult(
        sub.source,
        assignment.name,
        qs,
        status=status,
        reason=reason,
        notes=list(sub.notes),
        sha256=sub.sha256,
        student=sub.student,
    )


# --------------------------------------------------------------------------- progress


class Progress:
    """counts, rate and time left on stderr; a line every few seconds when not a terminal."""

    def __init__(self, total: int, resumed: int, enabled: bool = True, stream=None) -> None:
        self.total, self.resumed, self.done = total, resumed, 0
        self.enabled = enabled and total > 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last = 0.0

    def update(self, n: int = 1, label: str = "") -> None:
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

    from . import sandbox

    if sandbox.isolation_mode() != "bubblewrap":
        print(
            "deepgrade: warning: bubblewrap is not available; student code runs with resource limits "
            "only (no network or filesystem isolation)",
            file=sys.stderr,
        )

    results: dict[str, SubmissionResult] = {}
    todo: list[Submission] = []
    resumed = 0
    for sub in submissions:
        target = results_dir / f"{sub.stem}.json"
        if sub.status:  # not graded: duplicate or skipped file, recorded now
            r = _not_graded(assignment, sub, sub.status, sub.reason)
            results[sub.stem] = r
            _write_result(target, sub, r)
            continue
        stored = None if force else _stored(target)
        if (
            stored
            and stored.get("sha256") == sub.sha256
            and stored.get("assignment") == assignment.name
            and stored.get("result", {}).get("status") != "error"
        ):
            results[sub.stem] = result_from_dict(stored["result"])
            resumed += 1
            continue
        todo.append(sub)
    if resumed:
        print(
            f"resuming: {resumed} submission(s) already graded with unchanged files are skipped "
            f"(--force regrades them); {len(todo)} to grade",
            file=sys.stderr,
            flush=True,
        )

    by_path = {str(sub.path): sub for sub in todo}
    bar = Progress(len(todo), resumed, enabled=progress)
    own_executor = executor is None
    if executor is None:
        executor = (
            SerialExecutor()
            if workers == 1 and len(todo) <= 1
            else make_executor("local", workers, assignment.name, root)
        )
    items = [(assignment.name, str(root), str(sub.path), sub.student) for sub in todo]
    try:
        for data in executor.map_unordered(grade_one, items):
            sub = by_path.pop(str(data.get("file")), None)
            if sub is None:
                continue
            r = result_from_dict(data)
            r.file, r.student, r.sha256 = sub.source, sub.student, sub.sha256
            r.notes = list(sub.notes) + r.notes
            results[sub.stem] = r
            _write_result(results_dir / f"{sub.stem}.json", sub, r)
            bar.update(1)
    finally:
        bar.close()
        if own_executor and hasattr(executor, "close"):
            executor.close()
    for sub in by_path.values():  # lost by the executor: a row now, regraded next time
        r = _not_graded(assignment, sub, "error", "the grading worker was lost; run the command again to regrade")
        results[sub.stem] = r
        _write_result(results_dir / f"{sub.stem}.json", sub, r)

    ordered = [results[s.stem] for s in submissions]
    write_reports(assignment, submissions, ordered, out)
    return ordered


def _write_result(path: Path, sub: Submission, r: SubmissionResult) -> None:
    payload = {
        "version": RESULT_VERSION,
        "stem": sub.stem,
        "student": sub.student,
        "name": sub.name,
        "source": sub.source,
        "sha256": sub.sha256,
        "assignment": r.assignment,
        "result": r.to_dict(),
    }
    _atomic_write(path, json.dumps(payload, indent=1, default=str))


# --------------------------------------------------------------------------- reports


def write_reports(
    assignment: Assignment, submissions: list[Submission], results: list[SubmissionResult], out: Path
) -> None:
    report.write_gradebook(assignment, results, out / "final_grades.csv")
    write_canvas_csv(assignment, submissions, results, out / "canvas.csv")
    write_moodle_csv(assignment, submissions, results, out / "moodle.csv")
    feedback = out / "feedback"
    for sub, r in zip(submissions, results):
        report.write_submission_reports(r, feedback, sub.stem)
    write_class_summary(assignment, submissions, results, out)


def _best_rows(submissions: list[Submission], results: list[SubmissionResult]):
    """One row per student for LMS imports: duplicates and extra files left out."""
    seen: dict[str, tuple[Submission, SubmissionResult]] = {}
    for sub, r in zip(submissions, results):
        if sub.status == "duplicate":
            continue
        if sub.student not in seen or (seen[sub.student][0].status and not sub.status):
            seen[sub.student] = (sub, r)
    return list(seen.values())


def write_canvas_csv(assignment: Assignment, submissions, results, path: Path) -> None:
    """Canvas 'Import' of a gradebook CSV: ID is the Canvas user id (from Canvas file names).

    Canvas reads the layout of its own gradebook export: Student, ID, SIS User ID, SIS
    Login ID, Section, then one column per assignment named 'Name (assignment id)', and
    a 'Points Possible' row under the header. With ``canvas_assignment_id`` in
    assignment.toml the column is '<title> (<id>)' and updates that assignment; without
    it the column is named by the assignment's title and Canvas creates a new assignment.
    """
    cid = str(getattr(assignment, "meta", {}).get("canvas_assignment_id", "")).strip()
    col = f"{assignment.title} ({cid})" if cid else f"{assignment.name}: {assignment.title}"[:80]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", col])
        w.writerow(["    Points Possible", "", "", "", "", f"{assignment.max_points:g}"])
        for sub, r in _best_rows(submissions, results):
            w.writerow(
                [
                    sub.name,
                    sub.student if sub.student.isdigit() else "",
                    "",
                    "" if sub.student.isdigit() else sub.student,
                    "",
                    f"{r.points:g}",
                ]
            )


def write_moodle_csv(assignment: Assignment, submissions, results, path: Path, now: float | None = None) -> None:
    """Moodle assignment 'Upload grading worksheet' layout; Identifier is 'Participant <id>'
    (the number in Moodle's ``Name_<id>_assignsubmission_file_`` folder names).

    Moodle's importer (mod/assign/feedback/offline) refuses a worksheet without the
    columns "Identifier", "Grade" and "Last modified (grade)"; it skips a row whose grade
    was changed in Moodle after that time (unless told to ignore it). The time written is
    the export's, in Moodle's own date format (read back with PHP's strtotime).
    """
    stamp = time.strftime("%A, %d %B %Y, %I:%M %p", time.localtime(time.time() if now is None else now))
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments"])
        for sub, r in _best_rows(submissions, results):
            ident = f"Participant {sub.student}" if sub.student.isdigit() else sub.student
            comment = f"{r.points:g} / {r.max_points:g} points" + (
                f"; not graded: {r.reason}" if r.status != "graded" else ""
            )
            w.writerow([ident, sub.name, f"{r.points:g}", f"{assignment.max_points:g}", stamp, comment])


def class_summary(assignment: Assignment, submissions, results) -> dict:
    """Numbers for the instructor: distribution, pass rate per question, common mistakes."""
    graded = [r for s, r in zip(submissions, results) if s.status != "duplicate"]
    statuses = Counter(r.status for r in graded)
    incidents = Counter(i for r in graded for i in r.incidents)
    per_q = {}
    for q in assignment.questions:
        pts = [next((x.points for x in r.questions if x.name == q.name), 0.0) for r in graded]
        per_q[q.name] = {
            "points": q.points,
            "pass_rate": round(sum(1 for p in pts if p >= q.points - 1e-9) / len(pts), 3) if pts else 0.0,
            "mean": round(sum(pts) / len(pts), 2) if pts else 0.0,
        }
    mistakes: Counter = Counter()
    for r in graded:
        mistakes.update({d for q in r.questions for c in q.checks for d in c.diagnosis})
    common = [
        {
            "id": mid,
            "title": assignment.mistakes[mid].title if mid in assignment.mistakes else mid,
            "function": assignment.mistakes[mid].function if mid in assignment.mistakes else "",
            "students": n,
        }
        for mid, n in mistakes.most_common()
    ]
    pcts = [100 * r.points / assignment.max_points if assignment.max_points else 0 for r in graded]
    return {
        "assignment": assignment.name,
        "title": assignment.title,
        "submissions": len(graded),
        "max_points": assignment.max_points,
        "statuses": dict(statuses),
        "incidents": dict(incidents),
        "mean_percent": round(sum(pcts) / len(pcts), 1) if pcts else 0.0,
        "median_percent": round(sorted(pcts)[len(pcts) // 2], 1) if pcts else 0.0,
        "percents": [round(p, 2) for p in pcts],
        "questions": per_q,
        "common_mistakes": common,
    }


def _histogram(percents: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.hist(percents, bins=[i * 10 for i in range(11)], color="#3b6ea8", edgecolor="white")
    ax.set_xlabel("score (% of points)")
    ax.set_ylabel("students")
    ax.set_xlim(0, 100)
    ax.set_title("Score distribution")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_class_summary(assignment: Assignment, submissions, results, out: Path) -> None:
    s = class_summary(assignment, submissions, results)
    (out / "summary.json").write_text(json.dumps(s, indent=1), encoding="utf-8")
    _histogram(s["percents"], out / "histogram.png")
    esc = html.escape
    rows_q = "".join(
        f"<tr><td>{esc(name)}</td><td>{q['points']:g}</td><td>{q['mean']:g}</td>"
        f"<td><div class='bar'><span style='width:{100 * q['pass_rate']:.0f}%'></span></div>{100 * q['pass_rate']:.0f}%</td></tr>"
        for name, q in s["questions"].items()
    )
    rows_m = (
        "".join(
            f"<tr><td>{m['students']}</td><td>{esc(m['title'])}</td><td>{esc(m['function'])}</td></tr>"
            for m in s["common_mistakes"][:15]
        )
        or "<tr><td colspan='3'>no catalogued mistake was diagnosed</td></tr>"
    )
    status_line = ", ".join(f"{n} {esc(k)}" for k, n in sorted(s["statuses"].items()))
    incident_line = ", ".join(f"{n} {esc(k)}" for k, n in sorted(s["incidents"].items())) or "none"
    page = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(assignment.name)}: class summary</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}
table{{border-collapse:collapse;margin:.5rem 0 1.5rem}}td,th{{border-bottom:1px solid #ddd;padding:.25rem .7rem;text-align:left}}
.bar{{display:inline-block;width:10rem;height:.8rem;background:#eee;margin-right:.5rem;vertical-align:middle}}
.bar span{{display:block;height:100%;background:#17692f}}</style></head><body>
<h1>{esc(assignment.name)} &mdash; {esc(assignment.title)}</h1>
<p>{s["submissions"]} submission(s): {status_line}. Mean {s["mean_percent"]:g}%, median {s["median_percent"]:g}%.
Sandbox stops: {incident_line}.</p>
<h2>Score distribution</h2><img src='histogram.png' alt='histogram of scores' width='600'>
<h2>Pass rate per question</h2><table><tr><th>question</th><th>points</th><th>mean</th><th>full marks</th></tr>{rows_q}</table>
<h2>Most common diagnosed mistakes</h2><table><tr><th>students</th><th>mistake</th><th>function</th></tr>{rows_m}</table>
</body></html>"""
    (out / "summary.html").write_text(page, encoding="utf-8")


def grade_paths(
    assignment: Assignment, paths: list[str], out_dir: Path, **kwargs
) -> tuple[list[Submission], list[SubmissionResult]]:
    """intake + grade_batch, with the zip extraction folder cleaned up afterwards."""
    from . import intake

    work = Path(tempfile.mkdtemp(prefix="deepgrade-intake-"))
    try:
        subs = intake.expand(paths, work)
        print(f"deepgrade: {intake.describe(subs)}", file=sys.stderr, flush=True)
        return subs, grade_batch(assignment, subs, out_dir, **kwargs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
