"""The grader's own memory and time per submission are bounded.

A notebook whose every function returns the largest array the grader accepts (float64,
``channel.MAX_RESULT_BYTES``), or a bool array of as many bytes (8 times that as float64, which
the comparison would make of it), or whose cells write the costliest lines the decoder
takes (escapes, a string of 4-byte characters, the most values allowed), or whose code is
as much as the grader parses with ast plus a cell of 11 MB, is graded in a
child process; its peak RSS over what it held before grading must stay under
``sandbox.GRADER_MEMORY_BYTES``. One such notebook drove the grader past 10 GB (measured
before the bound). The time bound is generous: it catches a decoder that is not linear,
not a slow machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepgrade import sandbox

HERE = Path(__file__).resolve().parents[1] / "support"  # helpers.py, for the child process

GRADE = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
import helpers, nbformat
from deepgrade.course import assignment as asg
from deepgrade.sandbox.channel import MAX_LINE_BYTES, MAX_RESULT_BYTES, MAX_VALUES

kind = sys.argv[1]
a = asg.load("cnn", helpers.ROOT)
n = MAX_RESULT_BYTES
if kind == "lines":
    nb = helpers.filled_notebook("cnn")
    writes = [
        "b'{\"ev\": \"start\", \"step\": \"' + b'\\\\\\\\\\\\\"[' * (MAX_LINE_BYTES // 6 - 16) + b'\"}'",
        "b'[\"' + '\\U0001F600'.encode() * (MAX_LINE_BYTES // 4 - 16) + b'\"]'",
        "b'[' + b'1000,' * (MAX_VALUES - 16) + b'0]'",
        "b'[' + b'[],' * (MAX_VALUES // 3 - 16) + b'0]'",
    ]
    for w in writes:
        src = f"import os\nMAX_LINE_BYTES, MAX_VALUES = {MAX_LINE_BYTES}, {MAX_VALUES}\n"
        src += f"os.write(int(os.environ['DEEPGRADE_FD']), {w} + b'\\n')"
        nb.cells.append(nbformat.v4.new_code_cell(src))
elif kind == "code":  # Python's parser holds ~600 bytes per character: the grader parses only so much
    from deepgrade.grading.notebook import AST_BUDGET
    nb = helpers.filled_notebook("cnn")
    nb.cells.append(nbformat.v4.new_code_cell("x = 1\n" * (AST_BUDGET // 6 - 4000)))
    nb.cells.append(nbformat.v4.new_code_cell("x = 1; " * 1_600_000))  # one line: a file of 20 MB holds it
else:
    value = f"np.zeros({n // 8})" if kind == "float" else f"np.ones({n}, bool)"
    over = {q.name: f"def {q.name}(*args, **kwargs):\n    import numpy as np\n    return {value}" for q in a.questions}
    nb = helpers.filled_notebook("cnn", over)
path = Path(sys.argv[3])
if sys.argv[4] == "build":
    nbformat.write(nb, path)
    sys.exit(0)
from deepgrade.grading import pipeline
# ru_maxrss is a high-water mark: the notebook was built by another process, so this one's
# mark before grading is what loading the engine and the assignment took
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.monotonic()
result = pipeline.grade_file(a, path)
seconds = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
too_large = json.dumps(result.to_dict(), default=str).count("the value returned is too large")
print(json.dumps({"before": before, "peak": peak, "seconds": seconds, "status": result.status, "notes": result.notes,
                  "too_large": too_large}))
"""


@pytest.mark.parametrize("kind", ["float", "bool", "lines", "code"])
def test_largest_values_stay_within_the_grader_memory_bound(kind, tmp_path):
    path = tmp_path / "big.ipynb"
    for phase in ("build", "grade"):
        proc = subprocess.run(
            [sys.executable, "-c", GRADE, kind, str(HERE), str(path), phase],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    grew = out["peak"] - out["before"]
    print(
        f"{kind}: the grader grew by {grew / 2**20:.0f} MiB in {out['seconds']:.1f} s", out["notes"][:4]
    )  # shown, not timed
    assert out["status"] == "graded"
    assert grew < sandbox.GRADER_MEMORY_BYTES, f"{grew / 2**20:.0f} MiB"
    assert out["seconds"] < 300
    if kind in ("float", "bool"):  # more than the channel's budget was sent: said once
        assert any("more data than allowed" in n for n in out["notes"]), out["notes"]
    if kind == "bool":  # 128 MiB as float64: refused, saying why
        assert out["too_large"] > 0


def test_decoding_a_line_costs_a_small_multiple_of_its_length():
    """channel.decode_message holds at most ~5 bytes per byte of the line (a string of 4-byte
    characters) plus ~200 bytes per JSON value (at most channel.MAX_VALUES); the regular
    expression it replaced held ~120 bytes per byte of an escape-heavy line."""
    import tracemalloc

    from deepgrade.sandbox.channel import MAX_LINE_BYTES, MAX_VALUES, ChannelError, decode_message

    n = MAX_LINE_BYTES // 8
    lines = {
        "escapes": b'{"ev": "start", "step": "' + b'\\\\\\"[a' * n + b'"}',
        "base64": b'{"ev": "call", "id": "a", "ok": true, "value": {"a": "' + b"QUFB" * n + b'"}}',
        "4-byte characters": ('["' + "\U0001f600" * n + '"]').encode(),
        "empty strings": b"[" + b'"",' * (MAX_VALUES - 10) + b"0]",
        "nesting": b"[" * (MAX_LINE_BYTES - 10),
    }
    for name, line in lines.items():
        assert len(line) <= MAX_LINE_BYTES, name
        tracemalloc.start()
        try:
            decode_message(line)
        except ChannelError:
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak <= 6 * len(line) + 200 * MAX_VALUES, f"{name}: {peak / len(line):.1f} bytes per byte"
