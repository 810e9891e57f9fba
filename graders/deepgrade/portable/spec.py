"""One case of a question, as the sandbox plan and the student copy both describe it.

The grader builds a ``CaseSpec`` from an assignment's ``Case`` (``plan.case_spec``); the sandbox
is sent its ``call()`` (inputs only), and the student copy's ``public.json`` holds its
``to_dict()`` next to the public answers. Both sides then read it back with ``from_dict`` and
judge it with ``judge.judge``, so a case has one id and one set of judging settings everywhere.

Arguments are wire values (``wire.encode``) or ``{"r": [case id, index]}``: an element of what an
earlier case of the same question, kept with ``keep``, returned (it never leaves the side that
ran it). Plain JSON values only, so ``from_dict(json.loads(json.dumps(s.to_dict()))) == s``.
Shipped (see __init__.py): standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

CASE_ID_SEPARATOR = "/"


def case_id(question: str, name: str) -> str:
    """The one id of a case: its question and its name ("rnn_backward/one"); the sandbox's
    outcomes, a reference to a kept value and the student copy all use it."""
    return f"{question}{CASE_ID_SEPARATOR}{name}"


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: what JSON gives back (so a round trip compares equal)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class CaseSpec:
    """One call of a student function and how its outcome is judged.

    question: the question (and the function, unless ``function`` says otherwise).
    name: the case's name within the question; ``id`` is ``question/name``.
    args: list of wire values or refs; kwargs: name -> wire value or ref.
    seconds: the call's wall-time budget (None: the sandbox's default).
    keep: the value stays on the running side for a later case's ref.
    hidden: a hidden check (runs after every public call; never in the student copy's judging).
    compare: judged (False: only an input to another case).
    outputs: how the returned value splits into compared parts (assignment.Case ``outputs``);
    returns: the compared tuple elements (the others, e.g. a cache, never cross back), or None.
    rtol, atol: the values check's tolerances. expect_error: the exception's class name the call
    must raise, or None. harness: source of ``run(namespace, *args, **kwargs)`` run instead of
    calling the function, or None. parts: the student's other functions whose calls are recorded
    (assignment.toml ``[uses]``).
    """

    question: str
    name: str
    function: str
    description: str = ""
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    seconds: float | None = None
    keep: bool = False
    hidden: bool = False
    compare: bool = True
    outputs: Any = None
    returns: list | None = None
    rtol: float = 1e-7
    atol: float = 1e-9
    expect_error: str | None = None
    harness: str | None = None
    parts: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return case_id(self.question, self.name)

    @property
    def label(self) -> str:
        """What the feedback calls the case."""
        return ("hidden check: " if self.hidden else "") + self.description

    def to_dict(self) -> dict:
        """Every field as a plain JSON value, plus ``id`` (what the call runner keys kept values by)."""
        out = {"id": self.id}
        for f in fields(self):
            out[f.name] = _plain(getattr(self, f.name))
        return out

    @classmethod
    def from_dict(cls, data: dict) -> CaseSpec:
        """Back from ``to_dict()`` (extra keys, such as public.json's answers, are ignored).
        Raises ValueError on a dict that is not a case."""
        if not isinstance(data, dict):
            raise ValueError(f"a case is a dict, not {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        missing = {"question", "name", "function"} - set(data)
        if missing:
            raise ValueError(f"a case without {sorted(missing)}")
        spec = cls(**{k: v for k, v in data.items() if k in names})
        if "id" in data and data["id"] != spec.id:
            raise ValueError(f"case id {data['id']!r} is not {spec.id!r}")
        return spec

    def call(self) -> dict:
        """What the call runner needs (portable.call_runner.run_call): inputs, never answers.
        Optional keys are left out when unset (the sandbox plan's fingerprint hashes this)."""
        call: dict = {
            "id": self.id,
            "function": self.function,
            "args": _plain(self.args),
            "kwargs": _plain(self.kwargs),
            "seconds": self.seconds,
        }
        if self.harness is not None:
            call["harness"] = self.harness
        if self.keep:
            call["keep"] = True
        if self.hidden:
            call["hidden"] = True  # the sandbox runs hidden calls after every public one
        if self.returns is not None:
            call["returns"] = list(self.returns)
        if self.parts:
            call["parts"] = list(self.parts)  # its calls to the student's other functions are recorded
        return call
