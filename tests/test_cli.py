"""The command line as an instructor meets it: the README's demo, usage errors, packaging."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from deepgrade.cli import main
from helpers import ROOT

DEEPGRADE = [sys.executable, "-m", "deepgrade.cli"]


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {Path(r["file"]).name: r for r in csv.DictReader(fh)}


def test_demo_class_grades_as_the_readme_says(tmp_path):
    """examples/demo.sh without the install step: make the class, grade it, read the gradebook."""
    subprocess.run([sys.executable, str(ROOT / "examples" / "make_class.py"), str(tmp_path / "class")], check=True)
    out = tmp_path / "grades"
    proc = subprocess.run(
        [*DEEPGRADE, "grade", "cnn", str(tmp_path / "class"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "points-per-question" in proc.stdout  # the gradebook is printed
    rows = _rows(out / "final_grades.csv")
    assert rows["points-per-question"]["total_points_earned"] == "22"
    assert rows["ada_lovelace_1001_cnn.ipynb"]["total_points_earned"] == "22"  # the reference
    assert rows["john_nash_1004_cnn.ipynb"]["total_points_earned"] == "0"  # untouched
    assert float(rows["alan_turing_1002_cnn.ipynb"]["conv2d_single"]) < 4  # flipped kernel
    assert rows["alan_turing_1002_cnn.ipynb"]["conv2d"] == "5"
    assert rows["emmy_noether_1005_cnn.ipynb"]["max_pool2d"] == "0"  # endless loop: that question only
    assert rows["emmy_noether_1005_cnn.ipynb"]["conv2d"] == "5"
    assert rows["broken_file_1007_cnn.ipynb"]["total_points_earned"] == "0"
    assert "not valid notebook JSON" in rows["broken_file_1007_cnn.ipynb"]["grading_status"]
    feedback = (out / "feedback").glob("*alan_turing*.txt")
    assert "true convolution" in next(feedback).read_text()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["grade", "nope", "x.ipynb"], "no assignment named 'nope'"),
        (["check", "cnn", "does/not/exist.ipynb"], "no such file"),
        (["grade", "cnn", "does/not/exist"], "does/not/exist"),
    ],
)
def test_unusable_arguments_exit_non_zero_with_a_clear_message(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main([*argv, "--out", str(tmp_path)] if argv[0] == "grade" else argv)
    assert code != 0
    assert message in capsys.readouterr().err


def test_check_prints_feedback_and_exits_zero_whatever_the_score(capsys):
    assert main(["check", "cnn", str(ROOT / "assignments" / "cnn" / "cnn.ipynb")]) == 0
    out = capsys.readouterr().out
    assert "0 / 22 points" in out and "not implemented yet" in out


def test_installed_package_holds_no_solutions(tmp_path):
    """What `pip install deepgrade` gives (the wheel) is the engine only."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("deepgrade-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("deepgrade/worker.py") for n in names)
    assert not [n for n in names if n.startswith(("solutions/", "assignments/", "tests/")) or "_mistakes" in n]
