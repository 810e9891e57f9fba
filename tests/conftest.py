"""Fixtures shared by the test files: ``mode``, the two ways the sandbox runs (a test file
may define its own ``mode`` to change them), and ``new_course``, an exercise as `deepgrade new`
writes it."""

from __future__ import annotations

import os
import time

import pytest

from deepgrade.sandbox import isolation
from helpers import NEW_EXERCISE


@pytest.fixture(scope="session", autouse=True)
def fallback_accepts_this_course():
    """Where bubblewrap does not work, every grading test runs in the fallback on this
    repository's course, which others may read wherever the clone lies: accepted for the
    suite (as --allow-readable-course would), so that those tests test what they are about.
    test_failclosed.py, which is about that refusal, unsets it; with bubblewrap, nothing."""
    if isolation.bwrap_available():
        yield
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(isolation.ALLOW_READABLE_ENV, "1")
        yield


@pytest.fixture(params=["bubblewrap", "process"])
def mode(request, monkeypatch):
    """bubblewrap (skipped where it does not work), then the fallback forced by DEEPGRADE_SANDBOX."""
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_CHECKED", {})
    if request.param == "process":
        monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
        # the fallback's behaviour on this repository's course (others may read it where the
        # clone lies): accepted, as --allow-readable-course; test_failclosed.py tests the refusal
        monkeypatch.setenv(isolation.ALLOW_READABLE_ENV, "1")
    else:
        monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
        if not isolation.bwrap_available():
            pytest.skip("bubblewrap does not work here")
    return request.param


@pytest.fixture(scope="session")
def new_course(tmp_path_factory):
    """A course folder holding only what `deepgrade new dense_relu` wrote (test_scaffold.py
    checks the files; test_every_assignment.py grades it like every assignment)."""
    from deepgrade.cli import main

    folder = tmp_path_factory.mktemp("new_course")
    assert main(["--course", str(folder), "new", NEW_EXERCISE]) == 0
    return folder


@pytest.fixture(scope="session")
def validated(new_course):
    """``validated(name)``: deepgrade validate's report on an assignment of this repository (or on
    the `deepgrade new` exercise), computed once per session (it grades a notebook per mistake)."""
    from deepgrade.authoring.validate import validate
    from helpers import ROOT

    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = validate(name, new_course if name == NEW_EXERCISE else ROOT)
        return cache[name]

    return get


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Under .ci/run (CI_TIMES_START set): the times, just above pytest's summary line.

    The sum of every test's setup, call and teardown is the run's length on one worker (each
    in wall time: other jobs on a shared machine lengthen it too); pytest's own wall time is
    smaller when pytest-xdist runs tests side by side. CI_TIMES_FAST holds the fast subset's
    figures when this run is the slow part."""
    start = os.environ.get("CI_TIMES_START")
    if not start:
        return
    reports = [r for rs in terminalreporter.stats.values() for r in rs if isinstance(r, pytest.TestReport)]
    tests = sum(r.duration for r in reports)
    part = "slow tests" if os.environ.get("CI_TIMES_FAST") else "fast subset"
    write = terminalreporter.write_line
    write(f"{part}: {tests:.0f} s of tests (setup + call + teardown, summed over workers)")
    if os.environ.get("CI_TIMES_FAST"):
        write(f"fast subset: {os.environ['CI_TIMES_FAST']}")
        write(f"whole CI (install and both parts): {time.time() - float(start):.0f} s wall")
