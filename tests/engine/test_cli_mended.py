"""What a new instructor met: --course after the verb, a forgotten assignment
name, `export gradescope --help`, a local Gradescope trial, TensorFlow's start-up lines, the
process fallback's wording, the sandbox log losing unflushed prints, and `calibrate --from-thresholds`
keeping the log's own provenance."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from deepgrade import cli, sandbox
from deepgrade.authoring import calibrate as cal
from deepgrade.sandbox import isolation
from helpers import ROOT, filled_notebook

DEEPGRADE = [sys.executable, "-m", "deepgrade.cli"]
# the assignments, read from the folder (not from deepgrade): each holds an assignment.toml
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.toml"))


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DEEPGRADE_")}
    return subprocess.run(
        [*DEEPGRADE, *args], capture_output=True, text=True, cwd=cwd, timeout=600, env={**clean, **env}
    )


def _one_line_error(proc: subprocess.CompletedProcess, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("deepgrade: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- --course after the verb


def test_course_is_accepted_after_the_verb(tmp_path):
    before = _cli(["--course", str(ROOT), "list"], tmp_path)
    after = _cli(["list", "--course", str(ROOT)], tmp_path)
    assert before.returncode == 0 and after.returncode == 0, after.stderr
    assert after.stdout == before.stdout and after.stdout.split()[0] == ASSIGNMENTS[0]
    # on a verb with its own arguments and options, in any place after the verb
    out = tmp_path / "dist"
    proc = _cli(["student", "cnn", "--course", str(ROOT), "--out", str(out)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "cnn" / "cnn.ipynb").is_file()
    # and on a sub-verb: the course is not a course -> the usual error, naming --course
    _one_line_error(_cli(["export", "gradescope", "cnn", "--course", str(tmp_path)], tmp_path), "--course")


def test_course_before_the_verb_is_not_reset_by_the_verb():
    args = cli.parser().parse_args(["--course", "/x", "list"])
    assert args.course == "/x"
    assert cli.parser().parse_args(["list"]).course is None
    assert cli.parser().parse_args(["--course", "/x", "list", "--course", "/y"]).course == "/y"


# --------------------------------------------------------------------------- forgotten assignment


def test_a_forgotten_assignment_name_is_named_with_the_assignments(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    line = _one_line_error(
        _cli(["--course", str(ROOT), "grade", str(folder)], tmp_path), "the assignment name is missing"
    )
    assert ", ".join(ASSIGNMENTS) in line
    assert "the following arguments are required" not in line
    line = _one_line_error(
        _cli(["--course", str(ROOT), "check", "ada.ipynb"], tmp_path), "the assignment name is missing"
    )
    assert ", ".join(ASSIGNMENTS) in line
    # the assignment given, the submissions forgotten: that is what is said
    _one_line_error(_cli(["--course", str(ROOT), "grade", "cnn"], tmp_path), "no submissions given")
    _one_line_error(_cli(["--course", str(ROOT), "check", "cnn"], tmp_path), "no notebook given")


def test_export_gradescope_help_describes_its_arguments(tmp_path):
    proc = _cli(["export", "gradescope", "--help"], tmp_path)
    assert proc.returncode == 0
    assert "the assignment to export" in proc.stdout and "the zip to write" in proc.stdout


# --------------------------------------------------------------------------- gradescope try


@pytest.fixture(scope="module")
def cnn_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "autograder.zip"
    assert cli.main(["--course", str(ROOT), "export", "gradescope", "cnn", "-o", str(out)]) == 0
    return out


def test_gradescope_try_runs_the_zips_run_autograder_locally(cnn_zip, tmp_path):
    nb = tmp_path / "cnn.ipynb"
    nbformat.write(filled_notebook("cnn"), nb)
    keep = tmp_path / "layout"
    proc = _cli(["gradescope", "try", str(cnn_zip), str(nb), "--keep", str(keep)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    # 22: the points of assignments/cnn/assignment.toml's [questions], summed by hand
    assert proc.stdout.splitlines()[0] == "score 22 / 22"
    assert "(after_published)" in proc.stdout  # hidden checks are listed as Gradescope hides them
    results = json.loads((keep / "results" / "results.json").read_text())
    assert results["score"] == 22
    assert (keep / "source" / "run_autograder").is_file() and (keep / "submission" / "cnn.ipynb").is_file()


def test_gradescope_try_of_the_untouched_notebook_scores_zero(cnn_zip, tmp_path):
    proc = _cli(["gradescope", "try", str(cnn_zip), str(ROOT / "assignments" / "cnn" / "cnn.ipynb")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "score 0 / 22"


def test_gradescope_try_of_bad_input_is_one_line(cnn_zip, tmp_path):
    nb = ROOT / "assignments" / "cnn" / "cnn.ipynb"
    _one_line_error(_cli(["gradescope", "try", str(tmp_path / "nope.zip"), str(nb)], tmp_path), "no such file")
    _one_line_error(_cli(["gradescope", "try", str(cnn_zip), str(tmp_path / "nope.ipynb")], tmp_path), "no such file")
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    _one_line_error(_cli(["gradescope", "try", str(not_zip), str(nb)], tmp_path), "not a readable zip")


# --------------------------------------------------------------------------- quiet TensorFlow


def test_tensorflows_loading_lines_are_filtered_and_real_errors_kept(tmp_path):
    """A stand-in `tensorflow` writing what TF 2.21 writes to descriptor 2 while it loads (copied
    from a real `deepgrade student keras` run), then a line of its own that must survive."""
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os\n"
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n')\n"
        "os.write(2, b'I0000 00:00:1796410241.893585   13785 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'a real problem\\n')\n"
        "import sys; print('TF_CPP_MIN_LOG_LEVEL=' + os.environ.get('TF_CPP_MIN_LOG_LEVEL', ''))\n"
    )
    code = "from deepgrade.quiet import import_tensorflow; import_tensorflow(); import_tensorflow()"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT / 'graders'}"}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "a real problem\n"
    assert proc.stdout == "TF_CPP_MIN_LOG_LEVEL=2\n"  # set before the import, imported once


def test_tensorflow_is_imported_early_only_for_assignments_whose_extras_pull_it():
    from deepgrade.course.requirements import needs_tensorflow

    # pyproject.toml: the keras extra holds tensorflow-cpu, tf names deepgrade[keras], reports holds matplotlib
    assert needs_tensorflow(ROOT, "x", ["keras"])
    assert needs_tensorflow(ROOT, "x", ["tf"])
    assert not needs_tensorflow(ROOT, "x", ["reports"])
    assert not needs_tensorflow(ROOT, "x", [])
    assert not needs_tensorflow(ROOT, "x", ["no_such_extra"])


@pytest.mark.slow
def test_student_keras_prints_no_tensorflow_log_lines(tmp_path):
    pytest.importorskip("tensorflow")
    proc = _cli(["--course", str(ROOT), "student", "keras", "--out", str(tmp_path / "dist")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("wrote the student copy of keras")


# --------------------------------------------------------------------------- the process fallback's wording


def test_forced_process_mode_says_it_was_chosen_not_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    assert "chosen by DEEPGRADE_SANDBOX=process" in isolation.fallback_reason()
    monkeypatch.delenv("DEEPGRADE_SANDBOX")
    assert "not available" in isolation.fallback_reason()
    nb = tmp_path / "ada.ipynb"
    nbformat.write(filled_notebook("cnn"), nb)
    proc = _cli(
        # this repository's course may be readable where the clone lies: accepted for the test
        [
            "--course",
            str(ROOT),
            "grade",
            "cnn",
            str(nb),
            "--out",
            str(tmp_path / "g"),
            "--quiet",
            "--allow-readable-course",
        ],
        tmp_path,
        DEEPGRADE_SANDBOX="process",
    )
    assert proc.returncode == 0, proc.stderr
    assert "chosen by DEEPGRADE_SANDBOX=process" in proc.stderr
    assert "bubblewrap is not available" not in proc.stderr


# --------------------------------------------------------------------------- the sandbox log


def test_sandbox_log_keeps_prints_that_were_never_flushed(mode, tmp_path, monkeypatch):
    log = tmp_path / "sandbox.log"
    monkeypatch.setenv("DEEPGRADE_SANDBOX_LOG", str(log))
    cells = [(0, "print('printed, not flushed')"), (1, "import sys\nsys.stderr.write('written to stderr')")]
    result = sandbox.run(cells, [])
    assert result.cells[0].status == "ok" and result.cells[1].status == "ok"
    text = log.read_text()
    assert "printed, not flushed" in text and "written to stderr" in text


# --------------------------------------------------------------------------- calibration provenance


def _panel():
    return SimpleNamespace(
        RULES={"q": [("accuracy", "min", 0.05, "min_accuracy")]},
        PANELS={"q": [("a", None), ("b", None)]},
        CONTROLS={"q": [("c", None)]},
    )


def _measured():
    return [
        cal.Measured("a", False, {0: {"accuracy": 0.9}}),
        cal.Measured("b", False, {0: {"accuracy": 0.8}}),
        cal.Measured("c", True, {0: {"accuracy": 0.5}}),
    ]


def _record(folder, stamp: str | None = None):
    """A thresholds.toml as calibration writes it, measurements included, with ``stamp`` as its
    section's provenance (none: a file from before stamps)."""
    rule = cal.Rule("accuracy", "min", 0.05, "min_accuracy")
    path = folder / "thresholds.toml"
    cal.write_thresholds(path, {"q": ([rule], {"min_accuracy": 0.75}, _measured())}, [0], None)
    text = path.read_text()
    (line,) = [ln for ln in text.splitlines() if ln.startswith("# q: ")]
    path.write_text(text.replace(line + "\n", f"# q: {stamp}\n" if stamp else ""))
    return path


def test_the_record_reads_back_every_measurement(tmp_path):
    """thresholds.toml is the one store: its [[q.measured]] tables give back what was measured."""
    import tomllib

    path = _record(tmp_path)
    back = cal.measured_from_record(tomllib.loads(path.read_text()))
    assert [(m.label, m.control, m.values) for m in back["q"]] == [(m.label, m.control, m.values) for m in _measured()]


def test_from_thresholds_keeps_the_files_provenance(tmp_path, monkeypatch):
    import platform
    import tomllib

    monkeypatch.setattr(cal, "load_panel", lambda a: _panel())
    old = "2020-01-02 03:04 UTC, oldbox, 64 cores, data: /photos"
    (tmp_path / "old").mkdir()
    record = _record(tmp_path / "old", old)
    assert cal.recorded_stamps(record) == {"q": old}
    (tmp_path / "a").mkdir()
    for _ in range(2):  # twice: a re-derivation of a re-derivation keeps the first stamp
        got = cal.calibrate(
            SimpleNamespace(folder=tmp_path / "a"),
            [0],
            log=lambda *_: None,
            previous=cal.measured_from_record(tomllib.loads(record.read_text())),
            previous_provenance=cal.recorded_stamps(record),
            previous_source=str(record),
        )
        record = tmp_path / "a" / "thresholds.toml"
    assert got == {"q": {"min_accuracy": 0.75}}  # the worst panel value 0.8, less the margin 0.05
    (section_comment,) = [ln for ln in record.read_text().splitlines() if ln.startswith("# q: ")]
    assert section_comment.startswith(f"# q: {old}; thresholds re-derived") and section_comment.count("re-derived") == 1
    assert platform.node() not in section_comment.split(";")[0]
    assert not (tmp_path / "a" / "calibrate-run.log").exists()  # measurements are stored once


def test_from_thresholds_without_provenance_says_so_and_does_not_invent_one(tmp_path, monkeypatch):
    import tomllib

    monkeypatch.setattr(cal, "load_panel", lambda a: _panel())
    record = _record(tmp_path)
    assert cal.recorded_stamps(record) == {}
    (tmp_path / "a").mkdir()
    cal.calibrate(
        SimpleNamespace(folder=tmp_path / "a"),
        [0],
        log=lambda *_: None,
        previous=cal.measured_from_record(tomllib.loads(record.read_text())),
        previous_provenance={},
        previous_source="old.toml",
    )
    thresholds = (tmp_path / "a" / "thresholds.toml").read_text()
    assert "# q: not recorded in old.toml; thresholds re-derived" in thresholds


def test_a_measured_run_stamps_now_and_here(tmp_path, monkeypatch):
    """The other side: measurements taken now carry this machine's name (measure_panel stubbed)."""
    import platform

    monkeypatch.setattr(cal, "load_panel", lambda a: _panel())
    monkeypatch.setattr(cal, "measure_panel", lambda *a, **k: _measured())
    (tmp_path / "a").mkdir()
    cal.calibrate(SimpleNamespace(folder=tmp_path / "a"), [0], log=lambda *_: None)
    (line,) = [ln for ln in (tmp_path / "a" / "thresholds.toml").read_text().splitlines() if ln.startswith("# q: ")]
    assert platform.node() in line and "re-derived" not in line
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["thresholds.toml"]


def test_cli_from_thresholds_refuses_a_file_that_is_not_toml(tmp_path, capsys):
    bad = tmp_path / "run.log"
    bad.write_text("build_forecaster: 6 panel models\n  panel x (seed 0): mse_ratio 0.5\n")
    assert cli.main(["calibrate", "keras", "--from-thresholds", str(bad)]) == 2
    assert "is not a thresholds.toml" in capsys.readouterr().err
