"""One settings table (deepgrade.settings): every DEEPGRADE_* name in the tree is defined there,
the engine reads them only through it, and README.md's table is the generated one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from deepgrade import settings
from helpers import ROOT

NAME = re.compile(r"DEEPGRADE_[A-Z][A-Z0-9_]*[A-Z0-9]")
FOLDERS = ("graders", "assignments", "solutions", "tests", "benchmarks", "examples", ".ci")
# a read of a DEEPGRADE_ variable not through settings.get: environ.get("..."), environ["..."]
# not followed by an assignment, getenv("...")
DIRECT_READ = re.compile(
    r"""(environ\.get\(|getenv\()\s*["']DEEPGRADE_\w+["']|environ\[\s*["']DEEPGRADE_\w+["']\s*\](?!\s*=(?!=))"""
)


def _tree_files():
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".sh", ".toml", ".md", "") and "__pycache__" not in path.parts:
                if path != Path(__file__).resolve():  # this file's made-up names
                    yield path


def test_every_deepgrade_name_in_the_tree_is_in_the_table():
    found: dict[str, str] = {}
    for path in _tree_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for name in NAME.findall(text):
            found.setdefault(name, str(path.relative_to(ROOT)))
    missing = {n: where for n, where in found.items() if n not in settings.BY_NAME}
    assert missing == {}, f"add these to deepgrade/settings.py SETTINGS: {missing}"
    # and the table lists nothing the tree never mentions (a stale row)
    assert set(settings.BY_NAME) <= set(found), set(settings.BY_NAME) - set(found)
    # the two the README lacked before the table existed
    assert {"DEEPGRADE_SCHEDULER", "DEEPGRADE_DATA"} <= set(found)


def test_the_engine_reads_them_only_through_settings():
    """Outside settings.py, engine modules ask settings.get; only code that runs where deepgrade
    is not importable (the sandbox child: portable/, isolation.BOOT) reads os.environ itself."""
    engine = ROOT / "graders" / "deepgrade"
    direct = []
    for path in sorted(engine.rglob("*.py")):
        if path.name == "settings.py" or "portable" in path.parts:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            stripped = line.strip()
            if stripped.startswith('"') and "DEEPGRADE_IN" in stripped:
                continue  # a line of isolation.BOOT, the child's program, run before deepgrade exists there
            if DIRECT_READ.search(line):
                direct.append(f"{path.relative_to(ROOT)}: {stripped}")
    assert direct == []


def test_direct_read_pattern_sees_reads_and_not_writes():
    """The pattern the test above relies on, on lines written for it."""
    assert DIRECT_READ.search('x = os.environ.get("DEEPGRADE_ROOT")')
    assert DIRECT_READ.search("fd = int(os.environ['DEEPGRADE_FD'])")
    assert DIRECT_READ.search('os.getenv("DEEPGRADE_SANDBOX")')
    assert not DIRECT_READ.search('os.environ["DEEPGRADE_DATA"] = str(data)')
    assert not DIRECT_READ.search('settings.get("DEEPGRADE_ROOT")')
    assert DIRECT_READ.search('if os.environ["DEEPGRADE_SANDBOX"] == "process":')


def test_get_reads_the_environment_and_refuses_unlisted_names(monkeypatch):
    monkeypatch.setenv("DEEPGRADE_SANDBOX_LOG", "/tmp/x.log")
    assert settings.get("DEEPGRADE_SANDBOX_LOG") == "/tmp/x.log"
    monkeypatch.setenv("DEEPGRADE_SANDBOX_LOG", "")
    assert settings.get("DEEPGRADE_SANDBOX_LOG") is None  # empty counts as unset, as the README says
    monkeypatch.delenv("DEEPGRADE_SANDBOX_LOG")
    assert settings.get("DEEPGRADE_SANDBOX_LOG") is None
    with pytest.raises(KeyError, match="not in deepgrade.settings"):
        settings.get("DEEPGRADE_UNKNOWN")


def test_every_row_says_default_meaning_and_who():
    for s in settings.SETTINGS:
        assert s.name.startswith("DEEPGRADE_") and s.default and s.meaning and s.audience and s.read_in, s
        assert "|" not in s.default + s.meaning + s.audience + s.read_in, s  # it would break the table


def test_the_readme_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings.START in readme and settings.END in readme
    assert settings.with_table(readme) == readme, "run: python -m deepgrade.settings --readme README.md"
    for s in settings.SETTINGS:
        assert f"| `{s.name}` |" in readme


def test_the_check_command_fails_on_a_drifted_readme_and_readme_mends_it(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    readme.write_text(text.replace("| `DEEPGRADE_SCHEDULER` |", "| `DEEPGRADE_SCHEDULAR` |"), encoding="utf-8")

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "deepgrade.settings", *args, str(readme)], capture_output=True, text=True
        )

    drifted = run("--check")
    assert drifted.returncode == 1 and "differs" in drifted.stderr
    assert run("--readme").returncode == 0
    assert readme.read_text(encoding="utf-8") == text
    assert run("--check").returncode == 0
    readme.write_text("# no markers\n", encoding="utf-8")
    no_block = run("--check")
    assert no_block.returncode == 2 and "no block between" in no_block.stderr and "Traceback" not in no_block.stderr
