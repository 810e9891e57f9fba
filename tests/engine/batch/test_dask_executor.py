"""The Dask executor on a LocalCluster of 2 worker processes.

Same gradebook as the local process pool on the same submissions; a worker killed
(SIGKILL) while it grades loses nothing: its submissions are graded elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path

import nbformat
import pytest

distributed = pytest.importorskip("distributed")

import helpers  # noqa: E402
from deepgrade.batch import executors  # noqa: E402
from deepgrade.batch import run as batch  # noqa: E402
from deepgrade.batch.executors_dask import DaskExecutor, _apply  # noqa: E402
from deepgrade.course import assignment as asg  # noqa: E402
from deepgrade.grading import intake  # noqa: E402

ROOT = helpers.ROOT
MUTANTS = ("flipped_kernel", "stride_ignored", "softmax_overflow")


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
        death_timeout=120,
    ) as c:
        yield c


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("subs")
    nbformat.write(helpers.filled_notebook("cnn"), folder / "filled.ipynb")
    nbformat.write(nbformat.read(asg.load("cnn", ROOT).notebook, as_version=4), folder / "stub.ipynb")
    for mid in MUTANTS:
        nbformat.write(helpers.mutant_notebook("cnn", mid), folder / f"{mid}.ipynb")
    (folder / "broken.ipynb").write_text("{ this is not a notebook")
    return folder


def test_apply_ships_files_the_worker_cannot_see(tmp_path):
    """A worker without the submitter's file system grades from a shipped copy."""
    path = tmp_path / "nb.ipynb"
    nbformat.write(helpers.filled_notebook("cnn"), path)
    from deepgrade.batch.executors_dask import _files_of

    item = ("cnn", str(ROOT), str(path), "s1")
    files = _files_of(item)
    assert list(files) == [2]
    path.unlink()  # the "worker" does not have it
    result = _apply(executors.grade_one, item, files)
    assert result["file"] == str(path) and result["status"] == "graded"
    assert result["points"] == result["max_points"]


def test_same_gradebook_as_the_local_executor(cluster, submissions, tmp_path, monkeypatch):
    a = asg.load("cnn", ROOT)
    subs = intake.expand([str(submissions)], tmp_path / "work")
    assert len([s for s in subs if not s.status]) == 6

    local = executors.LocalExecutor(2, initializer=executors.init_worker, initargs=("cnn", str(ROOT)))
    batch.grade_batch(a, subs, tmp_path / "local", executor=local, progress=False, root=ROOT)

    monkeypatch.setenv("DEEPGRADE_SCHEDULER", cluster.scheduler_address)
    dask_ex = executors.make_executor("dask", 2, "cnn", ROOT)
    assert isinstance(dask_ex, DaskExecutor)
    try:
        batch.grade_batch(a, subs, tmp_path / "dask", executor=dask_ex, progress=False, root=ROOT)
    finally:
        dask_ex.close()

    # and from the command line (the env var set above is restored by monkeypatch)
    from deepgrade import cli

    argv = ["grade", "cnn", str(submissions), "--out", str(tmp_path / "cli"), "--quiet"]
    assert cli.main([*argv, "--executor", "dask", "--scheduler", cluster.scheduler_address]) == 0

    local_csv = (tmp_path / "local" / "final_grades.csv").read_text()
    dask_csv = (tmp_path / "dask" / "final_grades.csv").read_text()
    assert dask_csv == local_csv
    assert (tmp_path / "cli" / "final_grades.csv").read_text() == local_csv
    assert local_csv.count("\n") == 2 + 6
    assert "failed" in local_csv  # the broken notebook is a row of its own
    for f in sorted((tmp_path / "local" / "results").glob("*.json")):
        assert json.loads((tmp_path / "dask" / "results" / f.name).read_text()) == json.loads(f.read_text()), f.name


@pytest.mark.slow  # a Dask cluster with a worker killed mid-batch: CI runs it after the fast subset
def test_a_killed_worker_loses_nothing(cluster, tmp_path):
    from distributed import Client

    # slow submissions (a 2 s cell each) so that a worker is surely mid-grading when killed
    items = []
    for i, mid in enumerate((None, *MUTANTS, None, None)):
        nb = helpers.filled_notebook("cnn") if mid is None else helpers.mutant_notebook("cnn", mid)
        nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(2)"))
        path = tmp_path / f"slow{i}.ipynb"
        nbformat.write(nb, path)
        items.append(("cnn", str(ROOT), str(path), f"student{i}"))
    local = executors.LocalExecutor(2, initializer=executors.init_worker, initargs=("cnn", str(ROOT)))
    expected = {r["file"]: r for r in local.map_unordered(executors.grade_one, items)}
    assert len(expected) == len(items)

    with Client(cluster.scheduler_address, set_as_default=False, timeout=120) as client:
        client.wait_for_workers(2, timeout=120)
        pids = client.run(os.getpid)
        executor = DaskExecutor(client=client)
        results = []
        killed = None
        deadline = time.monotonic() + 300
        for result in executor.map_unordered(executors.grade_one, items):
            results.append(result)
            if killed is None:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                assert busy, "no worker had work left to kill"
                killed = sorted(busy)[0]
                os.kill(pids[killed], signal.SIGKILL)  # a worker process this test started
            assert time.monotonic() < deadline
        assert killed is not None
        assert killed not in client.scheduler_info()["workers"]

    assert len(results) == len(items)
    got = {r["file"]: r for r in results}
    assert got == expected
    assert [r["points"] for r in got.values()].count(asg.load("cnn", ROOT).max_points) == 3


def test_the_dask_module_imports_nothing_from_executors():
    """No import cycle: executors names the dask factory, executors_dask needs nothing back."""
    import subprocess
    import sys

    code = "import sys, deepgrade.batch.executors_dask; print('deepgrade.batch.executors' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr


def test_the_scheduler_is_an_argument_not_an_environment_variable(monkeypatch):
    monkeypatch.delenv("DEEPGRADE_SCHEDULER", raising=False)
    ex = executors.make_executor("dask", 1, "cnn", ROOT, scheduler="tcp://127.0.0.1:1")
    assert isinstance(ex, DaskExecutor) and ex.scheduler_address == "tcp://127.0.0.1:1"
    assert "DEEPGRADE_SCHEDULER" not in os.environ
    with pytest.raises(ValueError, match="needs a scheduler address"):
        executors.make_executor("dask", 1, "cnn", ROOT)
