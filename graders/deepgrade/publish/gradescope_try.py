"""Try a Gradescope autograder zip locally, before uploading it:

    deepgrade gradescope try autograder.zip notebook.ipynb [--keep DIR]

Gradescope unpacks the zip into /autograder/source, puts the submission in
/autograder/submission and runs /autograder/source/run_autograder, which writes
/autograder/results/results.json. This does the same in a temporary folder (the zip's
run_autograder honours AUTOGRADER_ROOT), with this Python in place of the venv setup.sh would
build (so the packages are the ones installed here, not requirements.txt), and prints the
score and each test as Gradescope would list them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path


class TryError(Exception):
    """The zip or the notebook cannot be tried (the message says why)."""


def _unpack(zip_path: Path, source: Path) -> None:
    try:
        with zipfile.ZipFile(zip_path) as zf:
            if "run_autograder" not in zf.namelist():
                raise TryError(f"{zip_path} has no run_autograder: not an autograder zip (deepgrade export gradescope)")
            zf.extractall(source)  # the instructor's own zip; extractall drops absolute and .. parts
    except (zipfile.BadZipFile, OSError) as exc:
        raise TryError(f"{zip_path}: not a readable zip ({exc})") from None
    (source / "run_autograder").chmod(0o755)


def try_zip(zip_path: Path, notebook: Path, keep: Path | None = None, timeout: float = 3600) -> dict:
    """Run the zip's run_autograder on one notebook in a Gradescope layout; results.json as a dict.

    keep: a folder to copy the layout into afterwards (source/, submission/, results/)."""
    if not zip_path.is_file():
        raise TryError(f"no such file: {zip_path}")
    if not notebook.is_file():
        raise TryError(f"no such file: {notebook}")
    with tempfile.TemporaryDirectory(prefix="deepgrade-gradescope-") as tmp:
        root = Path(tmp)
        _unpack(zip_path, root / "source")
        (root / "submission").mkdir()
        shutil.copyfile(notebook, root / "submission" / notebook.name)
        env = {k: v for k, v in os.environ.items() if k not in ("DEEPGRADE_ROOT", "PYTHONPATH")}
        env["AUTOGRADER_ROOT"] = str(root)
        # no venv in the layout: run_autograder takes the first python3 on PATH, this one
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        proc = subprocess.run(
            [str(root / "source" / "run_autograder")],
            env=env,
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.stdout or proc.stderr:  # the autograder's log, which only instructors see
            sys.stderr.write(proc.stdout + proc.stderr)
        results = root / "results" / "results.json"
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TryError(f"run_autograder wrote no readable results.json ({exc})") from None
        if keep is not None:
            shutil.copytree(root, keep, dirs_exist_ok=True)
    return data


def summary(data: dict) -> str:
    """results.json as the lines a student sees on Gradescope (hidden tests marked so)."""
    tests = data.get("tests", [])
    total = sum(float(t.get("max_score", 0) or 0) for t in tests)
    score = data.get("score")
    if score is None:
        score = sum(float(t.get("score", 0) or 0) for t in tests)
    lines = [f"score {score:g} / {total:g}"]
    for t in tests:
        shown = t.get("visibility", data.get("visibility", "visible"))
        lines.append(
            f"  {t.get('name', '?')}: {float(t.get('score', 0) or 0):g} / {float(t.get('max_score', 0) or 0):g}"
            + ("" if shown == "visible" else f"  ({shown})")
        )
    if data.get("output"):
        lines.append(str(data["output"]).splitlines()[0])
    return "\n".join(lines)
