"""The Gradescope autograder, proven without Gradescope.

The exported zip is unpacked into a temporary root laid out as Gradescope lays it out
(autograder/source, autograder/submission, autograder/results); run_autograder runs
with AUTOGRADER_ROOT pointing there and this venv's python first on PATH (setup.sh,
which installs into /autograder/venv, is only checked for bash syntax).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

import helpers
from deepgrade import cli
from deepgrade.course import assignment as asg
from deepgrade.portable.compare import _fmt, as_array
from deepgrade.portable.outputs import parts

ROOT = helpers.ROOT


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "autograder.zip"
    assert cli.main(["export", "gradescope", "cnn", "-o", str(out)]) == 0
    return out


def run_autograder(root: Path, nb: nbformat.NotebookNode, filename: str = "cnn.ipynb") -> dict:
    for p in (root / "submission").iterdir():
        p.unlink()
    nbformat.write(nb, root / "submission" / filename)
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPGRADE_ROOT", "PYTHONPATH")}
    env["AUTOGRADER_ROOT"] = str(root)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=600, cwd=root
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((root / "results" / "results.json").read_text())


def hidden_expected_strings() -> set[str]:
    """Every hidden fixture's expected values as feedback would print them (non-trivial ones)."""
    a = asg.load("cnn", ROOT)
    found: set[str] = set()
    for q in a.questions:
        for case in q.cases:
            if not case.hidden or not case.compare or case.expect_error is not None:
                continue
            for value in parts(a.expected(case, q.name), case.outputs).values():
                arr = as_array(value)
                if arr is None:
                    continue
                for x in arr.ravel():
                    if np.isfinite(x) and abs(x) > 1e-3 and abs(x - round(x)) > 1e-3:
                        found.add(_fmt(float(x)))
    return found


def test_zip_contents(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        for needed in (
            "setup.sh",
            "run_autograder",
            "requirements.txt",
            "pyproject.toml",
            "README.md",
            "graders/deepgrade/grading/pipeline.py",
            "graders/deepgrade/sandbox/__init__.py",
            "graders/deepgrade/portable/worker.py",
            "assignments/cnn/assignment.toml",
            "assignments/cnn/fixtures.py",
            "solutions/cnn.py",
            "solutions/cnn_mistakes.py",
        ):
            assert needed in names, needed
        assert not any(n.startswith(("assignments/rnn", "solutions/rnn")) or "__pycache__" in n for n in names)
        reqs = zf.read("requirements.txt").decode().split()
        assert any(r.startswith("numpy") for r in reqs) and any(r.startswith("nbformat") for r in reqs)
        assert (zf.getinfo("run_autograder").external_attr >> 16) & 0o111


def test_setup_sh_is_valid_bash(autograder_zip, tmp_path):
    root = helpers.unpack_autograder(autograder_zip, tmp_path)
    for script in ("setup.sh", "run_autograder"):
        proc = subprocess.run(["bash", "-n", str(root / "source" / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_bundled_engine_is_the_one_that_runs(autograder_zip, tmp_path):
    root = helpers.unpack_autograder(autograder_zip, tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "DEEPGRADE_ROOT"}
    env["PYTHONPATH"] = str(root / "source" / "graders")
    out = subprocess.run(
        [sys.executable, "-c", "import deepgrade.grading.pipeline as p; print(p.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert Path(out.strip()).is_relative_to(root / "source")


def test_correct_and_wrong_submissions(autograder_zip, tmp_path):
    root = helpers.unpack_autograder(autograder_zip, tmp_path)
    a = asg.load("cnn", ROOT)

    good = run_autograder(root, helpers.filled_notebook("cnn"))
    assert good["score"] == a.max_points
    assert good["visibility"] == "visible" and good["stdout_visibility"] == "hidden"
    assert sum(t["max_score"] for t in good["tests"]) == pytest.approx(a.max_points)
    assert sum(t["score"] for t in good["tests"]) == pytest.approx(a.max_points)
    for t in good["tests"]:
        assert set(t) == {"name", "score", "max_score", "output", "visibility"}
        assert t["visibility"] == ("after_published" if "(hidden checks)" in t["name"] else "visible")
        if t["visibility"] == "after_published":
            assert all("hidden check" in line for line in t["output"].splitlines() if line.startswith(("ok", "FAIL")))
        else:
            assert "hidden check" not in t["output"]
    names = {t["name"] for t in good["tests"]}
    for q in a.questions:
        has_hidden = any(c.hidden for c in q.cases)
        assert (f"{q.name} (hidden checks)" in names) == has_hidden, q.name
        assert f"{q.name} (public checks)" in names or q.name in names, q.name

    bad = run_autograder(root, helpers.mutant_notebook("cnn", "flipped_kernel"), filename="my_submission.ipynb")
    assert bad["score"] < a.max_points
    conv = [t for t in bad["tests"] if t["name"].startswith("conv2d_single")]
    assert {t["visibility"] for t in conv} == {"visible", "after_published"}
    assert all(t["score"] < t["max_score"] for t in conv)
    explanation = a.mistakes["flipped_kernel"].explanation.split("\n")[0].strip()
    assert any(explanation in t["output"] for t in conv), "the diagnosis is in the feedback"
    # per-question scores are the engine's, split between public and hidden
    graded = helpers.grade_notebook("cnn", helpers.mutant_notebook("cnn", "flipped_kernel"), tmp_path)
    assert bad["score"] == graded.points
    for q in graded.questions:
        assert sum(t["score"] for t in bad["tests"] if t["name"].split(" ")[0] == q.name) == pytest.approx(
            q.points, abs=0.011
        )

    secrets = hidden_expected_strings()
    assert len(secrets) > 20
    for data in (good, bad):
        text = json.dumps(data)
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"hidden expected values in results.json: {leaked[:5]}"


def test_no_notebook_submitted(autograder_zip, tmp_path):
    root = helpers.unpack_autograder(autograder_zip, tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPGRADE_ROOT", "PYTHONPATH")}
    env["AUTOGRADER_ROOT"] = str(root)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    (root / "submission" / "notes.txt").write_text("oops")
    subprocess.run([str(root / "run_autograder")], env=env, check=True, capture_output=True, timeout=300)
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "No notebook" in data["output"]


def test_several_notebooks_are_chosen_among_by_the_batchs_rule(autograder_zip, tmp_path):
    """An empty cnn.ipynb beside a complete my_work.ipynb: my_work is graded, as the batch would,
    and the output names the file graded and the one that was not."""
    root = helpers.unpack_autograder(autograder_zip, tmp_path)
    a = asg.load("cnn", ROOT)
    run_autograder(root, helpers.filled_notebook("cnn"), filename="my_work.ipynb")
    (root / "submission" / "cnn.ipynb").write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k not in ("DEEPGRADE_ROOT", "PYTHONPATH")}
    env["AUTOGRADER_ROOT"] = str(root)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run([str(root / "run_autograder")], env=env, check=True, capture_output=True, timeout=600, cwd=root)
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == a.max_points
    assert "graded my_work.ipynb" in data["output"] and "not graded: cnn.ipynb" in data["output"]
