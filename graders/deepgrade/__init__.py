"""deepgrade: the autograder's engine.

The subpackages, low layer to high (a module imports only from its own layer or lower ones;
tests/engine/test_layers.py checks it): portable/ (ships to the sandbox and the student copy),
settings.py and quiet.py, course/, sandbox/, grading/, reports/, batch/, publish/, authoring/,
cli.py.
"""

from __future__ import annotations


def __getattr__(name: str) -> str:
    # __version__ read from the installed metadata when asked for, so that importing a
    # subpackage (every sandbox worker does) costs no metadata scan
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("deepgrade")
        except metadata.PackageNotFoundError:  # a bare source tree, never installed
            return "unknown"
    raise AttributeError(f"module 'deepgrade' has no attribute {name!r}")
