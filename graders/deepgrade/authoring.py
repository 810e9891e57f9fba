"""Helpers for writing assignment notebooks from the reference: stubs keep its signature
and docstring (one source of truth), never its body."""

from __future__ import annotations

import ast
import inspect
import textwrap

import nbformat


def stub(fn) -> str:
    """`def name(args):` + the reference's docstring + `raise NotImplementedError`."""
    src = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(src).body[0]
    header = src.splitlines()[node.lineno - 1 : node.body[0].lineno - 1]
    doc = ast.get_docstring(node)
    body = []
    if doc:
        body.append('    """' + doc.replace("\n", "\n    ") + '\n    """')
    body.append("    # YOUR CODE HERE")
    body.append("    raise NotImplementedError")
    return "\n".join(header + body)


def markdown(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip())


def check_cell(name: str) -> nbformat.NotebookNode:
    return code(f'grader.check("{name}")')


def new_notebook(cells: list, name: str) -> nbformat.NotebookNode:
    """The notebook of assignment ``name``; cell ids ``<name>-00``, ``<name>-01``, ... (not
    nbformat's random ones), so that rebuilding it gives the committed file byte for byte."""
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb
