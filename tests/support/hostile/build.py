"""Builds a class of hostile submissions to the CNN assignment (and honest ones).

    build_corpus(dest, port=..., marker_dir=..., private_root=...) -> {student: expectation}

Each student is a folder ``dest/<student>/cnn.ipynb`` (the "one folder per student"
layout). Most hostile notebooks are the reference-filled notebook with one hostile
cell or one function replaced, so the points an honest grader gives them are known:
the expectation says which questions must score zero and which may keep full marks.

Run as a script to write the corpus for a look: ``python tests/support/hostile/build.py DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from helpers import ROOT, filled_notebook  # noqa: E402

ALL = ["conv2d_single", "zero_pad", "conv2d", "relu", "max_pool2d", "flatten", "dense", "softmax", "cnn_forward"]


def _with_cell(nb: nbformat.NotebookNode, source: str, where: int | None = None) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    cell = nbformat.v4.new_code_cell(source)
    if where is None:
        nb.cells.append(cell)
    else:
        nb.cells.insert(where, cell)
    return nb


def _with_function(name: str, source: str) -> nbformat.NotebookNode:
    return filled_notebook("cnn", {name: source})


def build_corpus(
    dest: Path, port: int, marker_dir: Path, private_root: Path, precious: Path | None = None, repo_readers: bool = True
) -> dict[str, dict]:
    """Write the corpus; return per student {"zero": [questions that must get 0],
    "full": bool (every other question full marks), "status": expected status,
    "incident": a sandbox stop expected or None, "reason": a substring of the reason}.

    precious: a host file (world-writable) the planted links point at; repo_readers: the
    read_solutions notebook also tries this repository's (world-readable) solutions/."""
    dest = Path(dest)
    ref = filled_notebook("cnn")
    stub = nbformat.read(ROOT / "assignments" / "cnn" / "cnn.ipynb", as_version=4)
    pwned = [str(ROOT / "PWNED"), str(marker_dir / "pwned-host-tmp"), str(Path.home() / "deepgrade-PWNED")]
    pickle_marker = str(marker_dir / "pickle-ran")
    notebooks: dict[str, object] = {}
    expect: dict[str, dict] = {}

    def add(name, nb, zero=(), full=True, status="graded", incident=None, reason="", at_most=None):
        notebooks[name] = nb
        expect[name] = {
            "zero": list(zero),
            "full": full,
            "status": status,
            "incident": incident,
            "reason": reason,
            "at_most": at_most or {},
        }

    # honest ones, and the honest baselines of the liars below: a relu that returns
    # None (what an object that is not an array is worth) and one that returns 7s
    add("honest", ref)
    add("stub", stub, zero=ALL, full=False)
    add("relu_none", _with_function("relu", "def relu(x):\n    return None"), full=False)
    add("relu_sevens", _with_function("relu", "def relu(x):\n    return x * 0 + 7"), full=False)

    # runaway resources
    add("loop_cell", _with_cell(ref, "while True:\n    pass"), incident="timeout")
    add(
        "loop_function",
        _with_function("relu", "def relu(x):\n    while True:\n        pass"),
        zero=["relu"],
        full=False,
        incident="timeout",
    )
    add(
        "memory_cell",
        _with_cell(ref, "import numpy as np\nhog = np.ones(12 * 1024**3 // 8)"),
        incident="memory|timeout",
    )
    add(
        "memory_function",
        _with_function(
            "softmax", "def softmax(z):\n    import numpy as np\n    hog = np.ones(12 * 1024**3 // 8)\n    return hog"
        ),
        zero=["softmax"],
        full=False,
        incident="memory|timeout",
    )
    add("fork_bomb", _with_cell(ref, "import os\nwhile True:\n    os.fork()"))
    add("print_gigabytes", _with_cell(ref, "line = 'x' * 1_000_000\nfor _ in range(5000):\n    print(line)"))

    # leaving the process
    add("sys_exit_cell", _with_cell(ref, "import sys\nsys.exit(3)", where=2))
    add("os_exit_cell", _with_cell(ref, "import os\nos._exit(0)", where=2), incident="crashed")
    add(
        "sys_exit_function",
        _with_function("relu", "def relu(x):\n    import sys\n    sys.exit(1)"),
        zero=["relu"],
        full=False,
    )
    add(
        "os_exit_function",
        _with_function("flatten", "def flatten(x):\n    import os\n    os._exit(0)"),
        zero=["flatten"],
        full=False,
        incident="crashed",
    )
    add(
        "kill_parent",
        _with_cell(ref, "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(1, signal.SIGKILL)"),
    )

    # reaching outside
    writes = "\n".join(
        f"try:\n    os.makedirs(os.path.dirname({p!r}), exist_ok=True)\n    open({p!r}, 'w').write('pwned')\nexcept Exception as e:\n    print(e)"
        for p in pwned
    )
    add("write_outside", _with_cell(ref, "import os\n" + writes))
    add(
        "socket",
        _with_cell(
            ref,
            "import socket\nfor host in ('127.0.0.1', 'localhost'):\n    try:\n"
            f"        s = socket.create_connection((host, {port}), timeout=2)\n        s.sendall(b'escaped')\n"
            "    except OSError as e:\n        print(e)",
        ),
    )
    readers = [str(private_root / "solutions" / "cnn.py")]
    if repo_readers:
        readers.append(str(ROOT / "solutions" / "cnn.py"))
    add(
        "read_solutions",
        _with_cell(
            stub,
            "import glob\nfound = []\n"
            f"for p in {readers!r} + (glob.glob('/work/*/solutions/cnn.py') + glob.glob('/tmp/*/solutions/cnn.py')"
            f" if {repo_readers!r} else []):\n"
            "    try:\n        exec(open(p).read())\n        found.append(p)\n    except Exception as e:\n        print(e)\n"
            f"for p in ['{ROOT}/assignments/cnn/fixtures.py', '{private_root}/assignments/cnn/fixtures.py']:\n"
            "    try:\n        print(open(p).read()[:100])\n    except Exception as e:\n        print(e)",
        ),
        zero=ALL,
        full=False,
    )

    # lying to the comparison (relu is wrong in each: its honest points are zero)
    add(
        "monkeypatch_numpy",
        _with_cell(
            _with_function("relu", "def relu(x):\n    return x * 0 + 7"),
            "import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.array_equal = lambda *a, **k: True\n"
            "np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), bool)\nnp.testing.assert_allclose = lambda *a, **k: None",
        ),
        zero=[],
        full=False,
        at_most={"relu": "relu_sevens"},
    )
    add(
        "custom_eq",
        _with_function(
            "relu",
            "def relu(x):\n    class Liar:\n        shape = x.shape\n        def __eq__(self, other):\n            return True\n"
            "        def __array__(self, *a, **k):\n            import numpy as np\n            return np.maximum(x, 0)\n    return Liar()",
        ),
        zero=[],
        full=False,
        at_most={"relu": "relu_none"},
    )
    add(
        "ndarray_subclass",
        _with_function(
            "relu",
            "def relu(x):\n    import numpy as np\n    class Liar(np.ndarray):\n        def __eq__(self, other):\n"
            "            return np.ones(np.shape(other), bool)\n        def __array_finalize__(self, obj):\n            pass\n"
            "    return (np.zeros_like(x) - 5).view(Liar)",
        ),
        zero=[],
        full=False,
        at_most={"relu": "relu_sevens"},
    )
    add(
        "object_array",
        _with_function(
            "relu",
            "def relu(x):\n    import numpy as np\n    class Liar:\n        def __eq__(self, o):\n            return True\n"
            "    out = np.empty(x.shape, dtype=object)\n    out[...] = Liar()\n    return out",
        ),
        zero=[],
        full=False,
        at_most={"relu": "relu_none"},
    )
    add(
        "pickle_payload",
        _with_function(
            "relu",
            "def relu(x):\n    import os, numpy as np\n    class Payload:\n        def __reduce__(self):\n"
            f"            return (os.system, ('touch {pickle_marker}',))\n"
            "    return np.array([Payload(), Payload()], dtype=object)",
        ),
        zero=[],
        full=False,
        at_most={"relu": "relu_none"},
    )
    add(
        "forged_results",
        _with_function(
            "relu",
            "def relu(x):\n    import os, json, numpy as np\n    fd = int(os.environ.get('DEEPGRADE_FD', '-1'))\n"
            "    plan = json.load(open('plan.json'))\n    zero = {'t': []}\n    lines = []\n"
            "    for c in plan['calls']:\n"
            "        lines.append({'ev': 'start', 'step': 'call:' + c['id']})\n"
            "        lines.append({'ev': 'call', 'id': c['id'], 'ok': True, 'value': zero, 'mutated': []})\n"
            "    lines.append({'ev': 'cell', 'i': 'x', 'ok': 'yes'})\n    lines.append({'ev': 'done'})\n"
            "    try:\n        os.write(fd, b'not json\\n' + ''.join(json.dumps(m) + '\\n' for m in lines).encode())\n"
            "    except OSError:\n        pass\n    return np.maximum(x, 0)",
        ),
        full=False,
        at_most={q: "honest" for q in ALL},
    )

    # attacks on the sandbox itself: escape by remount and .pth, planted links and FIFOs, forged channel
    # messages, disk fill, hidden inputs in exception messages
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    package = str(ROOT / "graders" / "deepgrade")
    add(
        "remount_pth",
        _with_cell(
            ref,
            "import subprocess, sys\n"
            "for cmd in (['mount', '-o', 'remount,rw,bind', sys.prefix], ['mount', '-o', 'remount,rw', '/usr'],"
            " ['unshare', '-Urm', 'true']):\n"
            "    print(subprocess.run(cmd, capture_output=True, text=True).returncode)\n"
            f"for d in ({site!r}, {package!r}, sys.prefix):\n"
            "    try:\n"
            f"        open(d + '/deepgrade_pwned.pth', 'w').write('import os; open({pwned[0]!r}, \"w\")')\n"
            "    except OSError as e:\n        print(e)",
        ),
    )
    if precious is not None:
        add(
            "planted_links",
            _with_cell(
                ref,
                "import os, tempfile\n"
                f"for name in ('output.log', 'plan.json', 'worker.py', os.path.join(tempfile.gettempdir(), 'x.log')):\n"
                f"    try:\n        os.symlink({str(precious)!r}, name)\n    except OSError as e:\n        print(e)\n"
                "for name in ('fifo.log', 'results.json'):\n"
                "    try:\n        os.mkfifo(name)\n    except OSError as e:\n        print(e)\n"
                "os._exit(0)",
                where=2,
            ),
            incident="crashed",
        )
    add(
        "deep_json",
        _with_cell(
            ref,
            "import os\nfd = int(os.environ['DEEPGRADE_FD'])\n"
            "os.write(fd, b'[' * 200000 + b'\\n')\n"
            'os.write(fd, b\'{"ev": "call", "id": "relu/x", "ok": false, "error": {"type": "E", '
            '"where": [{"cell": 0}]}}\\n\')',
        ),
    )
    add(
        "forged_where",
        _with_function(
            "relu",
            "def relu(x):\n    import os, json, numpy as np\n    fd = int(os.environ['DEEPGRADE_FD'])\n"
            "    bad = {'ev': 'call', 'id': 'relu', 'ok': False, 'error': {'type': 'E', 'where': [{'cell': 'x'}]}}\n"
            "    os.write(fd, (json.dumps(bad) + '\\n').encode())\n    return np.maximum(x, 0)",
        ),
        full=False,
        at_most={q: "honest" for q in ALL},
    )
    add(
        "disk_fill",
        _with_cell(
            ref,
            "import os\nchunk = b'x' * (32 * 1024 * 1024)\nn = 0\n"
            "try:\n    for k in range(48):\n        with open(f'fill{k}', 'wb') as fh:\n"
            "            fh.write(chunk)\n            n += 1\nexcept OSError as e:\n    print(n, e)\n"
            "for k in range(48):\n    try:\n        os.remove(f'fill{k}')\n    except OSError:\n        pass",
        ),
    )
    add(
        "hidden_leak",
        _with_function(
            "softmax",
            "def softmax(z):\n    import numpy as np\n    class Timeout(Exception):\n        pass\n"
            "    raise Timeout('learning curves: /etc/passwd LEAK ' + np.array2string(np.asarray(z)))",
        ),
        zero=["softmax"],
        full=False,
    )

    # the hidden inputs written into forged channel messages (in the step, and
    # between steps after a forged report closed it) must never be quoted back; the root
    # of the sandbox is not a place to write 384 MiB
    add(
        "forged_text",
        _with_function(
            "relu",
            "def relu(x):\n    import os, sys, json, numpy as np\n    fd = int(os.environ['DEEPGRADE_FD'])\n"
            "    s = 'LEAK ' + repr(np.asarray(x).ravel().tolist())\n"
            "    f = sys._getframe(1)\n"
            "    while f is not None and not isinstance(f.f_locals.get('call'), dict):\n        f = f.f_back\n"
            "    cid = f.f_locals['call']['id'] if f is not None else '?'\n"
            "    lines = [{'ev': 'call', 'id': cid, 'ok': False, 'error': {'type': s[:90], 'message': s}},"
            " {'ev': 'start', 'step': s}, {'ev': s[:60]}, {'ev': 'call', 'id': s, 'ok': True, 'value': {'x': s[:99]}}]\n"
            "    os.write(fd, ''.join(json.dumps(m) + '\\n' for m in lines).encode())\n"
            "    return np.maximum(x, 0)",
        ),
        zero=["relu"],
        full=False,
    )
    add(
        "root_fill",
        _with_cell(
            ref,
            "import os\nchunk = b'x' * (32 * 1024 * 1024)\nfor d in ('/', '/dev'):\n"
            "    for k in range(12):\n        try:\n            with open(os.path.join(d, f'fill{k}'), 'wb') as fh:\n"
            "                fh.write(chunk)\n        except OSError as e:\n            print(e)\n            break",
        ),
    )

    # shapes Python's own parsers cannot take: a RecursionError or MemoryError in
    # the grader's ast.parse; the cell fails in the sandbox, the rest keeps its marks
    add("attribute_chain", _with_cell(ref, "x" + ".a" * 600_000))
    add("unary_minus", _with_cell(ref, "-" * 100_000 + "1"))

    # files that are not (this assignment's) notebooks
    raw: dict[str, bytes] = {
        "invalid_json": b'{"cells": [ {"cell_type": "code", ',
        "deep_json_notebook": b'{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}",
        "empty_file": b"",
        "binary_file": bytes(range(256)) * 40,
    }
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": "cnn"},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "language": "python", "input": c.source, "outputs": [], "metadata": {}}
                    for c in ref.cells
                    if c.cell_type == "code"
                ],
                "metadata": {},
            }
        ],
    }
    raw["nbformat3"] = json.dumps(v3).encode()
    rnn = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def rnn_step(x, h, W):\n    return h")])
    add("wrong_assignment", rnn, zero=ALL, full=False, status="wrong-assignment", reason="right assignment")
    expect["invalid_json"] = {
        "zero": ALL,
        "full": False,
        "status": "unreadable",
        "incident": None,
        "reason": "not valid notebook JSON",
        "at_most": {},
    }
    expect["deep_json_notebook"] = {
        "zero": ALL,
        "full": False,
        "status": "unreadable",
        "incident": None,
        "reason": "nested too deeply",
        "at_most": {},
    }
    expect["empty_file"] = {
        "zero": ALL,
        "full": False,
        "status": "unreadable",
        "incident": None,
        "reason": "empty",
        "at_most": {},
    }
    expect["binary_file"] = {
        "zero": ALL,
        "full": False,
        "status": "unreadable",
        "incident": None,
        "reason": "not text",
        "at_most": {},
    }
    expect["nbformat3"] = {"zero": [], "full": True, "status": "graded", "incident": None, "reason": "", "at_most": {}}

    for name, nb in notebooks.items():
        (dest / name).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, dest / name / "cnn.ipynb")
    for name, data in raw.items():
        (dest / name).mkdir(parents=True, exist_ok=True)
        (dest / name / "cnn.ipynb").write_bytes(data)
    # the same (Moodle) student twice: the older file is a duplicate row
    twice = dest / "twice_9_assignsubmission_file_"
    twice.mkdir(parents=True, exist_ok=True)
    nbformat.write(stub, twice / "draft.ipynb")
    nbformat.write(ref, twice / "final.ipynb")
    import os
    import time

    old = time.time() - 3600
    os.utime(twice / "draft.ipynb", (old, old))
    expect["twice_9"] = {"zero": [], "full": True, "status": "graded", "incident": None, "reason": "", "at_most": {}}
    expect["twice_9-duplicate"] = {
        "zero": ALL,
        "full": False,
        "status": "duplicate",
        "incident": None,
        "reason": "final.ipynb",
        "at_most": {},
    }
    return expect


if __name__ == "__main__":
    out = Path(sys.argv[1])
    print(json.dumps(build_corpus(out, 9, out / "markers", out / "private"), indent=1))
