"""A synthetic class for the similarity report (similarity.py): honest students whose code of
each function is written independently, and copiers who disguised what they copied.

Honest code comes from four sources, each written by a different hand for a different
purpose: the reference (solutions/<name>.py), the catalogue's wrong implementations
(solutions/<name>_mistakes.py), the independently written wrong implementations
(tests/support/wrong_implementations.py) and the correct variants below. Each implementation is
used by at most one honest student, so no two honest students share a source; a student
who leaves a function as the stub has no code for it (most students finish only part).

Copies are disguised the usual ways:
- "renamed": every local name and argument renamed, reformatted (ast.unparse);
- "reordered": all of the source's functions pasted in one cell at the end, in reverse
  order, with new comments and changed spacing (the stubs stay where they were);
- "comments": the same code with comments and blank lines added, spacing changed;
- "one of several": an honest student replaces one of their own functions by the source's
  (renamed), and keeps their others.

build_class(name, seed) -> (students, copied): students are (who, notebook) and copied the
set of frozenset({source, copier}) pairs. evaluate(report, copied) gives the numbers the
benchmark prints and the test asserts.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import nbformat
import numpy as np

from deepgrade.course import assignment as asg
from deepgrade.grading import notebook

ROOT = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------- correct variants
# Written from the docstrings, in styles the reference does not use (vectorised, einsum,
# stride tricks, explicit loops over channels).


def conv2d_single_windows(image, kernel):
    from numpy.lib.stride_tricks import sliding_window_view

    patches = sliding_window_view(image, kernel.shape)
    return np.einsum("ijkl,kl->ij", patches, kernel)


def conv2d_single_shifted(image, kernel):
    rows = image.shape[0] - kernel.shape[0] + 1
    cols = image.shape[1] - kernel.shape[1] + 1
    acc = np.zeros((rows, cols))
    for a in range(kernel.shape[0]):
        for b in range(kernel.shape[1]):
            acc += kernel[a, b] * image[a : a + rows, b : b + cols]
    return acc


def conv2d_loops(x, kernels, bias, stride=1, padding=0):
    if padding > 0:
        x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    size_h, size_w, depth, filters = kernels.shape
    n_rows = 1 + (x.shape[0] - size_h) // stride
    n_cols = 1 + (x.shape[1] - size_w) // stride
    result = np.empty((n_rows, n_cols, filters))
    for f in range(filters):
        for r in range(n_rows):
            for c in range(n_cols):
                top, left = r * stride, c * stride
                total = bias[f]
                for d in range(depth):
                    total += np.sum(x[top : top + size_h, left : left + size_w, d] * kernels[:, :, d, f])
                result[r, c, f] = total
    return result


def conv2d_im2col(x, kernels, bias, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.pad(x, [(padding, padding), (padding, padding), (0, 0)])
    kh, kw = kernels.shape[:2]
    win = sliding_window_view(padded, (kh, kw), axis=(0, 1))[::stride, ::stride]
    return np.einsum("hwcij,ijcf->hwf", win, kernels) + bias


def max_pool2d_reshape(x, pool_size=2, stride=2, padding="same"):
    flat = x.ndim == 2
    arr = x[..., np.newaxis] if flat else x
    if padding == "valid":
        oh = (arr.shape[0] - pool_size) // stride + 1
        ow = (arr.shape[1] - pool_size) // stride + 1
        src = arr
    else:
        oh, ow = int(np.ceil(arr.shape[0] / stride)), int(np.ceil(arr.shape[1] / stride))
        extra_h = max(0, (oh - 1) * stride + pool_size - arr.shape[0])
        extra_w = max(0, (ow - 1) * stride + pool_size - arr.shape[1])
        src = np.pad(
            arr,
            ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2), (0, 0)),
            constant_values=-np.inf,
        )
    res = np.stack(
        [
            np.stack(
                [
                    src[r * stride : r * stride + pool_size, c * stride : c * stride + pool_size].max(axis=(0, 1))
                    for c in range(ow)
                ]
            )
            for r in range(oh)
        ]
    )
    return res[..., 0] if flat else res


def softmax_logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    lse = m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))
    return np.exp(z - lse)


def softmax_rows(z):
    z = np.atleast_2d(z)
    probs = np.empty_like(z, dtype=float)
    for row in range(z.shape[0]):
        shifted = z[row] - z[row].max()
        ex = np.exp(shifted)
        probs[row] = ex / ex.sum()
    return probs


def zero_pad_manual(x, pad):
    shape = (x.shape[0] + 2 * pad, x.shape[1] + 2 * pad) + x.shape[2:]
    out = np.zeros(shape, dtype=x.dtype)
    out[pad : pad + x.shape[0], pad : pad + x.shape[1], ...] = x
    return out


def dense_loops(x, W, b):
    out = np.array(b, dtype=float)
    for i in range(W.shape[0]):
        out = out + x[i] * W[i]
    return out


def cnn_forward_steps(image, params):
    conv = conv2d(image, params["kernels"], params["conv_bias"], stride=1, padding=0)  # noqa: F821
    activated = np.where(conv > 0, conv, 0.0)
    pooled = max_pool2d(activated, 2, 2, "same")  # noqa: F821
    logits = pooled.ravel() @ params["W"] + params["b"]
    return softmax(logits)  # noqa: F821


VARIANTS = {
    "cnn": {
        "conv2d_single": [conv2d_single_windows, conv2d_single_shifted],
        "conv2d": [conv2d_loops, conv2d_im2col],
        "max_pool2d": [max_pool2d_reshape],
        "softmax": [softmax_logsumexp, softmax_rows],
        "zero_pad": [zero_pad_manual],
        "dense": [dense_loops],
        "cnn_forward": [cnn_forward_steps],
    }
}

# --------------------------------------------------------------------------- disguises

WORDS = "alpha beta gamma delta tmp val res acc buf cur nxt grid mat vec pos idx cnt total arr data".split()


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node


def rename_variables(source: str, rng: random.Random, keep_args: bool = False) -> str:
    """Every local name (and argument, unless keep_args: callers may pass them by keyword)
    renamed; reformatted by ast.unparse (comments gone)."""
    tree = ast.parse(source)
    fn = tree.body[0]
    local = set() if keep_args else {a.arg for a in ast.walk(fn) if isinstance(a, ast.arg)}
    local |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    words = rng.sample(WORDS, len(WORDS))
    mapping = {old: f"{words[i % len(words)]}_{i}" for i, old in enumerate(sorted(local))}
    return ast.unparse(_Rename(mapping).visit(tree))


COMMENTS = ["# loop over the output", "# compute the result", "# TODO check shapes", "# as in the lecture"]


def restyle(source: str, rng: random.Random) -> str:
    """Comments and blank lines added, spacing around commas and '=' changed."""
    out = []
    for line in source.splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip() and not line.lstrip().startswith(("def ", "@")) and rng.random() < 0.35:
            out.append(indent + rng.choice(COMMENTS))
        spaced = line.replace(", ", " , ") if rng.random() < 0.5 else line.replace(", ", ",")
        out.append(spaced)
        if rng.random() < 0.2:
            out.append("")
    text = "\n".join(out)
    try:
        ast.parse(text)
    except SyntaxError:  # a comma inside a string or a continuation: keep the layout
        return source
    return text


# --------------------------------------------------------------------------- the class


def pool(name: str) -> dict[str, list[str]]:
    """function -> independent implementations' sources, each renamed to the function."""
    import wrong_implementations

    a = asg.load(name, ROOT)
    out: dict[str, list[str]] = {q.name: [] for q in a.questions}
    for q in a.questions:
        out[q.name].append(notebook.function_source(getattr(a.reference, q.name)))
    for mid, m in a.mistakes.items():
        if mid in a.mutants:
            out[m.function].append(notebook.function_source(a.mutants[mid], rename=m.function))
    for assignment, function, _, fn in wrong_implementations.CORPUS:
        if assignment == name:
            out[function].append(notebook.function_source(fn, rename=function))
    for function, fns in VARIANTS.get(name, {}).items():
        out[function] += [notebook.function_source(fn, rename=function) for fn in fns]
    return out


def _substantial(source: str) -> bool:
    return len(ast.unparse(ast.parse(source)).splitlines()) >= 5


def build_class(name: str, seed: int = 0, honest: int = 36) -> tuple[list[tuple[str, object]], set[frozenset]]:
    rng = random.Random(seed)
    a = asg.load(name, ROOT)
    stub = nbformat.read(a.notebook, as_version=4)
    code: dict[str, dict[str, str]] = {f"s{i:02d}": {} for i in range(honest)}
    for function, sources in pool(name).items():
        sources = sources[:honest]
        for who, src in zip(rng.sample(sorted(code), len(sources)), sources):
            code[who][function] = src
    copied: set[frozenset] = set()
    reordered: dict[str, dict[str, str]] = {}
    rich = [w for w in sorted(code) if any(_substantial(s) for s in code[w].values())]
    sources = rng.sample(rich, 8)
    for k, src_who in enumerate(sources[:6]):  # whole copies, new students
        who = f"c{k:02d}"
        kind = ("renamed", "reordered", "comments")[k % 3]
        if kind == "renamed":
            code[who] = {f: rename_variables(s, rng) for f, s in code[src_who].items()}
        elif kind == "comments":
            code[who] = {f: restyle(s, rng) for f, s in code[src_who].items()}
        else:
            reordered[who] = {f: restyle(rename_variables(s, rng), rng) for f, s in code[src_who].items()}
        copied.add(frozenset((src_who, who)))
    takers = [w for w in sorted(code) if w.startswith("s") and w not in sources and len(code[w]) >= 2]
    for src_who, taker in zip(sources[6:], rng.sample(takers, 2)):  # one function copied out of several
        function = rng.choice([f for f, s in code[src_who].items() if _substantial(s)])
        code[taker][function] = rename_variables(code[src_who][function], rng)
        copied.add(frozenset((src_who, taker)))
    students = []
    for who in sorted(code) + sorted(reordered):
        nb = notebook.fill(stub, code.get(who, {}))
        if who in reordered:
            cell = "\n\n\n".join(reversed(list(reordered[who].values())))
            nb.cells.append(nbformat.v4.new_markdown_cell("## my solutions"))
            nb.cells.append(nbformat.v4.new_code_cell(cell))
        students.append((who, nb))
    return students, copied


def evaluate(report, copied: set[frozenset]) -> dict:
    """Ranks of the copied pairs among all pairs of students (each pair at its most alike
    function): recall in the top C and 2C (C copied pairs), honest pairs above each."""
    ranking = [frozenset((a, b)) for a, b, _, _ in report.student_pairs()]
    ranks = sorted(ranking.index(p) + 1 if p in ranking else 10**9 for p in copied)
    c = len(copied)
    return {
        "copied_pairs": c,
        "student_pairs_ranked": len(ranking),
        "recall_top_c": sum(r <= c for r in ranks) / c,
        "recall_top_2c": sum(r <= 2 * c for r in ranks) / c,
        "ranks": ranks,
        "honest_above_lowest_copy": (max(ranks) - c) if max(ranks) < 10**9 else None,
    }
