"""The generic tests run over every assignment. rnn's are the costly ones (``deepgrade
validate rnn`` grades a notebook per catalogued mistake, about 25 s, paid once in each file that
needs it; its grader.check equality about 30 s), so every rnn instance here runs in the slow
part, as the README's rule for tests over about 10 s says. cnn and gated keep the generic checks
in the fast subset; CI runs all of them."""

from __future__ import annotations

from pathlib import Path

import pytest

SLOW_ASSIGNMENTS = {"rnn"}
HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" deselects
def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and HERE in item.path.parents and callspec.params.get("name") in SLOW_ASSIGNMENTS:
            item.add_marker(pytest.mark.slow)
