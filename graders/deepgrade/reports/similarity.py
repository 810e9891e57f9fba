"""Which submissions' code is most alike, per graded function: for a human to look at.

It flags; it never changes a grade. For each graded function, every submission's last
definition of it (functions.py; hostile cells skipped) is normalised and fingerprinted:

1. ``normalise``: the docstring dropped, every number made 0 and every string '' (literals),
   then ``ast.unparse`` (comments, blank lines, spacing, quoting and parentheses gone); for
   the fingerprint also every name made V, every function F, every class O (builtins
   kept) and the whitespace dropped: what copydetect's pygments filter does, done on the
   tree the grader already has (the pygments lexer cost 4 ms per function, most of the time);
2. copydetect's ``CodeFingerprint`` (winnowing of k-grams, Schleimer, Wilkerson and Aiken
   2003), with the assignment's own stub of that function (its starter code) as
   boilerplate: what every student was given is no evidence;
3. every pair sharing a fingerprint (found through an index, not by trying all pairs) is
   scored by the smaller of the two shares of each function's fingerprints found in the
   other (1.0: each function is wholly in the other; the winnowing papers' measure, and
   100x cheaper than copydetect.compare_files per pair). The pairs shown side by side are
   marked with copydetect's whole pipeline (pygments filter, compare_files) on the
   readable code.

A function with too little code left after the starter code (a one-line ``relu``) gives no
fingerprint and is not ranked: everyone writes ``np.maximum(0, x)`` alike. How well the
ranking finds copies among honest work is measured by ``benchmarks/similarity.py`` on a
synthetic class (``tests/support/similarity_class.py``).
"""

from __future__ import annotations

import ast
import builtins
import html
import io
import itertools
import json
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..grading import notebook as nbio
from ..portable.status import RowStatus
from . import functions

K = 25  # characters of copydetect's filtered code per k-gram (its default noise threshold)
WINDOW = 1  # winnowing window: every k-gram kept (functions are short)
MAX_SOURCE_CHARS = 50_000  # one function's source; longer ones are skipped
SHOWN_PER_FUNCTION = 10  # pairs listed per function in the report
SUMMARY_PAIRS = 10  # pairs of students the class summary lists (each shown in similarity.html too)


class Unavailable(Exception):
    """copydetect is not installed (the reports extra)."""


@dataclass
class Entry:
    """One submission's code of one function."""

    who: str  # how the instructor knows the student
    stem: str  # the submission's feedback stem (links)
    source: str  # as written
    tokens: str  # normalised, names V/F/O, no whitespace (fingerprinted)
    fingerprint: object = None


@dataclass
class Pair:
    function: str
    a: Entry
    b: Entry
    score: float  # min of the two shares, 0-1
    shares: tuple[float, float]  # each function's share of fingerprints found in the other
    overlap: int  # fingerprints in common

    def to_dict(self) -> dict:
        return {
            "function": self.function,
            "a": self.a.who,
            "b": self.b.who,
            "a_feedback": f"feedback/{self.a.stem}.html",
            "b_feedback": f"feedback/{self.b.stem}.html",
            "score": round(self.score, 3),
            "shares": [round(s, 3) for s in self.shares],
            "fingerprints_in_common": self.overlap,
        }


@dataclass
class Report:
    functions: dict[str, list[Pair]] = field(default_factory=dict)  # ranked, best first
    compared: dict[str, int] = field(default_factory=dict)  # function -> submissions with code
    skipped: list[str] = field(default_factory=list)  # why a submission or function was left out

    def ranked(self) -> list[Pair]:
        """Every function's pairs in one ranking (score, then tokens in common)."""
        return sorted((p for pairs in self.functions.values() for p in pairs), key=lambda p: (-p.score, -p.overlap))

    def best_pairs(self) -> list[Pair]:
        """Each pair of students at its most alike function, best first."""
        best: dict[tuple[str, str], Pair] = {}
        for p in self.ranked():
            best.setdefault(tuple(sorted((p.a.stem, p.b.stem))), p)
        return list(best.values())

    def student_pairs(self) -> list[tuple[str, str, float, str]]:
        """(a, b, best score, its function) per pair of students, best first."""
        return [(p.a.who, p.b.who, p.score, p.function) for p in self.best_pairs()]


# --------------------------------------------------------------------------- normalising


_BUILTINS = frozenset(dir(builtins))


def _drop_docstring(node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    node.decorator_list = []
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        if isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]


def _literals(n: ast.AST) -> None:
    """Every number 0, every string '' (f-strings too); True, False, None and ... kept."""
    if isinstance(n, ast.Constant):
        v = n.value
        if isinstance(v, (int, float, complex)) and not isinstance(v, bool):
            n.value = 0
        elif isinstance(v, (str, bytes)):
            n.value = ""
    elif isinstance(n, ast.JoinedStr):
        n.values = []


def _names(n: ast.AST) -> None:
    """What copydetect's pygments filter does to names, on the tree: every variable,
    argument, attribute and keyword V, every function F, every class O; builtins kept
    (``range``, ``len``: their choice is structure, not naming)."""
    if isinstance(n, ast.Name):
        if n.id not in _BUILTINS:
            n.id = "V"
    elif isinstance(n, ast.arg):
        n.arg = "V"
    elif isinstance(n, ast.Attribute):
        n.attr = "V"
    elif isinstance(n, ast.keyword):
        if n.arg is not None:
            n.arg = "V"
    elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
        n.name = "F"
    elif isinstance(n, ast.ClassDef):
        n.name = "O"


def normalise(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The function's tokens, what is fingerprinted: no docstring, comments or layout,
    every number 0 and string '', every name V/F/O (builtins kept), no whitespace. None
    when the tree is too deep to print (hostile code). The tree is changed in place."""
    try:
        _drop_docstring(node)
        for n in ast.walk(node):
            _literals(n)
            _names(n)
        return "".join(ast.unparse(node).split())
    except functions.PARSE_ERRORS:
        return None


def readable(source: str) -> str:
    """A function's code as people read it after normalising: names kept; docstring,
    comments, layout and literal values gone (only for the pairs shown)."""
    try:
        node = ast.parse(textwrap.dedent(source)).body[0]
        _drop_docstring(node)
        for n in ast.walk(node):
            _literals(n)
        return ast.unparse(node)
    except (*functions.PARSE_ERRORS, IndexError):
        return source


def function_code(nb, names: list[str], found=None) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """name -> (source as written, tokens: see normalise) for each of ``names`` the
    notebook defines; and why any was skipped.

    found: functions.definitions of the notebook, when they were found already (their
    trees are changed)."""
    found = functions.definitions(nbio.code_cells(nb)) if found is None else found
    out, skipped = {}, []
    for name in names:
        d = found.get(name)
        if d is None:
            continue
        if len(d.source) > MAX_SOURCE_CHARS:
            skipped.append(f"{name}: longer than {MAX_SOURCE_CHARS} characters")
            continue
        norm = normalise(d.node)
        if norm is None:
            skipped.append(f"{name}: too deeply nested to compare")
            continue
        out[name] = (d.source, norm)
    return out, skipped


# --------------------------------------------------------------------------- comparing


def _copydetect():
    try:
        import copydetect
    except ImportError:
        raise Unavailable("the similarity report needs copydetect: pip install 'deepgrade[reports]'") from None
    return copydetect


def _fingerprint(tokens: str, boilerplate):
    """copydetect's winnowed fingerprint of already-filtered code (normalise's tokens)."""
    cd = _copydetect()
    return cd.CodeFingerprint("code.py", K, WINDOW, boilerplate=boilerplate, filter=False, fp=io.StringIO(tokens))


def starter_code(assignment) -> dict[str, str]:
    """The assignment's stub of each graded function, as tokens (what every student got)."""
    try:
        nb = nbio.read(assignment.notebook)
    except nbio.NotebookError:
        return {}
    code, _ = function_code(nb, [q.name for q in assignment.questions])
    return {name: tokens for name, (_, tokens) in code.items()}


@dataclass
class Prepared:
    """Every submission's fingerprinted code per function, before pairing (prepare)."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)  # function -> code with fingerprints
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (stem, why)


class Fingerprinter:
    """prepare, one submission at a time (the batch adds each as its result arrives)."""

    def __init__(self, assignment) -> None:
        import numpy as np

        _copydetect()
        self.names = [q.name for q in assignment.questions]
        self.stubs = starter_code(assignment)
        self.prepared = Prepared(entries={name: [] for name in self.names})
        self.boilerplate = {
            name: np.array(sorted(_fingerprint(stub, None).hashes)) for name, stub in self.stubs.items()
        }
        self.prints: dict[tuple[str, str], object] = {}  # the same code (a common answer) fingerprinted once

    def add(self, who: str, stem: str, nb, found=None) -> None:
        code, skipped = function_code(nb, self.names, found)
        self.prepared.skipped += [(stem, f"{who}: {why}") for why in skipped]
        for name, (source, tokens) in code.items():
            if tokens == self.stubs.get(name):  # an untouched stub is nobody's code
                continue
            e = Entry(who, stem, source, tokens)
            if (name, tokens) not in self.prints:
                self.prints[name, tokens] = _fingerprint(tokens, self.boilerplate.get(name))
            e.fingerprint = self.prints[name, tokens]
            self.prepared.entries[name].append(e)


def prepare(assignment, submissions: list[tuple[str, str, object]]) -> Prepared:
    """Extract, normalise and fingerprint each submission's graded functions (the costly
    part, linear in the class: the batch does it as results arrive, prebuild.py).

    submissions: (who, stem, notebook) of each submission to compare, or (who, stem,
    notebook, functions.definitions of it); the notebooks as read by notebook.read (never
    executed)."""
    fp = Fingerprinter(assignment)
    for who, stem, nb, *found in submissions:
        fp.add(who, stem, nb, found[0] if found else None)
    return fp.prepared


def rank(prepared: Prepared, keep: set[str] | None = None) -> Report:
    """The ranked pairs per function, among the submissions whose stem is in ``keep`` (all
    when None)."""
    report = Report(skipped=[why for stem, why in prepared.skipped if keep is None or stem in keep])
    for name, all_entries in prepared.entries.items():
        entries = [e for e in all_entries if e.fingerprint.hashes and (keep is None or e.stem in keep)]
        report.compared[name] = len(entries)
        # only pairs sharing a fingerprint can score above 0: found through an index
        holders: dict[int, list[int]] = defaultdict(list)
        for i, e in enumerate(entries):
            for h in e.fingerprint.hashes:
                holders[h].append(i)
        candidates = {pair for ids in holders.values() for pair in itertools.combinations(ids, 2)}
        pairs = []
        for i, j in sorted(candidates):
            a, b = entries[i], entries[j]
            ha, hb = a.fingerprint.hashes, b.fingerprint.hashes
            common = len(ha & hb)
            shares = (common / len(ha), common / len(hb))
            pairs.append(Pair(name, a, b, min(shares), shares, common))
        pairs.sort(key=lambda p: (-p.score, -p.overlap, p.a.who, p.b.who))
        report.functions[name] = pairs
    return report


def compare(assignment, submissions: list[tuple[str, str, object]]) -> Report:
    """prepare, then rank: the ranked pairs per graded function."""
    return rank(prepare(assignment, submissions))


# --------------------------------------------------------------------------- the report


def _highlighted(p: Pair) -> tuple[str, str]:
    """Both functions' readable code, escaped, with what they share marked: copydetect's
    own pipeline (pygments tokenizer, winnowing, compare_files) on the readable code, whose
    slices point back into it. Only for the pairs shown."""
    from copydetect import compare_files
    from copydetect.utils import highlight_overlap

    cd = _copydetect()
    texts = [readable(e.source) for e in (p.a, p.b)]
    fa, fb = (cd.CodeFingerprint("a.py", K, WINDOW, fp=io.StringIO(t)) for t in texts)
    overlap, _, slices = compare_files(fa, fb)
    out = []
    for text, sl in zip(texts, slices):
        if overlap and len(sl) and sl.shape[1]:
            marked, _ = highlight_overlap(text, sl, "\x00", "\x01", escape_html=True)
            out.append(marked.replace("\x00", "<mark>").replace("\x01", "</mark>"))
        else:
            out.append(html.escape(text))
    return out[0], out[1]


def pair_html(p: Pair, anchor: str) -> str:
    esc = html.escape
    sides = []
    for e, code in zip((p.a, p.b), _highlighted(p)):
        sides.append(
            f"<div><h4><a href='feedback/{esc(e.stem, quote=True)}.html'>{esc(e.who)}</a></h4>"
            f"<pre>{code}</pre><details><summary>as written</summary><pre>{esc(e.source)}</pre></details></div>"
        )
    return (
        f"<details id='{esc(anchor, quote=True)}'><summary>{p.score:.2f} &mdash; {esc(p.a.who)} and {esc(p.b.who)} "
        f"({p.overlap} fingerprints in common)</summary><div class='sides'>{''.join(sides)}</div></details>"
    )


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:80rem;margin:2rem auto;padding:0 1rem;color:#222}"
    ".sides{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem}"
    "pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85rem}"
    "mark{background:#ffe08a}details{margin:.3rem 0}summary{cursor:pointer}"
    ".note{background:#fff4d6;padding:.4rem .6rem;border-radius:4px}"
)
NOTE = (
    "Pairs of submissions whose code of a function is most alike after removing the starter code and "
    "normalising names, literals, comments and layout (copydetect's winnowing). A high score is a reason "
    "for a person to look, not a finding: short or standard solutions look alike by themselves. "
    "Grades are never changed by this report."
)


def write(report: Report, out: Path, title: str) -> None:
    """similarity.html (side by side) and similarity.json in out."""
    esc = html.escape
    out.mkdir(parents=True, exist_ok=True)
    linked = {id(p) for p in report.best_pairs()[:SUMMARY_PAIRS]}  # the summary links to these
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}: similar code</title>",
        f"<style>{CSS}</style></head><body><h1>{esc(title)}: most alike code per function</h1>",
        f"<p class='note'>{NOTE}</p>",
    ]
    for name, pairs in report.functions.items():
        n = report.compared.get(name, 0)
        parts.append(f"<h2 id='fn-{esc(name, quote=True)}'>{esc(name)}</h2><p>{n} submission(s) with code to compare")
        parts.append(
            f"; the {min(len(pairs), SHOWN_PER_FUNCTION)} most alike pair(s) of {len(pairs)} sharing any:</p>"
            if pairs
            else ": no pair shares code beyond the starter code (or the function is too short to compare).</p>"
        )
        for k, p in enumerate(pairs):
            if k < SHOWN_PER_FUNCTION or id(p) in linked:
                parts.append(pair_html(p, f"{name}-{k + 1}"))
    if report.skipped:
        parts.append("<h2>Not compared</h2><ul>" + "".join(f"<li>{esc(s)}</li>" for s in report.skipped) + "</ul>")
    parts.append("</body></html>")
    (out / "similarity.html").write_text("\n".join(parts), encoding="utf-8", errors="backslashreplace")
    data = {
        "note": NOTE,
        "functions": {
            name: {
                "compared": report.compared.get(name, 0),
                "pairs": [p.to_dict() for p in pairs[: SHOWN_PER_FUNCTION * 5]],
            }
            for name, pairs in report.functions.items()
        },
        "skipped": report.skipped,
    }
    (out / "similarity.json").write_text(json.dumps(data, indent=1), encoding="utf-8", errors="backslashreplace")


# --------------------------------------------------------------------------- inputs


def is_grades_folder(path: Path) -> bool:
    """A folder `deepgrade grade` wrote (results/ and feedback/)."""
    return path.is_dir() and (path / "results").is_dir() and (path / "feedback").is_dir()


def from_grades(folder: Path) -> tuple[list[tuple[str, str, object]], list[str]]:
    """The graded submissions of a grades folder: each stored result's feedback/<stem>.ipynb
    (the notebook as submitted, annotated; the grader's notes are left out), and why any
    could not be read."""
    from .annotate import MARK

    subs, problems = [], []
    for path in sorted((folder / "results").glob("*.json")):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
            stem, status = str(payload["stem"]), payload["result"]["status"]
        except (OSError, ValueError, KeyError, TypeError):
            problems.append(f"{path.name}: not a stored result")
            continue
        if status != RowStatus.GRADED:
            continue
        if not stem or "/" in stem or stem.startswith("."):
            problems.append(f"{path.name}: not a stored result")
            continue
        try:
            nb = nbio.read(folder / "feedback" / f"{stem}.ipynb")
        except nbio.NotebookError as exc:
            problems.append(f"{stem}: feedback/{stem}.ipynb: {exc}")
            continue
        nb.cells = [c for c in nb.cells if MARK not in c.get("metadata", {})]
        name, student = str(payload.get("name") or stem), str(payload.get("student") or "")
        subs.append((f"{name} ({student})" if student and student != name else name, stem, nb))
    return subs, problems


def from_paths(assignment, paths: list[str], work: Path) -> tuple[list[tuple[str, str, object]], list[str]]:
    """Submissions named as for `deepgrade grade` (files, folders, LMS zips; intake.py's
    identity rules): the one notebook graded of each student."""
    from ..grading import intake

    subs, problems = [], []
    for sub in intake.expand(paths, work, notebook=assignment.notebook.name):
        if sub.status or sub.path is None:
            continue
        try:
            nb = nbio.read(sub.path)
        except nbio.NotebookError as exc:
            problems.append(f"{sub.name}: {exc}")
            continue
        subs.append((f"{sub.name} ({sub.student_id})" if sub.student_id else sub.name, sub.stem, nb))
    return subs, problems


def anchor(p: Pair, report: Report) -> str:
    """The pair's place in similarity.html."""
    return f"similarity.html#{p.function}-{report.functions[p.function].index(p) + 1}"
