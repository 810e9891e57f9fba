"""The resource limits of one submission's sandbox, as isolation.py (which applies them) and
identity.py (which sets the rlimits in the child) name them, so neither imports the other.

There is one limits type, ``course.contract.Limits``: assignment.toml's ``[limits]`` is read
into it, with the engine's defaults for what the toml does not set."""

from __future__ import annotations

from ..course.contract import Limits

__all__ = ["Limits"]
