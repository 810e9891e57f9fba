"""Nothing the student's process sends is quoted back by the grader.

A notebook whose functions receive the hidden cases' inputs and write them, as text, into
every field of forged messages on the grader's results channel (a step name, a call id,
an exception's type, message and frames, a returned object's type name, a string, the
indices of "changed" arguments), in a step and between steps. None of those numbers may
appear anywhere the student sees: the feedback text, HTML and JSON, and Gradescope's
results.json. The same text on a public case is the student's own and is shown (which
proves the search below finds the numbers when they are there).

Cell errors ("cell N of the notebook: Type: message", pipeline.grade_file) are not forged
here: a cell's recorded outcome is always from a child that had not yet been sent a hidden
input (the grader sends the hidden calls only once every cell has reported, and a cell run
again after a restart keeps its first outcome, sandbox._State.record), and under
bubblewrap each child starts from empty tmpfs with no network, so nothing a hidden call
saw can reach a cell. The fallback has the network (documented): there a hidden call could
send its inputs anywhere, notes or not.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import helpers
from deepgrade.course import assignment as asg
from deepgrade.publish import gradescope
from deepgrade.reports import report
from deepgrade.sandbox.channel import KINDS, ChannelError, decode_message

A = asg.load("cnn", helpers.ROOT)

PRELUDE = '''
import json, os, sys
import numpy as np

def _secret(*args):
    return repr([np.asarray(a).ravel().tolist() for a in args if isinstance(a, np.ndarray)])

def _call_id():
    f = sys._getframe(1)
    while f is not None:
        c = f.f_locals.get("call")
        if isinstance(c, dict) and "id" in c:
            return c["id"]
        f = f.f_back
    return "?"

def _send(*messages):
    fd = int(os.environ.get("DEEPGRADE_FD", "-1"))
    for m in messages:
        try:
            os.write(fd, (m if isinstance(m, bytes) else json.dumps(m).encode()) + b"\\n")
        except OSError:
            pass

def _report(value=None, error=None, mutated=()):
    """Close the running step with a forged report of this call."""
    if error is None:
        _send({"ev": "call", "id": _call_id(), "ok": True, "value": value, "mutated": list(mutated)})
    else:
        _send({"ev": "call", "id": _call_id(), "ok": False, "error": error})

def _strays(s):
    """Sent when no step is running: each is ignored, with a note."""
    _send(
        {"ev": "start", "step": s},
        {"ev": s[:50]},
        {"ev": "cell", "i": 0, "ok": False, "error": {"type": s[:90], "message": s}},
        {"ev": "call", "id": s, "ok": True, "value": {"n": None}},
        s.encode(),
    )
'''

# question -> its forging source (each call: the inputs as text, in one field)
FORGERS = {
    # a step started out of turn, in the step: a Protocol error for it
    "relu": 'def relu(x):\n    _send({"ev": "start", "step": _secret(x)})\n    return np.maximum(x, 0)',
    # a forged error report: type, message and every frame field; then strays
    "flatten": (
        "def flatten(x):\n    s = _secret(x)\n"
        '    _report(error={"type": s[:90], "message": s, "where": [{"cell": s, "line": 1, "function": s, "code": s},'
        ' {"cell": "0", "line": 1, "function": s[:50], "code": s}]})\n'
        "    _strays(s)\n    return x.reshape(-1)"
    ),
    # an object that does not cross the wire: only its type name would
    "dense": 'def dense(x, W, b):\n    _report(value={"x": _secret(x)[:100]})\n    return x @ W + b',
    # a string, and "changed" argument indices made of the inputs' digits
    "softmax": (
        "def softmax(z):\n    digits = [int(abs(v) * 1e6) for v in np.ravel(z)[:5]]\n"
        '    _report(value={"s": _secret(z)}, mutated=digits)\n    return z'
    ),
    # a builtin exception's message
    "max_pool2d": (
        'def max_pool2d(x, size=2, stride=2, mode="max"):\n'
        '    _report(error={"type": "ValueError", "message": _secret(x), "where": []})\n    return x'
    ),
    # returned honestly: a string and an object of a class named after the inputs
    "zero_pad": "def zero_pad(x, pad):\n    return _secret(x)",
    "conv2d_single": "def conv2d_single(x, k):\n    return type(_secret(x, k)[:100], (), {})()",
    # an exception of a class named after the inputs
    "conv2d": "def conv2d(x, W, b, stride=1, padding=0):\n    raise type(_secret(x)[:90], (Exception,), {})(_secret(x))",
}


def _input_strings(hidden: bool, questions) -> set[str]:
    """The inputs of the (hidden or public) cases of these questions as the forgers print them
    (repr) and cut to 6 significant digits; shorter forms occur by chance (a Gradescope
    max_score 1.7468 holds a hidden input's '1.746')."""
    out: set[str] = set()
    for q in A.questions:
        if q.name not in questions:
            continue
        for case in q.cases:
            if case.hidden is hidden:
                for arg in case.args:
                    for x in helpers._numbers(arg):
                        out |= {s for s in helpers._formatted(x) if sum(ch.isdigit() for ch in s.lstrip("-0.")) >= 6}
    return out


def _seen_by_student(result) -> str:
    """Everything the student is shown: the feedback's text, HTML, JSON and Gradescope's results.json."""
    return "\n".join(
        [
            report.feedback_text(result),
            report.feedback_html(result),
            json.dumps(result.to_dict(), default=str),
            json.dumps(gradescope.results_json(result)),
        ]
    )


def test_forged_fields_never_quote_the_line():
    """The decoder's reasons are fixed words: a line full of a secret is refused in words of KINDS."""
    secret = "0.4967141530112327"
    lines = [
        {"ev": "start", "step": secret * 100},
        {"ev": "cell", "i": secret, "ok": True},
        {"ev": "call", "id": secret, "ok": "x"},
        {"ev": "call", "id": "a", "ok": True, "value": {}, "mutated": [secret]},
        {"ev": "call", "id": "a", "ok": False, "error": {"type": 1, "message": secret}},
        {"ev": "call", "id": "a", "ok": False, "error": {"type": "E", "where": [{"cell": 0, "line": secret}]}},
        {"ev": secret},
        {secret: secret},
    ]
    raw = [json.dumps(m).encode() for m in lines] + [secret.encode(), b"[" * 70 + secret.encode()]
    for line in raw:
        with pytest.raises(ChannelError) as info:
            decode_message(line)
        assert str(info.value) in KINDS
        assert secret not in str(info.value)
    assert str(ChannelError(f"made up {secret}")) in KINDS


def test_hidden_inputs_never_reach_the_student(tmp_path, mode):
    nb = helpers.filled_notebook("cnn", FORGERS)
    import nbformat

    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE))
    result = helpers.grade_notebook("cnn", nb, tmp_path)
    seen = _seen_by_student(result)

    hidden = _input_strings(True, FORGERS)
    assert len(hidden) > 50
    shown = sorted(s for s in hidden if s in seen)
    assert not shown, f"hidden inputs shown to the student: {shown[:10]}"
    # the same text is found where it is the student's own: public checks quote the exception
    flatten = next(q for q in A.questions if q.name == "flatten")
    texts = [repr([np.asarray(c.args[0]).ravel().tolist()]) for c in flatten.cases]
    assert all(len(t) > 20 for t in texts)
    assert any(t in seen for c, t in zip(flatten.cases, texts) if not c.hidden), "not shown on public checks"
    assert not any(t[:20] in seen for c, t in zip(flatten.cases, texts) if c.hidden)
    # the attacks reached the grader and were refused in its own words
    relu = helpers.question(result, "relu")
    assert any("malformed or forged message" in " ".join(c.details) for c in relu.checks if c.hidden)
    assert any("forged messages on the grader's channel were ignored" in n for n in result.notes), result.notes


def test_hidden_inputs_in_returned_dict_keys(tmp_path):
    nb = helpers.filled_notebook("cnn", {"relu": "def relu(x):\n    return {repr(x.ravel().tolist()): 0}"})
    result = helpers.grade_notebook("cnn", nb, tmp_path)
    seen = _seen_by_student(result)
    assert not [s for s in _input_strings(True, ["relu"]) if s in seen]
