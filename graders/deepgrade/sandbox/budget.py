"""One submission's time budget, from its sandbox to its last check.

A submission's ``[limits] total_seconds`` covers everything it costs: running its notebook
in the sandbox (with the decoding of what it sends) and, in the grader's own process,
checking its outputs (the expected values' comparison, the dependency replays of
dependencies.py, the diagnosis against the mistake catalogue, the points). One ``Deadline``
is made when the submission's grading starts and carried through the pipeline; the
grader's stages look at it between questions and between cases (score.py, pipeline.py).
Once it has passed, what is left is not checked: each such case or question fails with
``Deadline.message()``, which names only the seconds and the budget (never anything the
student's process sent), and what was judged before keeps its points.

Checking always gets at least ``check_floor(total_seconds)`` after the sandbox has finished
(``CHECK_FLOOR_SECONDS``, or a tenth of the budget when that is more: keras's checks draw
learning curves), however much of the budget the sandbox used: honest numpy outputs take
well under a second to check (benchmarks/sizing.py: 0.14-0.67 s per whole submission), so a
run that used its whole budget still has its outputs judged, while outputs that are slow to
check are cut off. Worst case for one submission: ``total_seconds`` + its floor + the one case
(or extra check) being judged when the deadline passes.

The clock is injectable so that tests decide exactly when the deadline passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# what checking gets after the sandbox, even when the sandbox used the whole budget
CHECK_FLOOR_SECONDS = 10.0
CHECK_FLOOR_SHARE = 0.1  # of the budget, when that is more


def check_floor(budget: float) -> float:
    """The seconds checking gets at least, after the sandbox, for a budget of ``budget`` s."""
    return max(CHECK_FLOOR_SECONDS, CHECK_FLOOR_SHARE * budget)


class Deadline:
    """A budget of ``seconds`` on ``clock`` (default ``time.monotonic``), started now.

    spent: seconds already used elsewhere (a stored run's sandbox time, when its outcomes
    are scored again). budget: the seconds the student is told (default ``seconds``; a
    deadline extended for checking keeps the submission's own figure)."""

    def __init__(
        self,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        spent: float = 0.0,
        budget: float | None = None,
    ) -> None:
        self.seconds = float(seconds)
        self.budget = float(seconds if budget is None else budget)
        self.clock = clock
        self.start = clock() - float(spent)
        self.stopped = False  # a check was not made because it had passed (``stops``)

    def spent(self) -> float:
        """Seconds used since the submission's grading started."""
        return self.clock() - self.start

    def ends(self) -> float:
        """When it passes, on its clock's scale (the sandbox's watchdog waits on it)."""
        return self.start + self.seconds

    def expired(self) -> bool:
        return self.spent() >= self.seconds

    def stops(self) -> bool:
        """Whether the next check must not be made (the deadline has passed); remembered in
        ``stopped``, so that the submission's row can say why."""
        if self.expired():
            self.stopped = True
        return self.stopped

    def for_checking(self, floor: float | None = None) -> Deadline:
        """The same deadline, but at least ``floor`` seconds from now (default:
        ``check_floor`` of its budget): what the grader's checks get after the sandbox."""
        floor = check_floor(self.budget) if floor is None else floor
        extended = Deadline(max(self.seconds, self.spent() + floor), self.clock, budget=self.budget)
        extended.start = self.start
        return extended

    def message(self) -> str:
        """What a check not made says (the grader's words and numbers only)."""
        return (
            f"your outputs took too long to check: {self.spent():.1f} s of your {self.budget:g} s budget "
            "(running the notebook and checking its outputs) were used before this check; it was not made"
        )
