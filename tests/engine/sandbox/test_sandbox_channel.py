"""The results channel is total: nothing a student writes on it makes the grader raise.

Forged, malformed, deeply nested and oversized messages are refused by the decoder with
a ChannelError (never RecursionError, KeyError, TypeError ...); sent by student code in a
real sandbox, they cost only the step they arrived in, with a reason, and the honest cells
and calls around them keep their results.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from deepgrade import sandbox
from deepgrade.portable import feedback, wire
from deepgrade.sandbox import ChannelError, decode_message

GOOD = [
    {"ev": "start", "step": "cell:0"},
    {"ev": "cell", "i": 0, "ok": True, "error": None},
    {"ev": "call", "id": "f/a", "ok": True, "value": wire.encode(np.arange(3.0)), "mutated": [], "seconds": 0.1},
    {"ev": "call", "id": "f/a", "ok": False, "error": {"type": "ValueError", "message": "m", "where": []}},
    {"ev": "done"},
]

FORGED = [
    b"[" * 100_000 + b"]" * 100_000,  # deep nesting (was RecursionError)
    b'{"ev": "cell", "i": 0, "ok": false, "error": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    json.dumps(
        {"ev": "call", "id": "f/a", "ok": False, "error": {"type": "E", "message": "m", "where": [{"cell": 0}]}}
    ).encode(),  # a 'where' without line or code (was KeyError in error_check)
    json.dumps({"ev": "call", "id": "f/a", "ok": False, "error": {"type": "E", "where": "cell 3"}}).encode(),
    json.dumps({"ev": "call", "id": "f/a", "ok": False, "error": ["E"]}).encode(),
    json.dumps({"ev": "call", "id": "f/a", "ok": False, "error": {"type": 3}}).encode(),
    json.dumps({"ev": "call", "id": "f/a", "ok": True}).encode(),  # no value
    json.dumps({"ev": "call", "id": "f/a", "ok": True, "value": {}, "mutated": ["x"]}).encode(),
    json.dumps({"ev": "call", "id": 7, "ok": True, "value": {}}).encode(),
    json.dumps({"ev": "call", "id": "f/a", "ok": "yes", "value": {}}).encode(),
    json.dumps({"ev": "call", "id": "f/a", "ok": True, "value": {}, "seconds": "fast"}).encode(),
    json.dumps({"ev": "cell", "i": "0", "ok": True}).encode(),
    json.dumps({"ev": "cell", "i": True, "ok": True}).encode(),
    json.dumps({"ev": "start", "step": ["cell:0"]}).encode(),
    json.dumps({"ev": "start"}).encode(),
    json.dumps({"ev": "launch"}).encode(),
    json.dumps(["ev", "done"]).encode(),
    b"null",
    b"not json",
    b"\xff\xfe\x00",
    b'{"ev": "done", "x": NaN',
    b"9" * 5000,
]


def test_good_messages_pass():
    for msg in GOOD:
        assert decode_message(wire.dumps(msg).encode()) == msg


@pytest.mark.parametrize("line", FORGED, ids=range(len(FORGED)))
def test_forged_messages_are_refused(line):
    with pytest.raises(ChannelError):
        decode_message(line)


def test_fuzz_never_raises_anything_else():
    rng = random.Random(10)
    alphabet = b'{}[]":,0123456789.-eEtruefalsnl \\\x00\xff'
    lines = [bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 200))) for _ in range(3000)]
    # mutations of good messages: truncations, byte flips, duplications
    for msg in GOOD:
        raw = wire.dumps(msg).encode()
        for _ in range(300):
            b = bytearray(raw)
            for _ in range(rng.randrange(1, 4)):
                b[rng.randrange(len(b))] = rng.choice(alphabet)
            lines.append(bytes(b[: rng.randrange(1, len(b) + 1)]))
    for line in lines:
        try:
            msg = decode_message(line)
        except ChannelError:
            continue
        assert isinstance(msg, dict) and msg["ev"] in ("start", "cell", "call", "done")


def test_error_check_is_total():
    """Whatever reaches it, error_check returns a Check and shows no raw text on hidden checks."""
    for error in [
        None,
        {},
        {"type": None, "where": [{"cell": 0}]},
        {"type": "E", "where": "x"},
        {"type": "Leaky", "message": "SECRET", "where": [{"cell": "0", "line": 1, "code": "x"}], "from": "sandbox"},
        {"type": "ValueError", "message": "SECRET", "where": [None, 3], "from": "sandbox"},
    ]:
        for hidden in (False, True):
            check = feedback.error_check("case", hidden, error, 1.0)
            assert not check.passed
            if hidden and error and error.get("from") == "sandbox":
                assert "SECRET" not in " ".join(check.details)
                assert "Leaky" not in " ".join(check.details)


def _writer(payloads: list[bytes]) -> str:
    return f"import os\nfd = int(os.environ['DEEPGRADE_FD'])\nfor p in {payloads!r}:\n    os.write(fd, p + b'\\n')\n"


def test_forged_messages_in_a_sandbox_cost_only_their_step():
    payloads = [b"[" * 100_000, FORGED[2], FORGED[3], b'{"ev": "done"}', b'{"ev": "call", "id": "f/a", "ok": true}']
    cells = [
        (0, "def f(x):\n    return x * 2\n"),
        (1, _writer(payloads)),
        (2, "def g(x):\n    " + _writer(payloads).replace("\n", "\n    ") + "\n    return x\n"),
        (3, "z = 1"),
    ]
    calls = [
        {"id": "f/a", "function": "f", "args": [wire.encode(np.arange(3.0))], "kwargs": {}},
        {"id": "g/a", "function": "g", "args": [wire.encode(np.arange(3.0))], "kwargs": {}},
        {"id": "f/b", "function": "f", "args": [wire.encode(np.ones(2))], "kwargs": {}, "hidden": True},
    ]
    run = sandbox.run(cells, calls)
    assert run.cells[0].ok and run.cells[3].ok
    assert run.cells[1].status == "error" and run.cells[1].error["type"] == "Protocol"
    assert "malformed or forged" in run.cells[1].error["message"]
    assert run.calls["f/a"].ok and np.array_equal(run.calls["f/a"].value, [0.0, 2.0, 4.0])
    assert run.calls["g/a"].status == "error" and run.calls["g/a"].error["type"] == "Protocol"
    assert run.calls["f/b"].ok and np.array_equal(run.calls["f/b"].value, [2.0, 2.0])


def test_a_flood_stops_only_that_submission():
    cells = [(0, "import os\nfd = int(os.environ['DEEPGRADE_FD'])\nwhile True:\n    os.write(fd, b'x' * 65536)")]
    run = sandbox.run(cells, [], sandbox.Limits(cell_seconds=30, total_seconds=60))
    # the line grows past the longest the grader takes: that costs the cell; the flood
    # past the submission's total then stops the child
    assert run.cells[0].status == "error" and run.cells[0].error["type"] == "Protocol"
    assert "larger than the grader accepts" in run.cells[0].error["message"]
    assert any("more data than allowed" in n for n in run.notes), run.notes
