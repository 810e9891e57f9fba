"""A function judged on its own when it reads what the student's other functions made.

Two ways, one rule (``judge.Alternative``: a second expected value the case accepts):

- **Own input**: ``rnn_backward`` reads the hidden states in the cache of the student's own
  ``rnn_forward``; where those differ from the reference's, it is also right when it returns
  what a right function returns on THEIR states (``own_alternative``; the grader's side:
  dependencies.own_alternative_for).
- **Parts**: a function that calls the student's other functions (below).


``cnn_forward`` calls the student's ``conv2d``, ``relu``, ...; ``lstm_forward`` calls their
``lstm_step``. A right composite over a wrong part returns what the reference composition
returns over that wrong part, not what the reference returns: it is judged against both, so a
mistake costs points once, under the part that made it. Which functions a question's function
calls is declared once, in assignment.toml ``[uses]``.

Where the student's function runs (the sandbox, or the student's kernel for ``grader.check``),
a ``Recorder`` wraps each declared part in the function's globals for the duration of the call
and records every call it makes to them: the arguments (bound to the part's own signature, in
its order, defaults filled in) and what the part returned or raised. The records come back as
plain wire values. The grader replays the reference composition in its own process, answering
each of its part calls with the student's record for the same arguments (the grader's dependencies.py); the
student copy, which has no reference, matches the records against traces the grader computed
for the catalogued mistakes of each part (public cases only).

Numpy and the standard library only: shipped to the sandbox and the student copy.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # the deepgrade package, or the student copy's package
    from . import wire
    from .compare import as_array, same_output
    from .feedback import BUILTIN_EXCEPTIONS
    from .judge import Alternative
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    import wire
    from compare import as_array, same_output
    from feedback import BUILTIN_EXCEPTIONS
    from judge import Alternative

MAX_RECORDS = 512  # part calls recorded per call of a composite (an LSTM over T steps makes T)
MAX_RECORD_CHARS = 8 * 1024 * 1024  # encoded size of one call's records; past it recording stops


class Recorder:
    """Records the calls a function makes to the declared parts, while ``around`` is active.

    records: [{"part": name, "args": wire tuple, "value": wire} or {..., "error": type name}]
    """

    def __init__(self, names: list[str]) -> None:
        self.names = list(names)
        self.records: list[dict] = []
        self.size = 0
        self.full = False

    def _add(self, record: dict) -> None:
        size = len(wire.dumps(record))
        if self.full or len(self.records) >= MAX_RECORDS or self.size + size > MAX_RECORD_CHARS:
            self.full = True  # the records kept are true; later calls are not recorded
            return
        self.records.append(record)
        self.size += size

    def wrap(self, name: str, fn):
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None

        @functools.wraps(fn)
        def recorded(*args, **kwargs):
            args_wire = None
            if not self.full:
                try:
                    args_wire = wire.encode(bound_values(signature, args, kwargs))
                except BaseException:  # arguments the part cannot even take: nothing to record
                    args_wire = None
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                if args_wire is not None:
                    self._add({"part": name, "args": args_wire, "error": type(exc).__name__[:100]})
                raise
            if args_wire is not None and not self.full:
                try:
                    self._add({"part": name, "args": args_wire, "value": wire.encode(value)})
                except BaseException:
                    pass
            return value

        return recorded

    @contextlib.contextmanager
    def around(self, target):
        """Wrap the parts in ``target``'s globals (the notebook's namespace) during the call."""
        scope = getattr(target, "__globals__", None)
        saved = {}
        if isinstance(scope, dict):
            for name in self.names:
                fn = scope.get(name)
                if callable(fn) and fn is not target:
                    saved[name] = fn
                    scope[name] = self.wrap(name, fn)
        try:
            yield self
        finally:
            for name, fn in saved.items():
                scope[name] = fn


def bound_values(signature: inspect.Signature | None, args: tuple, kwargs: dict) -> tuple:
    """A call's arguments in the function's parameter order, defaults filled in: the same call
    written ``max_pool2d(x)`` or ``max_pool2d(x, 2, stride=2)`` gives the same values. Names do
    not matter (the student's parameters may be named otherwise), only the order the API fixes."""
    if signature is None:
        return tuple(args) + tuple(kwargs[k] for k in sorted(kwargs))
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    return tuple(bound.arguments.values())


@dataclass
class Record:
    """One part call, read back: the bound arguments and the value returned, or the error."""

    part: str
    args: tuple
    value: Any = None
    error: str | None = None


def read_records(raw: Any) -> list[Record]:
    """Records from the wire; a malformed entry is dropped (it can only cost an alternative)."""
    out: list[Record] = []
    if not isinstance(raw, list):
        return out
    for entry in raw[:MAX_RECORDS]:
        try:
            args = wire.decode(entry["args"])
            if not isinstance(args, tuple) or not isinstance(entry["part"], str):
                continue
            if "error" in entry:
                out.append(Record(entry["part"], args, error=str(entry["error"])[:100]))
            else:
                out.append(Record(entry["part"], args, wire.decode(entry["value"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def same_value(a: Any, b: Any, rtol: float, atol: float) -> bool:
    """Arguments or returned values equal: numbers and arrays within tolerance, strings, None,
    tuples, lists and dicts element by element."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_value(a[k], b[k], rtol, atol) for k in a)
        )
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (
            isinstance(a, (tuple, list))
            and isinstance(b, (tuple, list))
            and len(a) == len(b)
            and all(same_value(x, y, rtol, atol) for x, y in zip(a, b))
        )
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return type(a) is type(b) and a == b
    x, y = as_array(a), as_array(b)
    if x is None or y is None or x.shape != y.shape:
        return False
    return bool(np.all(np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)))


def degenerate(value: Any) -> bool:
    """A part that returns only zeros (or nothing numeric) tells nothing about the function
    that uses it: its records are not used (a composite right only on zeros is not shown right)."""
    if isinstance(value, dict):
        return all(degenerate(v) for v in value.values())
    if isinstance(value, (tuple, list)):
        return all(degenerate(v) for v in value)
    x = as_array(value)
    return x is None or not np.any(x)


def trace_matches(trace: list, records: list[Record], rtol: float, atol: float) -> bool:
    """Did the student's parts answer every call of a trace (part, arguments, value) as it says?"""
    for part, args, value in trace:
        if not any(
            r.part == part
            and r.error is None
            and same_value(r.args, args, rtol, atol)
            and same_value(r.value, value, rtol, atol)
            for r in records
        ):
            return False
    return True


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def alternative(question: str, wrong_parts: list[str], expected: Any) -> Alternative:
    """What a composite case also accepts: the reference composition over the student's own
    ``wrong_parts`` (``expected``), and what the feedback says either way."""
    parts = _listing(wrong_parts)
    see = ", ".join(f"see {p}" for p in wrong_parts)
    your = "your " + " and your ".join(wrong_parts)
    verb = "differs" if len(wrong_parts) == 1 else "differ"
    return Alternative(
        expected,
        f"right given {your}: {your} {verb} from the reference ({see}); your {question} is right",
        f"{your} {verb} from the reference here ({see}); your {question} does not return what a right "
        f"{question} returns with {'it' if len(wrong_parts) == 1 else 'them'} either (the differences below are from that)",
        f"{your} {verb} from the reference here ({see}): this check cannot tell whether your {question} "
        f"is right with {'it' if len(wrong_parts) == 1 else 'them'}; fix {parts} first",
    )


def exception_name(kind: str) -> str:
    """An exception's type as the feedback may name it: a class the student defined could carry text."""
    return kind if kind in BUILTIN_EXCEPTIONS else "an exception of a class defined in the notebook"


def raised_part(question: str, records: list[Record]) -> str | None:
    """For ``grader.check`` (no reference to replay): a composite call that raised where one of its
    parts raised first names that part. The grader says more precisely which part is wrong
    (dependencies.cause_for on the grader's side)."""
    for r in records:
        if r.error is not None:
            return (
                f"your {r.part} raised {exception_name(r.error)} when your {question} called it: check {r.part} "
                f"(see {r.part}) and what your {question} passes to it; {question} itself cannot be judged here"
            )
    return None


def missing_part(question: str, error: dict, parts: list[str]) -> str | None:
    """A NameError for one of the declared parts: the composite calls a function that is not defined."""
    if not isinstance(error, dict) or error.get("type") != "NameError":
        return None
    message = str(error.get("message", ""))
    for p in parts:
        if f"'{p}'" in message:
            return f"your {question} calls {p}, which is not defined in the notebook: define {p} first (see {p})"
    return None


# --------------------------------------------------------------------------- own input


def wrong_intermediate(own: Any, reference: Any, rtol: float, atol: float) -> bool:
    """Is the student's intermediate usable (finite numbers of the reference's shape) and
    other than the reference's? Only then does a case accept an alternative."""
    a, r = as_array(own), as_array(reference)
    if a is None or r is None or a.shape != r.shape or not np.all(np.isfinite(a)):
        return False
    return not same_output(a, r, rtol, atol)


def own_alternative(
    question: str,
    producer: str,
    what: str,
    own: Any,
    reference: Any,
    candidates: list[tuple[Any, Any, dict[str, Any]]],
    rtol: float,
    atol: float,
    see: str | None = None,
) -> Alternative | None:
    """The alternative of a case whose ``question`` function reads ``what`` (e.g. "hidden
    states") from what the student's ``producer`` returned (``own``; ``reference``: the
    reference's). None where the intermediate is right (or unusable): the reference alone
    judges. ``candidates``: (intermediate, what a right function returns on it, each
    catalogued mistake's output on it); the one whose intermediate is the student's gives the
    expected value and the mistakes' outputs. The grader computes
    the student's own pair on hidden cases; public cases use the pairs shipped with the
    student copy (the catalogue's wrong producers), so grader.check judges them the same.
    see: where the feedback sends the student (default: the producer).
    """
    if not wrong_intermediate(own, reference, rtol, atol):
        return None
    expected, mistakes = next(
        ((alt, outs) for inter, alt, outs in candidates if same_output(own, inter, rtol, atol)), (None, {})
    )
    see = see or f"see {producer}"
    wrong = f"your {producer} is wrong here: its {what} differ from the reference's ({see})"
    return Alternative(
        expected,
        f"right for the {what} your {producer} produced: your {question} is right, your {producer} is wrong ({see})",
        f"{wrong}; your {question} does not return what a right {question} returns on them either "
        "(the differences below are from that)",
        f"{wrong}, and {question} reads them from your cache: fix {producer} first "
        f"(this check cannot tell here whether {question} is right)",
        dict(mistakes),
    )
