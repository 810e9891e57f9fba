"""How a question's points are split among its checks (assignment.toml ``[points]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:  # the deepgrade package, or the student copy's package
    from .outputs import labels
except ImportError:  # the sandbox: plain modules (isolation.BOOT)
    from outputs import labels


VALUES_WEIGHT = 2.0  # one output part's values, before output weights: the unit of all weights


@dataclass
class Policy:
    """How a question's points are split (assignment.toml ``[points]``; defaults here only).

    shape: the shape check's share of a case (a gate: values are compared only when it
        passes); the rest of the case is its outputs' values.
    no_mutation: weight of "does not modify its inputs" (one per group: public, hidden).
    expected_error: weight of a check that the function raises where it must.
    outputs: question -> output label -> relative weight (default 1 each); the case's
        values total (VALUES_WEIGHT per output) is shared out in these proportions.
    The expected-error and no-mutation checks are credited only once at least one values
    check of the same group (public or hidden) passed: raising, or doing nothing, earns nothing.
    """

    shape: float = 0.1
    no_mutation: float = 1.0
    expected_error: float = VALUES_WEIGHT
    outputs: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, table: dict | None) -> Policy:
        table = dict(table or {})
        unknown = set(table) - {"shape", "no_mutation", "expected_error", "outputs"}
        if unknown:
            raise ValueError(f"[points] has unknown keys {sorted(unknown)}")
        policy = cls(
            shape=float(table.get("shape", cls.shape)),
            no_mutation=float(table.get("no_mutation", cls.no_mutation)),
            expected_error=float(table.get("expected_error", cls.expected_error)),
            outputs={q: {str(k): float(v) for k, v in w.items()} for q, w in table.get("outputs", {}).items()},
        )
        if not 0 <= policy.shape < 1:
            raise ValueError(f"[points] shape must be a share in [0, 1), not {policy.shape}")
        if (
            min([policy.no_mutation, policy.expected_error] + [v for w in policy.outputs.values() for v in w.values()])
            < 0
        ):
            raise ValueError("[points] weights must not be negative")
        return policy

    def to_dict(self) -> dict:
        return {
            "shape": self.shape,
            "no_mutation": self.no_mutation,
            "expected_error": self.expected_error,
            "outputs": self.outputs,
        }

    def case_weights(self, question: str, outputs: Any) -> tuple[float, dict[str, float]]:
        """(shape weight, values weight per output label) of one case of ``question``."""
        names = labels(outputs)
        relative = {lbl: self.outputs.get(question, {}).get(lbl, 1.0) for lbl in names}
        total = VALUES_WEIGHT * len(names)
        norm = sum(relative.values()) or 1.0
        values = {lbl: total * w / norm for lbl, w in relative.items()}
        return total * self.shape / (1.0 - self.shape), values

    def case_weight(self, question: str, outputs: Any) -> float:
        """What a case is worth in all: what a call that raises or hangs forfeits."""
        shape, values = self.case_weights(question, outputs)
        return shape + sum(values.values())
