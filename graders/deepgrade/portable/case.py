"""The plain description of a graded call: Case, and the Ref and OwnInput it may hold.

Plain dataclasses, standard library only, so that they ship with the rest of
``deepgrade.portable`` (the sandbox and the student's copy): an assignment's fixtures build
their cases with this one ``Case`` type wherever they run (``deepgrade.course.assignment`` re-exports it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


@dataclass
class Ref:
    """An argument that is the output of an earlier call in the same sandbox (e.g. a cache).

    call: the Case name whose call produced it; index: which element of its tuple.
    The value never leaves the sandbox: the grader never sees or unpickles it.
    """

    case: str
    index: int | None = None


@dataclass
class OwnInput:
    """A case whose function reads an intermediate that the student's own earlier call made
    (rnn_backward reads the hidden states in their rnn_forward's cache). Where that
    intermediate is wrong, the case also accepts what a right function returns on it
    (judge.Alternative), so that a right function never loses points to a wrong one.

    case: the earlier case of the same question (keep=True) whose returned element
        ``index`` is the intermediate (its ``outputs`` must name that element, so that it
        comes back from the sandbox).
    what: how the feedback names it, e.g. "hidden states".
    reference_args: (reference module, the student's intermediate) -> the arguments the
        reference is called with to give what a right function returns on it.
    producers: (assignment) -> {label: function}: the known wrong versions of the earlier
        case's function; their intermediates on public cases, with what a right function
        returns on them, ship with the student copy (so grader.check judges public cases as
        the grader does, without the reference). None: the catalogue's mistakes of it.
    see: where the feedback sends the student when the intermediate is wrong (default
        "see <the earlier case's function>").
    """

    case: str
    index: int | None
    what: str
    reference_args: Callable[[ModuleType, Any], tuple]
    producers: Callable[[Any], dict[str, Callable]] | None = None
    see: str | None = None


@dataclass
class Case:
    """One call of a student function on one fixture, and how its output is judged.

    outputs: how to name the returned value's parts for comparison:
        None            the return value is one array
        ["h", "y", None] a tuple; compare elements named, skip those that are None
        ["h", {"f": "forget gate f"}] an element may itself be a dict spec (its keys compared)
        {"W_xh": "dW_xh", ...}  a dict; compare these keys (label shown to students)
    keep: the sandbox keeps the return value so a later case can pass it on with Ref.
    compare: False for a call whose output is only an input to another case.
    """

    name: str
    description: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hidden: bool = False
    outputs: Any = None
    rtol: float = 1e-7
    atol: float = 1e-9
    seconds: float | None = None  # wall time of the call; None: [limits] call_seconds
    keep: bool = False
    compare: bool = True
    function: str | None = None  # defaults to the question's function
    expect_error: type[BaseException] | None = None  # the call must raise this
    # Python source defining ``run(namespace, *args, **kwargs)``: runs in the sandbox instead
    # of calling the function directly (e.g. build the student's model, train it, predict).
    harness: str | None = None
    # The arguments the grader's reference and mistake catalogue are called with, when
    # ``args`` holds a Ref (a value that exists only in the sandbox, e.g. the student's
    # cache): a tuple, or a callable taking the reference module and returning one (so a
    # fixtures file need not import the reference). None: use ``args``.
    reference_args: Any = None
    # the case's function reads an intermediate made by the student's earlier call (OwnInput)
    own_input: OwnInput | None = None
