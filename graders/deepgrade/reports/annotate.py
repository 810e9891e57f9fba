"""Feedback inside the student's own notebook: feedback/<stem>.ipynb and its HTML rendering.

The notebook is the file as submitted (read with notebook.read, never executed), with

- a summary cell at the top: points per question, the total, what to fix first;
- after the cell that defines each graded function (the last definition, as running the
  notebook leaves it; functions.py), a markdown cell with that question's points, its
  failing checks in the flat report's words (compare.format_question, so hidden checks say
  only what the grade policy shows), the passed checks as one line, the named mistakes with
  their explanation, and the checks' pictures (cell attachments); a question whose function
  no cell defines is annotated at the end.

Student text is hostile. Outputs, execution counts, attachments and metadata of the
student's cells are dropped (the grader ran the code itself; an output could carry
scripts). In the HTML, a markdown or raw cell that is not the assignment's own prose is
shown as escaped text, code is escaped by the highlighter, every text of ours that came from
a submission (check details quote exceptions and code lines) is escaped, and the page
carries a Content-Security-Policy that allows no script at all.
"""

from __future__ import annotations

import base64
import functools
import html
import json
from pathlib import Path

import nbformat

from ..grading import notebook as nbio
from ..grading.results import QuestionResult, SubmissionResult, attachment_bytes
from ..portable.feedback import fmt_points, format_question
from ..portable.status import RowStatus
from . import functions

MARK = "deepgrade"  # cell.metadata[MARK] = {"annotation": "summary" | question name}
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
WIDTH = 78
MAX_SHOWN = 100_000  # a student's cell longer than this is shown cut, as text
SHOWN_HEAD = 20_000
TEMPLATES = Path(__file__).parent / "nbtemplates"  # <root>/nbconvert/templates/deepgrade_annotated


def _pre(lines: list[str], cls: str) -> str:
    """Verbatim, escaped text inside a markdown cell (markdown does not parse inside <pre>)."""
    return f"<pre class='{cls}'>" + html.escape("\n".join(lines)) + "</pre>"


def _cell(kind: str, source: str, metadata: dict | None = None, cell_id: str = "dg") -> nbformat.NotebookNode:
    """A version 4.5 cell (built directly: nbformat's new_*_cell validate each cell, which
    costs more than rendering it)."""
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return nbformat.from_dict(cell)


def _annotation_cell(source: str, key: str, attachments: dict | None = None) -> nbformat.NotebookNode:
    # ids of ours, the same on every run (ids allow [A-Za-z0-9_-], at most 64)
    cell = _cell("markdown", source, {MARK: {"annotation": key}, "editable": False}, f"dg-note-{key}"[:64])
    if attachments:
        cell.attachments = attachments
    return cell


def question_cell(q: QuestionResult, explain: dict[str, tuple[str, str]]) -> nbformat.NotebookNode:
    """One question's annotation.

    explain: mistake id -> (title, explanation) from the assignment's catalogue."""
    failing = [c for c in q.checks if not c.passed]
    passed = len(q.checks) - len(failing)
    lines = format_question(q.name, q.points, q.max_points, failing, WIDTH)[1:] if failing else []
    if passed:
        lines.append(f"  ok    {passed} of {len(q.checks)} checks passed")
    verdict = "full marks" if q.points >= q.max_points - 1e-9 else f"{len(failing)} check(s) failed"
    parts = [
        f"### deepgrade: `{q.name}` &mdash; {fmt_points(q.points)} / {fmt_points(q.max_points)} points ({verdict})",
        "",
        _pre(lines, "dg-checks"),
    ]
    seen = []
    for c in failing:
        seen += [mid for mid in c.diagnosis if mid not in seen]
    for mid in seen:
        title, text = explain.get(mid, (mid, ""))
        parts += ["", f"<p class='dg-mistake'><b>Likely mistake: {html.escape(title)}</b> ({html.escape(mid)})"]
        parts[-1] += (f"<br>{html.escape(text)}" if text else "") + "</p>"
    attachments = {}
    for c in q.checks:
        for item in c.attachments:
            parsed = attachment_bytes(item)
            if parsed is None:
                continue
            title, media_type, raw = parsed
            name = f"{q.name}-{len(attachments) + 1}.png"
            attachments[name] = {media_type: base64.b64encode(raw).decode("ascii")}
            alt = "".join(ch for ch in title if ch.isalnum() or ch in " .,:;()-_%")[:120]
            parts += ["", f"![{alt}](attachment:{name})", "", f"*{html.escape(title)}*"]
    return _annotation_cell("\n".join(parts), q.name, attachments)


def fix_first(result: SubmissionResult, defined: set[str]) -> str:
    """The earliest question that lost points: later functions build on earlier ones
    (rnn_backward reads rnn_forward's cache), so fixing in notebook order helps most."""
    for q in result.questions:
        if q.points < q.max_points - 1e-9:
            if q.name not in defined:
                return f"`{q.name}`: no cell defines it (its annotation is at the end)."
            return f"`{q.name}` ({fmt_points(q.points)} / {fmt_points(q.max_points)} points): see the note under it."
    return "nothing: every question has full marks."


def summary_cell(result: SubmissionResult, defined: set[str], flat_report: str) -> nbformat.NotebookNode:
    rows = "".join(
        f"<tr><td><code>{html.escape(q.name)}</code></td><td>{fmt_points(q.points)}</td>"
        f"<td>{fmt_points(q.max_points)}</td></tr>"
        for q in result.questions
    )
    parts = [
        f"## deepgrade feedback: {fmt_points(result.points)} / {fmt_points(result.max_points)} points",
        "",
        "<table class='dg-summary'><tr><th>question</th><th>points</th><th>of</th></tr>"
        f"{rows}<tr><th>total</th><th>{fmt_points(result.points)}</th><th>{fmt_points(result.max_points)}</th>"
        "</tr></table>",
        "",
        f"**Fix first:** {fix_first(result, defined)}",
    ]
    for note in result.notes:
        parts += ["", _pre([f"note: {note}"], "dg-note")]
    parts += [
        "",
        "This is your notebook as submitted, with a note from the grader after each graded function. "
        "Outputs are not shown: the grader ran your code itself. "
        f"The same feedback as one list: [{html.escape(flat_report)}]({html.escape(flat_report)}).",
    ]
    return _annotation_cell("\n".join(parts), "summary")


def defining_cells(nb: nbformat.NotebookNode) -> dict[str, int]:
    """function name -> index of the cell whose definition counts (functions.definitions)."""
    return {name: d.cell for name, d in functions.definitions(nbio.code_cells(nb)).items()}


def annotated_notebook(
    result: SubmissionResult,
    nb: nbformat.NotebookNode,
    explain: dict[str, tuple[str, str]],
    flat_report: str,
    cells: dict[str, int] | None = None,
) -> nbformat.NotebookNode:
    """The submitted notebook (sources only) with the summary and one note per question.

    cells: defining_cells(nb), when it was found already."""
    by_function = defining_cells(nb) if cells is None else cells
    defined = set(by_function)
    after: dict[int, list[nbformat.NotebookNode]] = {}
    at_end = []
    for q in result.questions:
        cell = question_cell(q, explain)
        index = by_function.get(q.name)
        (after.setdefault(index, []) if index is not None else at_end).append(cell)
    out = nbformat.from_dict({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    out.cells.append(summary_cell(result, defined, flat_report))
    for i, cell in enumerate(nb.cells):
        kind = cell.get("cell_type")
        source = cell.get("source", "")
        source = source if isinstance(source, str) else "".join(source)
        out.cells.append(_cell(kind if kind in ("code", "markdown") else "raw", source, cell_id=f"cell-{i}"))
        out.cells += after.get(i, [])
    if at_end:
        out.cells.append(_cell("markdown", "## Functions no cell defines", cell_id="dg-undefined"))
        out.cells += at_end
    return out


# --------------------------------------------------------------------------- HTML


def _rendering_copy(annotated: nbformat.NotebookNode, prose: frozenset[str] | set[str]) -> nbformat.NotebookNode:
    """What nbconvert renders: our annotation cells and the assignment's own prose as
    markdown; every other markdown or raw cell as escaped text; code as code (escaped by
    the highlighter); no outputs, no metadata of the student's, ids of ours."""
    out = nbformat.from_dict({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    for i, cell in enumerate(annotated.cells):
        mark = cell.get("metadata", {}).get(MARK)
        if not mark and len(cell.source) > MAX_SHOWN:  # highlighting megabytes would take minutes
            head = cell.source[:SHOWN_HEAD].splitlines()
            note = f"[deepgrade: a cell of {len(cell.source):,} characters; the first {SHOWN_HEAD:,} are shown]"
            out.cells.append(_cell("markdown", _pre([note, *head], "dg-student-text"), cell_id=f"cell-{i}"))
            continue
        if cell.cell_type == "code":
            new = _cell("code", cell.source, cell_id=f"cell-{i}")
        elif mark or (cell.cell_type == "markdown" and cell.source in prose):
            new = _cell("markdown", cell.source, {"dg_note": True} if mark else {}, f"cell-{i}")
            if mark and cell.get("attachments"):
                new.attachments = cell.attachments
        else:
            new = _cell("markdown", _pre(cell.source.splitlines(), "dg-student-text"), cell_id=f"cell-{i}")
        out.cells.append(new)
    return out


@functools.cache
def _css() -> str:
    from pygments.formatters import HtmlFormatter

    return (
        "body{font-family:system-ui,sans-serif;max-width:62rem;margin:1.5rem auto;padding:0 1rem;color:#222}"
        ".cell{margin:.6rem 0}.code_cell .highlight{background:#f6f8fa;border-radius:4px}"
        "pre{margin:0;padding:.5rem .7rem;white-space:pre-wrap;overflow-wrap:anywhere}"
        ".dg-annotation{border-left:5px solid #3b6ea8;background:#eef4fb;padding:.3rem .9rem}"
        ".dg-checks,.dg-note{background:#fff;font-size:.88rem}.dg-mistake{background:#fff4d6;padding:.4rem .6rem}"
        ".dg-student-text{background:#fafafa;border:1px dashed #ccc}img{max-width:100%}"
        "table.dg-summary{border-collapse:collapse}table.dg-summary td,table.dg-summary th"
        "{border-bottom:1px solid #ccc;padding:.2rem .8rem;text-align:left}"
    ) + HtmlFormatter().get_style_defs(".highlight")


@functools.cache
def _exporter():
    """nbconvert's HTML exporter with deepgrade's own template (nbtemplates/: the cells only,
    no script, no output, no external asset), found in the package whatever jupyter's paths.

    Speed (a class's reports are written one after another): a code cell's highlighting and a
    markdown cell without attachments are rendered once per distinct source (the starter's
    cells repeat in every notebook), and the HTML exporter's BeautifulSoup pass (alt text and
    tab stops for JupyterLab's classes, which this template does not use) is skipped."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML

    class _Exporter(HTMLExporter):
        def get_prefix_root_dirs(self):
            return [str(TEMPLATES)]

        @functools.cached_property
        def _highlight(self):
            return Highlight2HTML(pygments_lexer="ipython3", parent=self)

        def from_notebook_node(self, nb, resources=None, **kw):
            self.register_filter("highlight_code", self._highlight)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

        def _preprocess(self, nb, resources):
            # no preprocessor runs (default_preprocessors=[]); the notebook is a copy made for
            # this page (_rendering_copy), so the exporter's two deep copies and normalisation
            # of it would only cost time
            return nb, resources

        def default_filters(self):
            yield from super().default_filters()
            yield ("dg_code", _cached(lambda src: self._highlight(src, metadata={})))
            yield ("dg_markdown", self.dg_markdown)

        @property
        def dg_markdown(self):
            from jinja2 import pass_context

            plain = _cached(lambda src: self.markdown2html({"cell": {}}, src))

            @pass_context
            def render(context, source):
                if context.get("cell", {}).get("attachments"):
                    return self.markdown2html(context, source)
                return plain(source)

            return render

    # no preprocessor: no outputs, no tags, ids of ours (and the exporter validates the whole
    # notebook after each one, even a disabled one: most of the time of a page)
    return _Exporter(template_name="deepgrade_annotated", default_preprocessors=[])


def _cached(fn):
    return functools.lru_cache(maxsize=4096)(fn)


def render_html(annotated: nbformat.NotebookNode, prose: frozenset[str] | set[str], title: str) -> str:
    """The annotated notebook as one self-contained page (nbconvert's HTML exporter)."""
    body, _ = _exporter().from_notebook_node(_rendering_copy(annotated, prose))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
        f"<title>{html.escape(title)}</title><style>{_css()}</style></head><body>\n{body}\n</body></html>"
    )


def starter_prose(assignment) -> frozenset[str]:
    """The assignment's own markdown cells (trusted text, rendered as markdown)."""
    path = Path(assignment.notebook)
    try:
        return _prose(str(path), path.stat().st_mtime_ns)
    except OSError:
        return frozenset()


@functools.lru_cache(maxsize=8)
def _prose(path: str, mtime_ns: int) -> frozenset[str]:
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return frozenset()
    return frozenset(c.source for c in nb.cells if c.cell_type == "markdown")


def build(assignment, result: SubmissionResult, submitted: Path, stem: str, read=None) -> tuple[bytes, bytes] | str:
    """(stem.ipynb, stem.html) as bytes, from the notebook file as submitted; else why not
    (the flat report is then the HTML feedback).

    read: (notebook, defining_cells) of that file, when it was read already (prebuild.py)."""
    if result.status != RowStatus.GRADED:
        return f"not graded: {result.reason}"
    if read is None:
        try:
            nb = nbio.read(submitted)
        except nbio.NotebookError as exc:
            return str(exc)
        read = (nb, None)
    nb, cells = read
    explain = {mid: (m.title, m.explanation) for mid, m in getattr(assignment, "mistakes", {}).items()}
    annotated = annotated_notebook(result, nb, explain, f"{stem}.report.html", cells)
    annotated.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        MARK: {"assignment": assignment.name},
    }
    ipynb = json.dumps(annotated, indent=1, ensure_ascii=False).encode("utf-8", errors="backslashreplace")
    page = render_html(annotated, starter_prose(assignment), f"{assignment.name}: {Path(result.file).name}")
    return ipynb, page.encode("utf-8", errors="backslashreplace")


def write_annotated(
    assignment, result: SubmissionResult, submitted: Path, folder: Path, stem: str, write, built=None
) -> str | None:
    """stem.ipynb and stem.html in folder (``built``: what build returned, made earlier);
    None when done, else why not.

    write(path, bytes): the reports' writer (replaces, never follows, what is there)."""
    made = build(assignment, result, submitted, stem) if built is None else built
    if isinstance(made, str):
        return made
    write(folder / f"{stem}.ipynb", made[0])
    write(folder / f"{stem}.html", made[1])
    return None


def prewarm() -> None:
    """Import nbconvert and make the exporter (about a second), e.g. while grading runs."""
    _exporter()
