"""Thresholds of trained check models, measured on the data and machine at hand.

    deepgrade calibrate keras [--data DIR] [--seeds 0,1,2] [--question NAME] [--dry-run] [--from-thresholds FILE]

An assignment that trains models (``keras``) keeps in ``assignments/<name>/instructor/panel.py``:

    PANELS   {question: [(label, builder), ...]}  reasonable, correct models (the reference among them)
    CONTROLS {question: [(label, builder), ...]}  wrong models that must fail; a third item, a dict
             of other names (e.g. {"build_augmentation": ...}), replaces those in the namespace
    RULES    {question: [(metric, "max" | "min", margin, threshold key), ...]}

and its fixtures provide ``local_outcomes(namespace, questions, seed)`` (train as the grader
does, in this process) and ``measure(question, outcomes) -> {metric: value}``.

For each rule the threshold is the panel's worst value over every model and seed, loosened by
the margin: ``worst * margin`` for an upper bound ("max"), ``worst - margin`` for a lower one
("min"). Every control must then break at least one rule, or calibration fails. The
thresholds, with every measurement behind them, are written to
``assignments/<name>/thresholds.toml``, which the fixtures read (and which ships with the
student's copy, so that grader.check applies the same thresholds): the one place measurements
are stored (what a run prints is for the reader, never read back). The file is merged: a run
replaces the sections of the questions it calibrated (``--question NAME``: that one) and keeps
the others' thresholds, margins and measurements. ``--from-thresholds FILE`` re-derives the
thresholds from the measurements a thresholds.toml records (the assignment's own, or an earlier
run's; no training); the thresholds then carry that file's own provenance (when, where and on
what data it was measured: each section's comment), never today's date and this machine.
"""

from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import math
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ..course.assignment import Assignment


class CalibrationError(RuntimeError):
    """The panel or the controls do not allow a fair threshold (the message says which)."""


@dataclass
class Rule:
    metric: str
    kind: str  # "max": the model's value must be <= threshold; "min": >= threshold
    margin: float
    key: str  # the name in thresholds.toml

    def threshold(self, worst: float) -> float:
        if self.kind == "max":
            return math.ceil(worst * self.margin * 100) / 100
        return math.floor((worst - self.margin) * 1000) / 1000

    def passes(self, value: float, threshold: float) -> bool:
        return value <= threshold if self.kind == "max" else value >= threshold


@dataclass
class Measured:
    label: str
    control: bool
    values: dict[int, dict[str, float] | None] = field(default_factory=dict)  # seed -> metrics


def load_panel(assignment: Assignment) -> ModuleType:
    # instructor/panel.py (never shipped: keras), else panel.py beside assignment.toml
    path = assignment.folder / "instructor" / "panel.py"
    path = path if path.is_file() else assignment.folder / "panel.py"
    if not path.is_file():
        raise CalibrationError(f"assignment {assignment.name!r} has no panel.py: nothing to calibrate")
    spec = importlib.util.spec_from_file_location(f"deepgrade_panel_{assignment.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure_panel(
    assignment: Assignment, question: str, seeds: list[int], panel: ModuleType | None = None, log=print
) -> list[Measured]:
    """Train every panel model and control of one question over the seeds; their metrics."""
    panel = panel or load_panel(assignment)
    fx = assignment.fixtures
    base = dict(vars(assignment.reference)) if assignment.reference is not None else {}
    rows = [(row, False) for row in panel.PANELS.get(question, [])]
    rows += [(row, True) for row in panel.CONTROLS.get(question, [])]
    found = []
    for (label, fn, *extra), control in rows:
        m = Measured(label, control)
        names = {**base, question: fn, **(extra[0] if extra else {})}
        for seed in seeds:
            m.values[seed] = fx.measure(question, fx.local_outcomes(names, [question], seed=seed))
            log(log_line(m, seed))
        found.append(m)
    return found


def log_line(m: Measured, seed: int) -> str:
    """One measurement as a run prints it (for the reader: thresholds.toml is what is stored)."""
    v = m.values[seed]
    shown = v and ", ".join(f"{k} {x:.4g}" for k, x in v.items())
    return f"  {'control' if m.control else 'panel':7s} {m.label} (seed {seed}): {shown or 'did not run'}"


def stamp(data: str | None) -> str:
    """Where and when measurements are taken now: the provenance written beside them."""
    return (
        f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}, {platform.node()}, "
        f"{os.cpu_count()} cores, data: {data or 'shipped'}"
    )


def recorded_stamps(thresholds_toml: Path) -> dict[str, str]:
    """{question: where and when its measurements were taken} from thresholds.toml's section
    comments (``# q: STAMP``, a re-derivation's note after ``; thresholds re-derived`` left out)."""
    if not thresholds_toml.is_file():
        return {}
    out = {}
    for line in thresholds_toml.read_text().splitlines():
        m = re.match(r"^# (\w+): (\d{4}-\d\d-\d\d .+)$", line)
        if m:
            out[m.group(1)] = m.group(2).split("; thresholds re-derived")[0]
    return out


def measured_from_record(record: dict) -> dict[str, list[Measured]]:
    """The measurements a thresholds.toml records ({question: [Measured]}, its ``[[q.measured]]``
    tables: label, control, seeds and one list per metric), so that thresholds can be re-derived
    (e.g. after changing a margin) without training again."""
    out: dict[str, list[Measured]] = {}
    for question, section in record.items():
        if not isinstance(section, dict):
            continue
        rows = out.setdefault(question, [])
        for table in section.get("measured", []):
            seeds = list(table.get("seeds", []))
            metrics = {k: v for k, v in table.items() if k not in ("label", "control", "seeds")}
            values = {
                int(seed): {k: float(v[i]) for k, v in metrics.items() if isinstance(v, list) and i < len(v)}
                for i, seed in enumerate(seeds)
            }
            rows.append(Measured(str(table.get("label", "")), bool(table.get("control", False)), values))
    return out


def thresholds_from(rules: list[Rule], measured: list[Measured]) -> dict[str, float]:
    """Each rule's threshold from the panel's worst value; the controls must break one rule."""
    panel = [m for m in measured if not m.control]
    out = {}
    for rule in rules:
        values = []
        for m in panel:
            for seed, v in m.values.items():
                if v is None:
                    raise CalibrationError(f"panel model {m.label!r} did not run with seed {seed}")
                values.append(v[rule.metric])
        if not values:
            raise CalibrationError(f"no panel model measured {rule.metric}")
        worst = max(values) if rule.kind == "max" else min(values)
        out[rule.key] = rule.threshold(worst)
    for m in measured:
        if not m.control:
            continue
        for seed, v in m.values.items():
            if v is not None and all(r.passes(v[r.metric], out[r.key]) for r in rules):
                raise CalibrationError(
                    f"control {m.label!r} passes every threshold with seed {seed} ({v}): "
                    "the panel is too weak or the controls too strong for a fair threshold"
                )
    return out


def _toml_value(v) -> str:
    return repr(round(float(v), 6))


_TOML_HEAD = re.compile(r"^\[\[?([A-Za-z0-9_]+)[\].]")
_FILE_HEAD = "# Written by `deepgrade calibrate` (run it again rather than editing by hand; --question Q replaces Q's section only)."


def _toml_sections(text: str) -> dict[str, list[str]]:
    """The file's sections by question, as written (a section's own comment lines included);
    a section without its own provenance comment gets the old file-wide one."""
    sections: dict[str, list[str]] = {}
    preamble: list[str] = []
    pending: list[str] = []  # comment lines since the last blank line: they head the next section
    current = None
    for line in text.splitlines():
        head = _TOML_HEAD.match(line)
        if head:
            q = head.group(1)
            if q != current:
                current = q
                sections.setdefault(q, []).extend(pending)
                pending = []
            sections[q].append(line)
        elif line.startswith("#"):
            pending.append(line)
        elif not line.strip():
            if current is None:
                preamble += pending
            else:
                sections[current] += pending
            pending = []
            if current is not None:
                sections[current].append("")
        elif current is not None:
            sections[current] += pending + [line]
            pending = []
    old_stamp = next((c for c in preamble if re.match(r"^# \d{4}-\d\d-\d\d ", c)), None)
    for q, lines in sections.items():
        while lines and not lines[-1].strip():
            lines.pop()
        if old_stamp and not (lines and lines[0].startswith("#")):
            lines.insert(0, f"# {q}:{old_stamp[1:]}")
    return sections


def write_thresholds(
    path: Path, results: dict, seeds: list[int], data: str | None, stamps: dict[str, str] | None = None
) -> None:
    """thresholds.toml: per question its thresholds, then every measurement behind them
    ([[question.measured]] tables: label, control, seeds, one list per metric). Merged: the
    questions in results replace their sections; the other questions' sections stay as written.
    stamps: {question: provenance} for measurements not taken now (--from-thresholds); else now, here."""
    sections = _toml_sections(path.read_text()) if path.is_file() else {}
    now = stamp(data)
    for question, (rules, thresholds, measured) in results.items():
        lines = [f"# {question}: {(stamps or {}).get(question, now)}", f"[{question}]"]
        for rule in rules:
            sign = "<=" if rule.kind == "max" else ">="
            lines.append(
                f"{rule.key} = {_toml_value(thresholds[rule.key])}  # {rule.metric} {sign} this; margin {rule.margin}"
            )
        for m in measured:
            lines.append("")
            lines.append(f"[[{question}.measured]]")
            lines.append(f"label = {json.dumps(m.label)}")  # a JSON string is a TOML basic string
            lines.append(f"control = {'true' if m.control else 'false'}")
            ran = [seed for seed, v in m.values.items() if v is not None]
            lines.append(f"seeds = {ran}")
            for rule in rules:
                vals = [round(float(m.values[seed][rule.metric]), 5) for seed in ran]
                lines.append(f"{rule.metric} = {vals}")
        sections[question] = lines
    out = [_FILE_HEAD, ""]
    for lines in sections.values():
        out += lines + [""]
    path.write_text("\n".join(out))


def calibrate(
    assignment: Assignment,
    seeds: list[int],
    questions: list[str] | None = None,
    data: str | None = None,
    write: bool = True,
    log=print,
    previous: dict[str, list[Measured]] | None = None,
    previous_provenance: dict[str, str] | None = None,
    previous_source: str = "an earlier run's thresholds.toml",
) -> dict[str, dict[str, float]]:
    """Measure the panels, set the thresholds, merge them with every measurement into
    thresholds.toml (only these questions' sections change); {question: {key: threshold}}.

    previous: measurements an earlier run recorded (measured_from_record): used instead of
    training for the questions they cover; previous_provenance (recorded_stamps) is where and
    when they were measured, kept in the file (previous_source names the file when it does not say)."""
    panel = load_panel(assignment)
    results = {}
    stamps: dict[str, str] = {}
    for question, raw in panel.RULES.items():
        if questions and question not in questions:
            continue
        rules = [Rule(*r) for r in raw]
        log(
            f"{question}: {len(panel.PANELS.get(question, []))} panel models, "
            f"{len(panel.CONTROLS.get(question, []))} controls, seeds {seeds}"
        )
        measured = previous[question] if previous and question in previous else None
        if measured is None:
            measured = measure_panel(assignment, question, seeds, panel, log)
        else:
            provenance = (previous_provenance or {}).get(question) or f"not recorded in {previous_source}"
            stamps[question] = (
                f"{provenance}; thresholds re-derived from those measurements "
                f"{_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d')} (--from-thresholds)"
            )
        thresholds = thresholds_from(rules, measured)
        log(f"{question}: " + ", ".join(f"{k} = {v}" for k, v in thresholds.items()))
        results[question] = (rules, thresholds, measured)
    if write and results:
        path = assignment.folder / "thresholds.toml"
        write_thresholds(path, results, seeds, data, stamps)
        log(f"wrote {path}")
    return {q: t for q, (_, t, _) in results.items()}
