"""What an assignment is: questions (one per student function), fixtures, mistakes.

An assignment is one folder, ``assignments/<name>/``:

    assignment.toml   the contract (contract.py: every key, its type and default, checked
                      when the assignment loads): title, notebook file name, points per
                      question, limits, the points policy ``[points]``, per-question
                      tolerances ``[tolerances.<question>]``, extras, LMS ids, ...
    fixtures.py       ``cases() -> dict[function name, list[Case]]`` (public and hidden)
                      and optionally ``CHECKS = {function: extra_check}`` (see below);
                      the folder is imported as a package (``import_fixtures``), so
                      fixtures.py may import its siblings (``from . import budgets``)
    mistakes.toml     the mistake catalogue: id -> function, title, explanation
    <name>.ipynb      the student notebook (stubs)

and its reference lives in ``solutions/<name>.py`` with the catalogue's wrong
implementations in ``solutions/<name>_mistakes.py`` (``MUTANTS = {id: function}``).
The grader computes every expected value and every mutant's output itself, in its
own process, from the fixture inputs.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import importlib.machinery
import importlib.util
import re
import sys
import tomllib
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .. import settings
from ..portable.case import Case, OwnInput, Ref  # noqa: F401 - plain data, shipped: one Case type everywhere
from ..portable.outputs import labels
from ..portable.policy import Policy
from . import contract
from .contract import AssignmentError, Contract


@dataclass
class Mistake:
    id: str
    function: str
    title: str
    explanation: str


@dataclass
class Question:
    name: str
    points: float
    cases: list[Case]
    extra_check: Callable | None = None


@dataclass
class Assignment:
    name: str
    title: str
    folder: Path
    notebook: Path
    questions: list[Question]
    mistakes: dict[str, Mistake]
    reference: ModuleType | None
    mutants: dict[str, Callable]
    cell_seconds: float = contract.LIMIT_DEFAULTS["cell_seconds"]
    total_seconds: float = contract.LIMIT_DEFAULTS["total_seconds"]
    memory_gb: float = contract.LIMIT_DEFAULTS["memory_gb"]
    call_seconds: float = contract.LIMIT_DEFAULTS["call_seconds"]
    policy: Policy = field(default_factory=Policy)
    contract: Contract | None = None  # the checked assignment.toml (limits, LMS ids, ...)
    fixtures: ModuleType | None = None  # the assignment's fixtures.py, as imported
    # shipped in the student's copy for questions trained in the student's kernel:
    # files of the assignment's folder, and the "module.function" that runs grader.check
    student_files: list[str] = field(default_factory=list)
    student_check: str | None = None
    # (mistake id, function, case name) -> "Type: message" for a catalogued mistake that
    # raised on a case (computed with the mutant outputs; tests/engine/course/test_contract.py reads it)
    mutant_errors: dict[tuple[str, str, str], str] = field(default_factory=dict)
    # expected and mutant outputs depend only on the fixtures: computed once, not per submission
    _outputs: dict = field(default_factory=dict, repr=False, compare=False)

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(name)

    @property
    def uses(self) -> dict[str, list[str]]:
        """assignment.toml ``[uses]``: question -> the student's other functions it calls."""
        return self.contract.uses if self.contract is not None else {}

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def explanations(self) -> dict[str, str]:
        """Mistake id -> the explanation students read."""
        return {mid: m.explanation for mid, m in self.mistakes.items()}

    def _memo(self, kind: str, case: Case, function: str, compute: Callable[[], Any]) -> Any:
        # id(case): cases live as long as the (cached) assignment; names may repeat across questions
        key = (kind, function, id(case))
        if key not in self._outputs:
            self._outputs[key] = _read_only(compute())
        return self._outputs[key]

    def expected(self, case: Case, function: str) -> Any:
        """The reference output for a case, computed here on private copies of its inputs."""
        if self.reference is None:
            raise RuntimeError("reference solutions are not available (solutions/ not found)")
        fn = getattr(self.reference, case.function or function)
        return self._memo(
            "expected", case, function, lambda: fn(*self._reference_args(case), **copy.deepcopy(case.kwargs))
        )

    def _reference_args(self, case: Case) -> tuple:
        """Private copies of the arguments the reference side uses for a case."""
        args = case.args if case.reference_args is None else case.reference_args
        if callable(args):
            args = args(self.reference)
        return tuple(copy.deepcopy(args))

    def mutant_outputs(self, case: Case, function: str) -> dict[str, Any]:
        """Each catalogued mistake's output on this case. A mistake that raises has no output
        (it cannot match a student's); it is recorded in ``mutant_errors``."""
        return self._memo("mutants", case, function, lambda: self._run_mutants(case, function))

    def _run_mutants(self, case: Case, function: str) -> dict[str, Any]:
        outs = {}
        for mid, mistake in self.mistakes.items():
            if mistake.function != (case.function or function) or mid not in self.mutants:
                continue
            try:
                with np.errstate(all="ignore"):  # some mistakes overflow: that is their point
                    outs[mid] = self.mutants[mid](*self._reference_args(case), **copy.deepcopy(case.kwargs))
            except Exception as exc:  # noqa: BLE001 - recorded: the catalogue's tests read it
                self.mutant_errors[(mid, case.function or function, case.name)] = f"{type(exc).__name__}: {exc}"[:300]
        return outs


def _read_only(value: Any) -> Any:
    """Freeze the arrays of a shared output, so that no consumer can change it for the next one."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, dict):
        for v in value.values():
            _read_only(v)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _read_only(v)
    return value


COURSE_HELP = (
    "run deepgrade inside your course folder (the folder holding assignments/ and solutions/), "
    "or pass --course DIR, or set DEEPGRADE_ROOT=DIR"
)


class CourseNotFound(Exception):
    """No course folder (assignments/ + solutions/) where deepgrade looked; the message says what to do."""


def is_course(folder: Path) -> bool:
    """A course folder has assignments/<name>/assignment.toml for at least one name."""
    a = Path(folder) / "assignments"
    return a.is_dir() and any((p / "assignment.toml").is_file() for p in a.iterdir())


def project_root(course: Path | str | None = None) -> Path:
    """The course folder that holds assignments/ and solutions/, looked for in this order:

    1. ``course`` (the command line's --course DIR), 2. the DEEPGRADE_ROOT variable,
    3. the working directory or the nearest of its parents that is a course folder,
    4. the source checkout this package runs from (an editable install).
    Raises CourseNotFound saying what to do. A wheel holds no course: a pip-installed
    deepgrade needs 1, 2 or 3.
    """
    for given, what in ((course, "--course "), (settings.get("DEEPGRADE_ROOT"), "DEEPGRADE_ROOT=")):
        if given:
            folder = Path(given).expanduser().resolve()
            if not is_course(folder):
                raise CourseNotFound(
                    f"{what}{given}: not a course folder (it needs assignments/<name>/assignment.toml); "
                    "give the folder holding assignments/ and solutions/"
                )
            return folder
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if is_course(p):
            return p
    source = Path(__file__).resolve().parents[3]  # <checkout>/graders/deepgrade/course/
    if is_course(source) and (source / "graders" / "deepgrade").is_dir():
        return source
    raise CourseNotFound(f"no course folder found from {here}: {COURSE_HELP}")


def available(root: Path | None = None) -> list[str]:
    root = root or project_root()
    folder = Path(root) / "assignments"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / "assignment.toml").is_file())


def read_contract(name: str, root: Path | None = None) -> tuple[Contract, dict]:
    """assignments/<name>/assignment.toml, checked against the contract (contract.py), and its
    raw table; reads nothing else (no fixtures, no TensorFlow).

    Raises KeyError (with the names that exist) for an unknown assignment and
    AssignmentError for a file that cannot be used.
    """
    root = Path(root or project_root()).resolve()
    toml_file = root / "assignments" / name / "assignment.toml"
    if not name or "/" in name or "\\" in name or name.startswith(".") or not toml_file.is_file():
        raise KeyError(f"no assignment named {name!r}; available: {', '.join(available(root)) or 'none'}")
    try:
        raw = tomllib.loads(toml_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{toml_file}: invalid TOML: {exc}") from None
    return contract.check(raw, toml_file, name), raw


def _import_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_fixtures(name: str, folder: Path) -> ModuleType:
    """``folder/fixtures.py`` imported as the module ``fixtures`` of a package made of the
    assignment's folder, so that it can import its siblings (``from . import budgets``), as it
    does in the student's copy, where the folder's files are the package ``_deepgrade_check``.

    The package is named after the assignment and the folder's path (two course folders may hold
    an assignment of the same name); importing again imports afresh.
    Tests and tools import the folder's modules through ``fixtures.__package__``.
    """
    folder = Path(folder).resolve()
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    package = "deepgrade_assignment_" + re.sub(r"\W", "_", name) + "_" + digest
    for key in [k for k in sys.modules if k == package or k.startswith(package + ".")]:
        del sys.modules[key]
    spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
    spec.submodule_search_locations = [str(folder)]
    sys.modules[package] = importlib.util.module_from_spec(spec)
    module = importlib.import_module(f"{package}.fixtures")
    return module


def _fixtures_failed(folder: Path, exc: Exception) -> AssignmentError:
    """What went wrong while importing fixtures.py or building its cases, and where (the frame in
    the assignment's folder nearest to the error), without a traceback through the engine."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).is_relative_to(folder)]
    where = f" ({Path(frames[-1].filename).relative_to(folder)}, line {frames[-1].lineno})" if frames else ""
    return AssignmentError(f"{folder / 'fixtures.py'}: the fixtures failed{where}: {type(exc).__name__}: {exc}")


_CACHE: dict[tuple[str, str], Assignment] = {}


def load(name: str, root: Path | None = None) -> Assignment:
    """Load an assignment by name; raises KeyError with the names that exist, AssignmentError
    for an unusable assignment.toml, CourseNotFound when there is no course folder."""
    root = (root or project_root()).resolve()
    key = (str(root), name)
    if key in _CACHE:
        return _CACHE[key]
    folder = root / "assignments" / name
    checked, raw = read_contract(name, root)
    solutions = root / "solutions"
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    reference = (
        _import_file(f"solutions.{name}", solutions / f"{name}.py") if (solutions / f"{name}.py").exists() else None
    )
    mutants_file = solutions / f"{name}_mistakes.py"
    mutants = _import_file(f"solutions.{name}_mistakes", mutants_file).MUTANTS if mutants_file.exists() else {}
    try:
        fixtures = import_fixtures(name, folder)
        all_cases = fixtures.cases()
    except Exception as exc:  # an author's bug or a bad setting (e.g. a data folder): one clear line
        raise _fixtures_failed(folder, exc) from exc
    extra = getattr(fixtures, "CHECKS", {})
    questions = [
        Question(qname, points, all_cases.get(qname, []), extra.get(qname))
        for qname, points in checked.questions.items()
    ]
    mistakes = {}
    mistakes_file = folder / "mistakes.toml"
    if mistakes_file.exists():
        for mid, m in tomllib.loads(mistakes_file.read_text()).items():
            mistakes[mid] = Mistake(mid, m["function"], m["title"], m["explanation"].strip())
    _check_output_weights(checked, questions)
    _apply_tolerances(checked, questions)
    student_files, student_check = _student_side(checked, fixtures, folder)
    limits = checked.limits
    assignment = Assignment(
        name=name,
        title=checked.title,
        folder=folder,
        notebook=folder / checked.notebook,
        questions=questions,
        mistakes=mistakes,
        reference=reference,
        mutants=mutants,
        cell_seconds=limits.cell_seconds,
        total_seconds=limits.total_seconds,
        memory_gb=limits.memory_gb,
        call_seconds=limits.call_seconds,
        policy=checked.policy,
        contract=checked,
        fixtures=fixtures,
        student_files=student_files,
        student_check=student_check,
    )
    _CACHE[key] = assignment
    return assignment


def _check_output_weights(checked: Contract, questions: list[Question]) -> None:
    """``[points.outputs.<question>]`` must name real questions and outputs (known once the
    fixtures are imported)."""
    by_name = {q.name: q for q in questions}
    for qname, weights in checked.policy.outputs.items():
        if qname not in by_name:
            raise AssignmentError(f"{checked.file}: [points.outputs] names no question {qname!r}")
        known = {lbl for c in by_name[qname].cases for lbl in labels(c.outputs)}
        unknown = set(weights) - known
        if unknown:
            raise AssignmentError(
                f"{checked.file}: [points.outputs.{qname}] names no output "
                f"{sorted(unknown)}; its outputs are {sorted(known)}"
            )


def _apply_tolerances(checked: Contract, questions: list[Question]) -> None:
    """``[tolerances.<question>]`` rtol / atol replace the default on every case of a question
    (the toml says why; a case's own rtol in fixtures.py is for one case only)."""
    by_name = {q.name: q for q in questions}
    for qname, tol in checked.tolerances.items():
        for case in by_name[qname].cases:
            case.rtol = tol.get("rtol", case.rtol)
            case.atol = tol.get("atol", case.atol)


def _student_side(checked: Contract, fixtures: ModuleType, folder: Path) -> tuple[list[str], str | None]:
    """The files and the check that grader.check needs to train a model in the student's
    kernel: the toml's ``student_files`` (+ ``student_files_optional`` that are present) and
    ``student_check``, else (older assignments) the fixtures' ``STUDENT_FILES`` and
    ``student_check``. Globs are expanded to the files they match, in sorted order."""
    files = _expand(checked, folder, checked.student_files, required=True)
    files += [f for f in _expand(checked, folder, checked.student_files_optional, required=False) if f not in files]
    files = files or list(getattr(fixtures, "STUDENT_FILES", None) or [])
    check = checked.student_check
    if check is None and callable(getattr(fixtures, "student_check", None)):
        check = "fixtures.student_check"
    for f in files:
        if not (folder / f).is_file():
            raise AssignmentError(f"{checked.file}: student_files: {f} is not a file in {folder}")
    return files, check


def _expand(checked: Contract, folder: Path, patterns: list[str], required: bool) -> list[str]:
    """Paths relative to ``folder`` (posix): a plain path as it is (if present, when not
    required), a glob as the files it matches (at least one, when required)."""
    out: list[str] = []
    for pattern in patterns:
        if not any(ch in pattern for ch in "*?["):
            if required or (folder / pattern).is_file():
                out.append(pattern)
            continue
        found = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.glob(pattern)
            if p.is_file() and "__pycache__" not in p.relative_to(folder).parts
        )
        if required and not found:
            raise AssignmentError(f"{checked.file}: student_files: {pattern} matches no file in {folder}")
        out += [f for f in found if f not in out]
    return out


def seeded(seed: int) -> np.random.Generator:
    """The generator every hidden fixture is drawn from: fixed seeds, same fixtures every run."""
    return np.random.default_rng(seed)
