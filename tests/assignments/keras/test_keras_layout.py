"""The keras fixtures' layout: one job per module, the sandbox programs as real, linted files
(harness/), the folder imported as a package wherever the fixtures run, the student files
declared in assignment.toml, and the resume key covering every file. No model is trained here."""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from deepgrade.batch import fingerprint
from deepgrade.course import assignment as asg
from helpers import ONLY_THE_COPY, ROOT

KERAS = ROOT / "assignments" / "keras"
HARNESS = KERAS / "harness"


def _ruff() -> str:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    return ruff


def test_the_harness_files_are_lint_clean_python():
    files = sorted(HARNESS.glob("*.py"))
    assert {p.stem for p in files} >= {"common", "digits", "stock", "cats_dogs", "generate_model", "generate"}
    for p in files:
        ast.parse(p.read_text(encoding="utf-8"), str(p))
    ruff = _ruff()
    for args in (["check"], ["format", "--check"]):
        proc = subprocess.run(
            [ruff, *args, "--config", str(ROOT / "pyproject.toml"), *map(str, files)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _top_level_functions(path: Path) -> set[str]:
    return {n.name for n in ast.parse(path.read_text(encoding="utf-8")).body if isinstance(n, ast.FunctionDef)}


def test_a_helper_of_common_is_defined_once():
    """A harness imports common.py's public helpers (a real import), never a copy."""
    common = _top_level_functions(HARNESS / "common.py")
    assert {"write_images", "fit_model", "describe_layers", "history_arrays", "require_compiled"} <= common
    assert not {name for name in common if name.startswith("_")}  # what the harnesses import is public
    for p in HARNESS.glob("*.py"):
        if p.stem not in ("common", "__init__", "generate_model"):
            assert not common & _top_level_functions(p), f"{p.name} redefines {common & _top_level_functions(p)}"
            assert "TYPE_CHECKING" not in p.read_text(encoding="utf-8"), p.name


def test_every_model_case_sends_its_harness_as_modules():
    """Each model case's program installs harness/common.py and the question's file as modules
    (generate: also generate_model.py), source for source, and runs the last one's ``run``."""
    a = asg.load("keras", ROOT)
    seen = 0
    for q in a.questions:
        for case in q.cases:
            if case.harness is None:
                continue
            seen += 1
            ns: dict = {}
            for key in [k for k in sys.modules if k.startswith("deepgrade_harness")]:
                del sys.modules[key]
            exec(compile(case.harness, f"<{q.name}>", "exec"), ns)
            installed = {k.split(".", 1)[1]: m for k, m in sys.modules.items() if k.startswith("deepgrade_harness.")}
            names = ["common", "generate_model", "generate"] if q.name == "generate" else ["common"]
            assert set(names) <= set(installed) and len(installed) == len(names) + (q.name != "generate"), q.name
            last = ns["run"].__module__.split(".", 1)[1]
            assert ns["run"] is installed[last].run
            for name, module in installed.items():  # each module is its file, imported: not text joined
                assert repr((HARNESS / f"{name}.py").read_text(encoding="utf-8")) in case.harness
                for f in _top_level_functions(HARNESS / f"{name}.py"):
                    assert getattr(module, f).__code__.co_filename == f"<deepgrade harness/{name}.py>"
            if q.name == "build_digit_cnn":  # a helper imported from common, not a copy of it
                assert installed[last].fit_model is installed["common"].fit_model
    assert seen >= 12


def _course_copy(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    shutil.copytree(KERAS, course / "assignments" / "keras", ignore=shutil.ignore_patterns("__pycache__"))
    return course


def test_the_fixtures_import_their_siblings_from_any_course_folder(tmp_path):
    """Two course folders holding an assignment of the same name: each fixtures module reads
    its own folder's siblings (the package is named after the folder)."""
    course = _course_copy(tmp_path)
    ours = asg.load("keras", ROOT).fixtures

    def digits(fixtures):
        return importlib.import_module(f"{fixtures.__package__}.check.budgets").budgets().digits

    mine = digits(ours)["epochs"]  # the budget in force (4 since 2026-12-05); the copy's differs
    budgets = course / "assignments" / "keras" / "check" / "budgets.py"
    text = budgets.read_text()
    assert f'DIGITS = {{"seed": 0, "epochs": {mine},' in text
    budgets.write_text(
        text.replace(f'DIGITS = {{"seed": 0, "epochs": {mine},', f'DIGITS = {{"seed": 0, "epochs": {mine + 1},')
    )
    theirs = asg.import_fixtures("keras", course / "assignments" / "keras")
    assert theirs.__package__ != ours.__package__
    assert digits(theirs)["epochs"] == mine + 1 and digits(ours)["epochs"] == mine
    assert callable(theirs.cases) and callable(theirs.student_check) and "build_stock_lstm" in theirs.CHECKS


def test_the_resume_key_covers_the_harness_files(tmp_path):
    course = _course_copy(tmp_path)
    folder = course / "assignments" / "keras"
    a = SimpleNamespace(name="keras", folder=folder)
    before = fingerprint.assignment_files(a, course)
    assert {"assignments/keras/harness/stock.py", "assignments/keras/check/judging/stock.py"} <= set(before)
    stock = folder / "harness" / "stock.py"
    stock.write_text(stock.read_text().replace("epochs=int(epochs)", "epochs=int(epochs) + 1"))
    after = fingerprint.assignment_files(a, course)
    assert before != after
    old = {"engine": {"version": "x"}, "files": before}
    new = {"engine": {"version": "x"}, "files": after}
    assert fingerprint.changes(old, new, "keras") == "the assignment changed (harness/stock.py)"


def test_the_student_files_are_declared_in_the_toml():
    a = asg.load("keras", ROOT)
    assert a.contract.student_files and a.student_check == "fixtures.student_check"
    shipped = set(a.student_files)
    # every module but the instructor's (panel, notebook and data builders) ships
    modules = {p.relative_to(KERAS).as_posix() for p in KERAS.rglob("*.py") if "__pycache__" not in p.parts}
    instructor = {m for m in modules if m.startswith("instructor/")}
    assert {"instructor/panel.py", "instructor/make_notebook.py"} <= instructor
    assert modules - instructor <= shipped, modules - instructor - shipped
    assert {"check/judging/stock.py", "harness/stock.py", "data/goog.npz"} <= shipped
    assert ("thresholds.toml" in shipped) == (KERAS / "thresholds.toml").is_file()
    assert ("data/corpus.txt" in shipped) == (KERAS / "data" / "corpus.txt").is_file()
    assert not (instructor | {"mistakes.toml", "assignment.toml"}) & shipped
    assert len(a.contract.student_files) <= 6  # a handful of entries: folders, not file by file


def _cnn_course(tmp_path: Path, toml_extra: str) -> Path:
    course = tmp_path / "course"
    shutil.copytree(ROOT / "assignments" / "cnn", course / "assignments" / "cnn")
    (course / "solutions").mkdir()
    for f in ("cnn.py", "cnn_mistakes.py"):
        shutil.copy(ROOT / "solutions" / f, course / "solutions" / f)
    toml = course / "assignments" / "cnn" / "assignment.toml"
    toml.write_text(toml_extra + toml.read_text())
    return course


def test_student_file_globs_and_optional_files(tmp_path):
    course = _cnn_course(
        tmp_path,
        "student_files = ['fixtures.py', 'extra/*.py']\nstudent_files_optional = ['maybe.toml', 'extra/*.txt']\n"
        "student_check = 'fixtures.check_here'\n",
    )
    folder = course / "assignments" / "cnn"
    with pytest.raises(asg.AssignmentError, match=re.escape("student_files: extra/*.py matches no file")):
        asg.load("cnn", course)
    (folder / "extra").mkdir()
    (folder / "extra" / "b.py").write_text("")
    (folder / "extra" / "a.py").write_text("")
    asg._CACHE.pop((str(course.resolve()), "cnn"), None)
    a = asg.load("cnn", course)
    assert a.student_files == ["fixtures.py", "extra/a.py", "extra/b.py"]  # absent optional files: not shipped
    (folder / "maybe.toml").write_text("")
    asg._CACHE.pop((str(course.resolve()), "cnn"), None)
    assert asg.load("cnn", course).student_files[-1] == "maybe.toml"


def test_the_engines_student_runner_imports_a_copys_siblings(tmp_path):
    """grader.check run with the engine's student_runner on a copy's public.json (not the copy's
    own runner): the copy's folder is imported as a package, so its modules import their siblings."""
    from deepgrade.portable import student_runner

    copy = tmp_path / "_deepgrade_check"
    copy.mkdir()
    (copy / "__init__.py").write_text("")
    (copy / "public.json").write_text('{"student_check": "fixtures.student_check"}')
    (copy / "budgets.py").write_text("EPOCHS = 7\n")
    (copy / "fixtures.py").write_text(
        "from .budgets import EPOCHS\n\n\ndef student_check(name, functions, explain):\n    return [name, EPOCHS]\n"
    )
    assert student_runner._trained_checks("q", {}, {}, copy / "public.json") == ["q", 7]


STUDENT_WITHOUT_DEEPGRADE = (
    ONLY_THE_COPY
    + r"""
from _deepgrade_check import fixtures
from deepgrade.portable.feedback import Check

cases = fixtures.cases()
assert "deepgrade_harness" in cases["build_stock_lstm"][0].harness
from deepgrade.portable.call_runner import StepOutcome
failed = StepOutcome("error", error={"type": "ValueError", "message": "boom", "where": []})
checks = fixtures.CHECKS["build_stock_lstm"](
    type("A", (), {"mistakes": {}})(), type("Q", (), {"name": "build_stock_lstm"})(), {"build_stock_lstm/train": failed}
)
assert [type(c) for c in checks] == [Check] and checks[0].details == ["raised ValueError: boom"], checks
import deepgrade.portable
assert deepgrade.portable.__file__.startswith(sys.argv[1]), deepgrade.portable.__file__
print("COPY OK")
"""
)


def test_the_student_copy_runs_its_fixtures_without_deepgrade(tmp_path):
    """The copy's modules import the copy's own deepgrade.portable under its grader name (no
    deepgrade in the student's kernel), across the subpackages (check/, harness/). No model is trained."""
    from deepgrade.publish.student import make_student_copy

    out = make_student_copy(asg.load("keras", ROOT), tmp_path / "keras")
    assert (out / "_deepgrade_check" / "harness" / "common.py").is_file()
    assert (out / "_deepgrade_check" / "check" / "judging" / "stock.py").is_file()
    proc = subprocess.run(
        [sys.executable, "-c", STUDENT_WITHOUT_DEEPGRADE, str(out)], capture_output=True, text=True, timeout=300
    )
    assert "COPY OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_the_gradescope_autograder_loads_the_keras_fixtures(tmp_path):
    """Unpacked as Gradescope unpacks it, the autograder's course folder loads the keras fixtures
    with their siblings, harness files and data."""
    from deepgrade.publish import gradescope
    from helpers import unpack_autograder

    zip_path = gradescope.export("keras", tmp_path / "ag.zip", ROOT)
    source = unpack_autograder(zip_path, tmp_path) / "source"
    folder = source / "assignments" / "keras"
    assert (folder / "harness" / "common.py").is_file() and (folder / "check" / "judging" / "stock.py").is_file()
    fixtures = asg.import_fixtures("keras", folder)
    case = fixtures.cases()["build_stock_lstm"][0]
    for name in ("common", "stock"):
        assert repr((folder / "harness" / f"{name}.py").read_text()) in case.harness


_CATS_CASE = (
    "import sys; from pathlib import Path; from deepgrade.course import assignment as asg; "
    "a = asg.load('keras', Path(sys.argv[1])); "
    "c = next(c for q in a.questions if q.name == 'build_cats_dogs_cnn' for c in q.cases); "
    "print([tuple(x.shape) for x in c.args if getattr(x, 'ndim', 0) == 4], c.seconds)"
)


def _keras_env(**extra: str) -> dict:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DEEPGRADE_")} | extra


def test_the_cats_and_dogs_image_size_is_a_setting():
    """DEEPGRADE_CATS_DOGS_SIZE=150 grades at the lecture's size: the images the sandbox is sent
    are 150 x 150 and the call's time limit grows with the pixels ((150 / 64)^2 x 90 s)."""
    proc = subprocess.run(
        [sys.executable, "-c", _CATS_CASE, str(ROOT)],
        capture_output=True,
        text=True,
        env=_keras_env(DEEPGRADE_CATS_DOGS_SIZE="150"),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    shapes, seconds = proc.stdout.strip().rsplit("\n", 1)[-1].rsplit(" ", 1)
    assert shapes == "[(400, 150, 150, 3), (200, 150, 150, 3)]"
    assert float(seconds) == pytest.approx(90 * (150 / 64) ** 2)


@pytest.mark.parametrize("value", ["big", "16", "1e3"])
def test_a_bad_image_size_is_one_clear_line(value, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deepgrade.cli",
            "--course",
            str(ROOT),
            "student",
            "keras",
            "--out",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        env=_keras_env(DEEPGRADE_CATS_DOGS_SIZE=value),
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert f"DEEPGRADE_CATS_DOGS_SIZE={value!r}: expected a whole number of pixels from 32 to 256" in proc.stderr
    assert "budgets.py, line" in proc.stderr
