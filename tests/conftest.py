"""Fixtures shared by the test files: ``mode``, the two ways the sandbox runs (a test file
may define its own ``mode`` to change them)."""

from __future__ import annotations

import pytest

from deepgrade import isolation


@pytest.fixture(params=["bubblewrap", "process"])
def mode(request, monkeypatch):
    """bubblewrap (skipped where it does not work), then the fallback forced by DEEPGRADE_SANDBOX."""
    monkeypatch.setattr(isolation, "_BWRAP", None)
    monkeypatch.setattr(isolation, "_CHECKED", {})
    if request.param == "process":
        monkeypatch.setenv("DEEPGRADE_SANDBOX", "process")
    else:
        monkeypatch.delenv("DEEPGRADE_SANDBOX", raising=False)
        if not isolation.bwrap_available():
            pytest.skip("bubblewrap does not work here")
    return request.param
