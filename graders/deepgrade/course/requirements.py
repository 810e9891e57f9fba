"""The pip requirements of an assignment: deepgrade's dependencies plus the extras its
assignment.toml declares (``extras = ["keras"]``). Read by the Gradescope export (its
requirements.txt) and by the CLI (whether the fixtures will import TensorFlow)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path


def project_requirements(root: Path) -> tuple[list[str], dict[str, list[str]]]:
    """(dependencies, {extra: requirements}) from the course's pyproject.toml when it is
    deepgrade's own (a source checkout), else from the installed package's metadata."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == "deepgrade":
            return list(project.get("dependencies", [])), dict(project.get("optional-dependencies", {}))
    from importlib import metadata

    base: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in metadata.requires("deepgrade") or []:  # 'tensorflow-cpu==2.21.0; extra == "keras"'
        req, _, marker = (part.strip() for part in line.partition(";"))
        if 'extra == "' in marker:
            extras.setdefault(marker.split('extra == "', 1)[1].split('"', 1)[0], []).append(req)
        else:
            base.append(req)
    return base, extras


def requirements(root: Path, name: str, declared: list[str]) -> list[str]:
    """deepgrade's dependencies plus those of the extras the assignment ``name`` declares
    (``extras = ["keras"]`` in its assignment.toml, ``Contract.extras``); an extra may name
    another (``tf = ["deepgrade[keras]"]``)."""
    reqs, extras = project_requirements(root)
    wanted = list(declared)
    seen: set[str] = set()
    while wanted:
        extra = wanted.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        if extra not in extras:
            raise ValueError(
                f"assignments/{name}/assignment.toml: extras: no extra named {extra!r} "
                f"(deepgrade has: {', '.join(sorted(extras))})"
            )
        for req in extras[extra]:
            if req.replace(" ", "").startswith("deepgrade["):
                wanted += [e.strip() for e in req.split("[", 1)[1].split("]", 1)[0].split(",")]
            elif req not in reqs:
                reqs.append(req)
    return reqs


def needs_tensorflow(root: Path, name: str, extras: list[str]) -> bool:
    """Whether the extras the assignment declares (assignment.toml ``extras``) pull TensorFlow,
    i.e. its fixtures will import it; decided from the requirements, not from names."""
    if not extras:
        return False
    try:
        reqs = requirements(root, name, extras)
    except ValueError:  # an unknown extra: loading the assignment says so
        return False
    return any(re.match(r"tensorflow\b", r.strip()) for r in reqs)
