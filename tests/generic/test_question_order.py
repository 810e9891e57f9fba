"""README "Add an exercise": `[questions]` lists the functions in notebook order, so the
gradebook's columns, the feedback and Gradescope's tests follow the notebook a student reads."""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from helpers import ROOT

ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/assignment.toml"))


def _notebook_order(folder, questions: list[str]) -> list[str]:
    """The graded functions in the order the notebook's code cells define them (read as JSON:
    independent of deepgrade's own notebook loader)."""
    meta = tomllib.loads((folder / "assignment.toml").read_text())
    nb = json.loads((folder / meta.get("notebook", f"{folder.name}.ipynb")).read_text())
    order: list[str] = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for name in re.findall(r"^def (\w+)\(", source, re.M):
            if name in questions and name not in order:
                order.append(name)
    return order


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_questions_follow_the_notebook(name):
    folder = ROOT / "assignments" / name
    questions = list(tomllib.loads((folder / "assignment.toml").read_text())["questions"])
    assert _notebook_order(folder, questions) == questions
