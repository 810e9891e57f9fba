"""``deepgrade validate [NAME...]``: prove that a course folder's assignments grade as they should.

Every check is one function ``check_<what>(ctx) -> list[Problem]`` listed in ``CHECKS``, in the
order they run; a problem names the file and the key to fix, one line each. The checks:

    references      every question of assignment.toml has a reference function and cases
    fixtures        the reference runs on every case without raising (unless the case expects
                    that error: then it raises it)
    catalogue       every mistakes.toml entry is implemented in solutions/NAME_mistakes.py
                    (MUTANTS) and the other way round, names a question, has the reference's
                    signature, a title and an explanation, and returns on every compared case
    mistakes_show   every mistake differs from the reference on a public case
    sandbox         the notebook filled with the reference earns full marks through the
                    sandbox, the untouched notebook (the stubs) zero
    mistakes_graded every mistake, filled into the notebook, loses points, is named with its
                    explanation, and leaves the questions that do not use its function whole;
                    and keeps at most half of its question (problems of kind
                    "mistakes_share"), unless mistakes.toml says ``keeps_more_than_half = "why"``
                    (and then it must keep more: a stale exception is named)
    hidden          no hidden check shows an expected value (stub and every mistake graded)
    notebook        the notebook is what its builder writes (authoring.built_text)

The sandbox checks grade real notebooks (one per mistake), so they take a while; they run
only when the checks before them found nothing. An assignment whose cases train models in a
harness (keras) skips the checks that would train them unless ``train=True`` (``--train``),
and says so in its summary.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..course import assignment as asg
from ..portable import compare
from ..portable import outputs as output_parts
from ..portable.feedback import fmt_points
from ..portable.status import RowStatus

LIMIT = 0.5  # the share of its question a catalogued mistake may keep
COMPOSITE_KEY = "breaks_composites"  # mistakes.toml: why a part's mistake makes a composite unjudgeable
EXCEPTION_KEY = "keeps_more_than_half"  # mistakes.toml: the reason a mistake may keep more
CATALOGUE_KEYS = {"function", "title", "explanation", EXCEPTION_KEY, COMPOSITE_KEY}


@dataclass(frozen=True)
class Problem:
    """One thing to fix: ``file`` (relative to the course folder), the ``key`` in it, what is wrong."""

    check: str
    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.message}"


@dataclass
class Context:
    """What the checks of one assignment share: the loaded assignment, the raw catalogue, and
    the notebooks graded so far (each graded once, whichever check asks first)."""

    name: str
    root: Path
    train: bool = False
    assignment: asg.Assignment | None = None
    catalogue: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    _graded: dict[str, Any] = field(default_factory=dict, repr=False)

    def rel(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    @property
    def toml(self) -> str:
        return f"assignments/{self.name}/assignment.toml"

    @property
    def mistakes_toml(self) -> str:
        return f"assignments/{self.name}/mistakes.toml"

    @property
    def fixtures(self) -> str:
        return f"assignments/{self.name}/fixtures.py"

    @property
    def reference_file(self) -> str:
        return f"solutions/{self.name}.py"

    @property
    def mutants_file(self) -> str:
        return f"solutions/{self.name}_mistakes.py"

    @property
    def trains(self) -> bool:
        """Whether some case trains a model in a harness (keras)."""
        return any(c.harness for q in self.assignment.questions for c in q.cases)

    def graded(self, key: str, make: Callable[[], Any]):
        """The sandbox's result for the notebook ``make()`` returns, graded once per key."""
        if key not in self._graded:
            import nbformat

            from ..grading.pipeline import grade_file

            with tempfile.TemporaryDirectory(prefix="deepgrade-validate-") as tmp:
                path = Path(tmp) / f"{self.name}-{key}.ipynb"
                nbformat.write(make(), path)
                self._graded[key] = grade_file(self.assignment, path)
        return self._graded[key]

    def grade_all(self, workers: int) -> None:
        """Grade the reference's, the stubs' and every sound mistake's notebook at once, ``workers``
        at a time (batch grading's process pool: executors.LocalExecutor); the checks then read
        them from the cache. A notebook that cannot be made (a question without a stub) is left
        to the check that asks for it, which says why."""
        import nbformat

        from ..batch.executors import LocalExecutor, grade_one, init_worker
        from ..grading.results import SubmissionResult

        makers = {"reference": self.filled, "stub": lambda: nbformat.read(self.assignment.notebook, as_version=4)}
        a = self.assignment
        for mid in self.sound_mistakes():
            makers[f"mutant_{mid}"] = lambda mid=mid: self.filled({a.mistakes[mid].function: a.mutants[mid]})
        with tempfile.TemporaryDirectory(prefix="deepgrade-validate-") as tmp:
            items = []
            for key, make in makers.items():
                if key in self._graded:
                    continue
                try:
                    nb = make()
                except KeyError:
                    continue
                path = Path(tmp) / f"{self.name}-{key}.ipynb"
                nbformat.write(nb, path)
                items.append((self.name, str(self.root), str(path), key))  # the key rides as the "student"
            pool = LocalExecutor(workers, initializer=init_worker, initargs=(self.name, str(self.root)))
            for row in pool.map_unordered(grade_one, items):
                result = SubmissionResult.from_dict(row)
                self._graded[result.student] = result

    def filled(self, overrides: dict | None = None):
        """The committed notebook, every stub filled from the reference, then ``overrides``."""
        import nbformat

        from ..grading import notebook

        a = self.assignment
        nb = notebook.fill(
            nbformat.read(a.notebook, as_version=4), {q.name: getattr(a.reference, q.name) for q in a.questions}
        )
        return notebook.fill(nb, overrides) if overrides else nb

    def reference_result(self):
        return self.graded("reference", self.filled)

    def stub_result(self):
        import nbformat

        return self.graded("stub", lambda: nbformat.read(self.assignment.notebook, as_version=4))

    def mutant_result(self, mid: str):
        a = self.assignment
        return self.graded(f"mutant_{mid}", lambda: self.filled({a.mistakes[mid].function: a.mutants[mid]}))

    def sound_mistakes(self) -> list[str]:
        """The catalogued mistakes the static checks can run: implemented, naming a question."""
        a = self.assignment
        questions = {q.name for q in a.questions}
        return sorted(mid for mid, m in a.mistakes.items() if mid in a.mutants and m.function in questions)


# ---------------------------------------------------------------- before loading


def read_catalogue(ctx: Context) -> list[Problem]:
    """mistakes.toml as a table, each entry checked for its keys (the loader would stop at the
    first entry without a ``function``)."""
    path = ctx.root / ctx.mistakes_toml
    if not path.is_file():
        return []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        ctx.stats["catalogue_unreadable"] = True
        return [Problem("catalogue", ctx.mistakes_toml, "(file)", f"invalid TOML: {exc}")]
    problems = []
    for mid, entry in raw.items():
        if not isinstance(entry, dict):
            problems.append(
                Problem("catalogue", ctx.mistakes_toml, mid, "must be a table [id] with function, title, explanation")
            )
            continue
        for key in ("function", "title", "explanation"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                problems.append(
                    Problem("catalogue", ctx.mistakes_toml, f"[{mid}] {key}", "missing or empty (a string)")
                )
        if EXCEPTION_KEY in entry and (not isinstance(entry[EXCEPTION_KEY], str) or not entry[EXCEPTION_KEY].strip()):
            problems.append(
                Problem("catalogue", ctx.mistakes_toml, f"[{mid}] {EXCEPTION_KEY}", "must be the reason, a string")
            )
        for key in sorted(set(entry) - CATALOGUE_KEYS):
            problems.append(
                Problem(
                    "catalogue",
                    ctx.mistakes_toml,
                    f"[{mid}] {key}",
                    f"unknown key; the keys are {sorted(CATALOGUE_KEYS)}",
                )
            )
    ctx.catalogue = {mid: e for mid, e in raw.items() if isinstance(e, dict)}
    # the loader reads function, title and explanation of every entry: it would stop at these
    ctx.stats["catalogue_unreadable"] = any(
        not isinstance(e, dict) or any(k not in e for k in ("function", "title", "explanation")) for e in raw.values()
    )
    return problems


def load_assignment(ctx: Context) -> list[Problem]:
    """Load the assignment as the grader does; a failure is one problem and ends the checks."""
    if ctx.stats.get("catalogue_unreadable"):
        ctx.notes.append("not loaded: the grader cannot read mistakes.toml until its entries are whole")
        return []
    try:
        ctx.assignment = asg.load(ctx.name, ctx.root)
    except asg.AssignmentError as exc:
        # the loader's message starts with the file it names: shown relative, like every problem's
        file, sep, rest = str(exc).partition(": ")
        if sep and Path(file).is_absolute():
            return [Problem("load", ctx.rel(Path(file)), "(load)", rest)]
        return [Problem("load", ctx.toml, "(load)", str(exc))]
    except Exception as exc:  # noqa: BLE001 - an author's bug in a file the loader imports
        return [Problem("load", ctx.toml, "(load)", f"the assignment does not load: {type(exc).__name__}: {exc}")]
    return []


# ---------------------------------------------------------------- the checks


def check_references(ctx: Context) -> list[Problem]:
    """Every question has a reference function (else every student loses its points) and cases."""
    a = ctx.assignment
    problems = []
    for q in a.questions:
        if a.reference is None:
            problems.append(
                Problem(
                    "references", ctx.reference_file, q.name, f"no such file: the reference of [questions] {q.name}"
                )
            )
        elif not callable(getattr(a.reference, q.name, None)):
            problems.append(
                Problem(
                    "references",
                    ctx.reference_file,
                    q.name,
                    f"no function {q.name}, which {ctx.toml} [questions] grades (every student would lose its points)",
                )
            )
        if not q.cases:
            problems.append(
                Problem("references", ctx.fixtures, f'cases()["{q.name}"]', "no case: nothing grades this question")
            )
    if a.questions and not any(c.hidden for q in a.questions for c in q.cases):
        problems.append(
            Problem(
                "references",
                ctx.fixtures,
                "cases()",
                "no hidden case (hidden=True): the grade uses only what students see",
            )
        )
    return problems


def _has_ref(case: asg.Case) -> bool:
    return any(isinstance(x, asg.Ref) for x in (*case.args, *case.kwargs.values()))


def _reference_cases(ctx: Context):
    """(question, case, function) of every case the reference is called on in this process:
    not a harness (it trains in the sandbox) nor a call whose inputs exist only in the sandbox."""
    for q in ctx.assignment.questions:
        for case in q.cases:
            if case.harness or (_has_ref(case) and case.reference_args is None and not case.compare):
                continue
            yield q, case, case.function or q.name


def check_fixtures(ctx: Context) -> list[Problem]:
    """The reference takes every case: a correct student is never told "raised TypeError"."""
    a = ctx.assignment
    problems = []
    bad = ctx.stats.setdefault("bad_cases", set())  # id() of the cases the reference refuses
    for q, case, fn in _reference_cases(ctx):
        if not callable(getattr(a.reference, fn, None)):
            bad.add(id(case))
            continue  # check_references says so
        key = f'cases()["{q.name}"] "{case.name}"'
        try:
            with np.errstate(all="ignore"):
                a.expected(case, q.name)
        except Exception as exc:  # noqa: BLE001 - the author's fixture or reference
            if case.expect_error is not None and isinstance(exc, case.expect_error):
                continue
            bad.add(id(case))
            problems.append(
                Problem(
                    "fixtures", ctx.fixtures, key, f"the reference {fn} raised {type(exc).__name__}: {str(exc)[:150]}"
                )
            )
            continue
        if case.expect_error is not None:
            problems.append(
                Problem(
                    "fixtures",
                    ctx.fixtures,
                    key,
                    f"expects {case.expect_error.__name__}, but the reference {fn} returns",
                )
            )
    return problems


def check_catalogue(ctx: Context) -> list[Problem]:
    """mistakes.toml and MUTANTS agree, name questions, keep the reference's signature, and every
    mistake returns an output on every compared case (an output that raises matches no student)."""
    a = ctx.assignment
    questions = {q.name for q in a.questions}
    problems = []
    for mid in sorted(set(a.mistakes) - set(a.mutants)):
        problems.append(
            Problem(
                "catalogue",
                ctx.mistakes_toml,
                f"[{mid}]",
                f'no implementation: {ctx.mutants_file} MUTANTS has no "{mid}"',
            )
        )
    for mid in sorted(set(a.mutants) - set(a.mistakes)):
        problems.append(
            Problem("catalogue", ctx.mutants_file, f'MUTANTS["{mid}"]', f"no entry [{mid}] in {ctx.mistakes_toml}")
        )
    for mid, m in sorted(a.mistakes.items()):
        if m.function not in questions:
            problems.append(
                Problem(
                    "catalogue",
                    ctx.mistakes_toml,
                    f"[{mid}] function",
                    f"{m.function!r} is no question of {ctx.toml} ({', '.join(sorted(questions))})",
                )
            )
            continue
        ref, impl = getattr(a.reference, m.function, None), a.mutants.get(mid)
        if callable(ref) and callable(impl):
            want, got = list(inspect.signature(ref).parameters), list(inspect.signature(impl).parameters)
            if want != got:
                problems.append(
                    Problem(
                        "catalogue",
                        ctx.mutants_file,
                        f'MUTANTS["{mid}"]',
                        f"takes ({', '.join(got)}), the reference {m.function} ({', '.join(want)})",
                    )
                )
        elif mid in a.mutants:
            problems.append(Problem("catalogue", ctx.mutants_file, f'MUTANTS["{mid}"]', "is not a function"))
    tried = set()  # (function, case name) of every compared case that expects an output
    bad = ctx.stats.get("bad_cases", set())  # check_fixtures names them: their mistakes' errors are no news
    for q, case, fn in _reference_cases(ctx):
        if case.compare and case.expect_error is None and id(case) not in bad:
            a.mutant_outputs(case, q.name)  # records the mistakes that raise in a.mutant_errors
            tried.add((fn, case.name))
    for (mid, fn, case_name), error in sorted(a.mutant_errors.items()):
        if (fn, case_name) not in tried:
            continue  # a case that must raise
        problems.append(
            Problem(
                "catalogue",
                ctx.mutants_file,
                f'MUTANTS["{mid}"]',
                f'raised on case "{case_name}" of {fn}: {error}: it must return (to be matched to a student\'s output)',
            )
        )
    return problems


def _differs(a: asg.Assignment, case: asg.Case, function: str, mid: str) -> bool:
    """The mistake's output on this case is not the reference's (or it returns where the
    reference raises, or raises where the reference returns)."""
    outputs = a.mutant_outputs(case, function)
    if case.expect_error is not None:
        return mid in outputs
    got = outputs.get(mid)
    if got is None:
        return True
    expected = a.expected(case, function)
    try:
        e, g = output_parts.parts(expected, case.outputs), output_parts.parts(got, case.outputs)
    except Exception:  # noqa: BLE001 - a differently built output differs
        return True
    return any(k not in g or not compare.same_output(g[k], e[k], case.rtol, case.atol) for k in e)


def check_mistakes_show(ctx: Context) -> list[Problem]:
    """Every mistake differs from the reference on a public case, so grader.check shows it."""
    a = ctx.assignment
    problems = []
    for mid in ctx.sound_mistakes():
        fn = a.mistakes[mid].function
        q = a.question(fn)
        bad = ctx.stats.get("bad_cases", set())
        cases = [c for c in q.cases if c.compare and not c.harness and (c.function or fn) == fn and id(c) not in bad]
        if not cases:
            continue  # judged by a harness and its checks: the sandbox checks (--train) grade it
        differs = [c for c in cases if _differs(a, c, fn, mid)]
        if not differs:
            problems.append(
                Problem(
                    "mistakes_show",
                    ctx.mistakes_toml,
                    f"[{mid}]",
                    f"gives the reference's output on every case of {fn}: add a case that shows it",
                )
            )
        elif all(c.hidden for c in differs):
            problems.append(
                Problem(
                    "mistakes_show",
                    ctx.mistakes_toml,
                    f"[{mid}]",
                    f"differs from the reference only on hidden cases of {fn}: grader.check cannot show it; add a public case",
                )
            )
    return problems


def _failing_details(q) -> str:
    return "\n".join(d for c in q.checks if not c.passed for d in c.details)


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")[:160]


def check_sandbox(ctx: Context) -> list[Problem]:
    """The reference-filled notebook earns full marks and the stubs zero, through the sandbox."""
    a = ctx.assignment
    nb_file = ctx.rel(a.notebook)
    problems = []
    try:
        ref = ctx.reference_result()
    except KeyError as exc:  # notebook.fill: a question without a stub
        return [Problem("sandbox", nb_file, "(stubs)", f"{exc.args[0]}: rebuild it (deepgrade notebook {ctx.name})")]
    order = [q.name for q in a.questions]
    for label, r in (("the reference notebook", ref), ("the untouched notebook", ctx.stub_result())):
        if r.status != RowStatus.GRADED:
            problems.append(
                Problem("sandbox", nb_file, "(notebook)", f"{label} was not graded: {r.status}: {r.reason}")
            )
        elif [q.name for q in r.questions] != order:
            problems.append(
                Problem("sandbox", nb_file, "(questions)", f"{label} grades {[q.name for q in r.questions]}")
            )
    if problems:
        return problems
    for q in ref.questions:
        failed = [c.label for c in q.checks if not c.passed]
        if q.points < q.max_points or failed or not q.checks:
            problems.append(
                Problem(
                    "sandbox",
                    ctx.reference_file,
                    q.name,
                    f"the reference earns {fmt_points(q.points)}/{fmt_points(q.max_points)} through the "
                    f"sandbox ({', '.join(failed[:3]) or 'no check'}): {_first_line(_failing_details(q))}",
                )
            )
    if not any(c.hidden for q in ref.questions for c in q.checks):
        problems.append(
            Problem("sandbox", ctx.fixtures, "cases()", "the reference notebook was graded on no hidden check")
        )
    for q in ctx.stub_result().questions:
        details = _failing_details(q)
        own = all(c.function in (None, q.name) for c in a.question(q.name).cases)
        said = "NotImplementedError" in details or (not own and "did not return" in details)
        if q.points != 0 or not q.checks or not said:
            problems.append(
                Problem(
                    "sandbox",
                    nb_file,
                    q.name,
                    f"the untouched stub earns {fmt_points(q.points)} (must be 0, failing with NotImplementedError)"
                    + ("" if q.checks else ": no check"),
                )
            )
    return problems


def _called(a: asg.Assignment) -> dict[str, set[str]]:
    """Function name -> the names every reference function calls, directly or not (from the
    reference's source: a mutant notebook's other functions call the mutant by its name)."""
    tree = ast.parse(Path(a.reference.__file__).read_text(encoding="utf-8"))
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


def uses(a: asg.Assignment, question: asg.Question, function: str) -> bool:
    """Whether grading ``question`` calls ``function``: its own function or a case's does."""
    called = _called(a)
    used = {question.name} | {c.function for c in question.cases if c.function}
    return function in used or any(function in called.get(u, ()) for u in used)


def _same_somewhere(a: asg.Assignment, function: str, mid: str, other: str) -> bool:
    """Whether two mistakes of ``function`` return the same on some compared case."""
    for case in a.question(function).cases:
        if not case.compare or case.expect_error is not None or case.harness or (case.function or function) != function:
            continue
        outputs = a.mutant_outputs(case, function)
        if outputs.get(mid) is None or outputs.get(other) is None:
            continue
        x, y = output_parts.parts(outputs[mid], case.outputs), output_parts.parts(outputs[other], case.outputs)
        if all(compare.same_output(x[k], y[k], case.rtol, case.atol) for k in x):
            return True
    return False


def exceptions(ctx: Context) -> dict[str, str]:
    """Mistake id -> why it may keep more than half of its question (mistakes.toml)."""
    return {mid: e[EXCEPTION_KEY] for mid, e in ctx.catalogue.items() if isinstance(e.get(EXCEPTION_KEY), str)}


def check_mistakes_graded(ctx: Context) -> list[Problem]:
    """Each mistake filled into the reference notebook, graded through the sandbox: it loses
    points, keeps at most half of its question (or says why not), is named with its whole
    explanation, names no other mistake that never gives its output, and leaves every question
    that does not use its function whole."""
    a = ctx.assignment
    allowed = exceptions(ctx)
    problems = []
    shares = {}
    for mid in ctx.sound_mistakes():
        m = a.mistakes[mid]
        key = f"[{mid}]"

        def add(message: str, key: str = key) -> None:
            problems.append(Problem("mistakes_graded", ctx.mistakes_toml, key, message))

        r = ctx.mutant_result(mid)
        if r.status != RowStatus.GRADED:
            add(f"its notebook was not graded: {r.status}: {r.reason}")
            continue
        q = next(x for x in r.questions if x.name == m.function)
        share = q.points / q.max_points if q.max_points else 0.0
        shares[mid] = share
        if q.points >= q.max_points:
            add(f"earns full marks on {m.function}: no case catches it")
        elif share > LIMIT + 1e-9 and mid not in allowed:
            problems.append(
                Problem(
                    "mistakes_share",
                    ctx.mistakes_toml,
                    key,
                    f"keeps {share:.0%} of {m.function} (at most {LIMIT:.0%}): add cases that show it, or "
                    f'{EXCEPTION_KEY} = "why" in its entry',
                )
            )
        elif share <= LIMIT + 1e-9 and mid in allowed:  # a stale exception would hide a regression
            problems.append(
                Problem(
                    "mistakes_share",
                    ctx.mistakes_toml,
                    f"[{mid}] {EXCEPTION_KEY}",
                    f"not needed: it keeps {share:.0%} of {m.function}; remove it, so that the rule holds for it again",
                )
            )
        named = {d for c in q.checks for d in c.diagnosis}
        if mid not in named:
            add(f"is not named in the feedback on {m.function} (a failed check's evidence must match its output)")
        for other in sorted(named - {mid}):
            if not _same_somewhere(a, m.function, mid, other):
                add(f"its feedback also names [{other}], which never gives its output")
        explanation = " ".join(m.explanation.split())
        if not any(explanation in " ".join(" ".join(c.details).split()) for c in q.checks if not c.passed):
            add("its explanation is not shown whole on a failed check")
        for other in r.questions:
            if other.name != m.function and other.points < other.max_points:
                if not uses(a, a.question(other.name), m.function):
                    add(f"costs points on {other.name}, which does not use {m.function}")
    ctx.stats["shares"] = shares
    return problems


# ---------------------------------------------------------------- hidden checks show no expected value


def _formatted(x: float) -> set[str]:
    """Ways a number could be printed; integers and short numbers are left out (they occur
    naturally in counts and sizes)."""
    if not np.isfinite(x) or float(x).is_integer():
        return set()
    out = {f"{x:.6g}", f"{x:.5g}", f"{x:.4g}", f"{x:.6f}", repr(float(x))}
    return {s for s in out if len(s.lstrip("-").replace(".", "").lstrip("0")) >= 4}


def _numbers(value: Any) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, (np.ndarray, float, np.floating)):
        arr = np.asarray(value)
        return [float(x) for x in arr.ravel()] if arr.dtype.kind == "f" else []
    return []


def hidden_expected_strings(a: asg.Assignment) -> set[str]:
    """Every way the expected values of the hidden cases could appear in feedback."""
    strings: set[str] = set()
    for q in a.questions:
        for case in q.cases:
            if case.hidden and case.compare and case.expect_error is None and not case.harness:
                for x in _numbers(a.expected(case, case.function or q.name)):
                    strings |= _formatted(x)
    return strings


def hidden_leaks(results, secrets: set[str]) -> tuple[list, int]:
    """(hidden checks whose text shows an expected value, how many hidden checks failed)."""
    leaks, failed = [], 0
    for r in results:
        for q in r.questions:
            for c in q.checks:
                if not c.hidden:
                    continue
                failed += not c.passed
                text = c.label + "\n" + "\n".join(c.details)
                shown = [s for s in secrets if s in text]
                # no 'expected 1.5, got ...', and no failed one that says what it expected and got
                said = not c.passed and any(
                    "expected" in d and "got" in d and "expected shape" not in d for d in c.details
                )
                if shown or said or re.search(r"expected:? *[-+]?(\d|nan|inf)", text):
                    leaks.append((q.name, c.label, shown[:5], text))
    return leaks, failed


def check_hidden(ctx: Context) -> list[Problem]:
    """No hidden check of the stub's or any mistake's graded notebook shows an expected value."""
    a = ctx.assignment
    results = [ctx.stub_result()] + [ctx.mutant_result(mid) for mid in ctx.sound_mistakes()]
    secrets = hidden_expected_strings(a)
    leaks, failed = hidden_leaks(results, secrets)
    ctx.stats["hidden_failed"] = failed
    ctx.stats["hidden_secrets"] = len(secrets)
    # the stub fails every hidden check: the scan saw failing checks, whatever the assignment's size
    ctx.stats["hidden_stub_checks"] = sum(c.hidden for q in results[0].questions for c in q.checks)
    return [
        Problem(
            "hidden", ctx.fixtures, f'{q} "{label}"', f"a hidden check shows an expected value {shown or ''}".rstrip()
        )
        for q, label, shown, _ in leaks
    ]


def check_uses(ctx: Context) -> list[Problem]:
    """assignment.toml ``[uses]`` is what the reference does: each declared part is one the
    reference's function calls, and every other question's function it calls (for a question
    graded by plain calls) is declared."""
    a = ctx.assignment
    toml = ctx.rel(a.folder / "assignment.toml")
    called = _called(a) if a.reference is not None else {}
    names = {q.name for q in a.questions}
    problems = []
    for q in a.questions:
        declared = a.uses.get(q.name, [])
        reaches = called.get(q.name, set()) & names
        for part in declared:
            if part not in reaches:
                problems.append(
                    Problem("dependencies", toml, f"[uses] {q.name}", f"the reference's {q.name} never calls {part}")
                )
        plain = any(c.harness is None and (c.function or q.name) == q.name for c in q.cases)
        for part in sorted(reaches - set(declared)) if plain else ():
            problems.append(
                Problem(
                    "dependencies",
                    toml,
                    f"[uses] {q.name}",
                    f"the reference's {q.name} calls {part}: declare it, so that a wrong {part} costs points only there",
                )
            )
    return problems


def check_dependencies(ctx: Context) -> list[Problem]:
    """Each catalogued mistake of a part leaves every function that uses it ([uses]) at full marks
    through the sandbox (the composite judged on the student's own parts: dependencies.py),
    unless its entry says why no right composite can run with it (``breaks_composites``)."""
    a = ctx.assignment
    problems = []
    for mid in ctx.sound_mistakes():
        part = a.mistakes[mid].function
        users = [q for q, parts in a.uses.items() if part in parts]
        if not users:
            continue
        r = ctx.mutant_result(mid)
        if r.status != RowStatus.GRADED:
            continue  # check_mistakes_graded says so
        lost = [q for q in r.questions if q.name in users and q.points < q.max_points]
        why = ctx.catalogue.get(mid, {}).get(COMPOSITE_KEY)
        if lost and not why:
            for q in lost:
                problems.append(
                    Problem(
                        "dependencies",
                        ctx.mistakes_toml,
                        f"[{mid}]",
                        f"a right {q.name} over it keeps {q.points:g} of {q.max_points:g}: it must keep all "
                        f'(or {COMPOSITE_KEY} = "why no right {q.name} can run with it")',
                    )
                )
        elif why and not lost:
            problems.append(
                Problem(
                    "dependencies",
                    ctx.mistakes_toml,
                    f"[{mid}] {COMPOSITE_KEY}",
                    "not needed: every user keeps its points",
                )
            )
    return problems


def check_notebook(ctx: Context) -> list[Problem]:
    """The committed notebook is what its builder writes, byte for byte (authoring.built_text)."""
    from .authoring import BuildError, builder, built_text

    a = ctx.assignment
    nb_file = ctx.rel(a.notebook)
    if builder(ctx.name, ctx.root) is None and not all(
        callable(getattr(a.reference, q.name, None)) for q in a.questions
    ):
        return []  # built from the reference: check_references names the function it lacks
    try:
        text = built_text(ctx.name, ctx.root)
    except BuildError as exc:
        return [Problem("notebook", nb_file, "(build)", str(exc))]
    if not a.notebook.is_file():
        return [Problem("notebook", nb_file, "(file)", f"missing: deepgrade notebook {ctx.name} writes it")]
    if a.notebook.read_text(encoding="utf-8") != text:
        return [
            Problem(
                "notebook",
                nb_file,
                "(cells)",
                f"differs from what its builder writes: deepgrade notebook {ctx.name} rebuilds it "
                "(edit the reference's docstrings or the builder, not the notebook)",
            )
        ]
    return []


# name, function, whether it grades notebooks in the sandbox (trains, for a harness assignment)
CHECKS: list[tuple[str, Callable[[Context], list[Problem]], bool]] = [
    ("references", check_references, False),
    ("fixtures", check_fixtures, False),
    ("catalogue", check_catalogue, False),
    ("mistakes_show", check_mistakes_show, False),
    ("uses", check_uses, False),
    ("sandbox", check_sandbox, True),
    ("mistakes_graded", check_mistakes_graded, True),
    ("dependencies", check_dependencies, True),
    ("hidden", check_hidden, True),
    ("notebook", check_notebook, False),
]

SANDBOXED = {check for check, _, sandboxed in CHECKS if sandboxed} | {"mistakes_share"}


@dataclass
class Report:
    """The outcome of validating one assignment."""

    name: str
    problems: list[Problem]
    notes: list[str]
    summary: str
    context: Context

    def of(self, check: str) -> list[Problem]:
        return [p for p in self.problems if p.check == check]

    @property
    def ok(self) -> bool:
        return not self.problems


def validate(
    name: str, root: Path, train: bool = False, only: set[str] | None = None, workers: int | None = None
) -> Report:
    """Run every check (or those named in ``only``) on one assignment of the course ``root``;
    the sandbox checks' notebooks are graded ``workers`` at a time (default: one per core)."""
    started = time.monotonic()
    ctx = Context(name, Path(root).resolve(), train)
    problems = read_catalogue(ctx)
    problems += load_assignment(ctx)
    if ctx.assignment is None:
        return Report(name, problems, [], "", ctx)
    a = ctx.assignment
    for check, fn, sandboxed in CHECKS:
        if only is not None and check not in only:
            continue
        if sandboxed and ctx.trains and not train:
            if "the sandbox checks" not in " ".join(ctx.notes):
                ctx.notes.append("the sandbox checks skipped (its check models train: --train runs them)")
            continue
        if sandboxed and [p for p in problems if p.check not in SANDBOXED]:
            if "not run" not in " ".join(ctx.notes):
                ctx.notes.append("the sandbox checks not run: fix the problems above first")
            continue
        if sandboxed and not ctx._graded and (workers or os.cpu_count() or 1) > 1:
            ctx.grade_all(workers or os.cpu_count() or 1)
        problems += fn(ctx)
    seconds = time.monotonic() - started
    summary = (
        f"{name}: {len(a.questions)} question(s), {sum(len(q.cases) for q in a.questions)} case(s), "
        f"{len(a.mistakes)} mistake(s): {'all checks pass' if not problems else f'{len(problems)} problem(s)'}"
        f" ({seconds:.0f} s)" + "".join(f"; {n}" for n in ctx.notes)
    )
    return Report(name, problems, ctx.notes, summary, ctx)
