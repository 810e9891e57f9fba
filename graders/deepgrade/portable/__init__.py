"""The code that runs outside the grader: in the sandbox and in the student's copy.

Every module here is shipped as a whole, never picked file by file:

- the sandbox receives every module over a pipe (``sandbox._bundle``); the last of
  ``MODULES``, ``worker.py``, runs as ``__main__``, and the others are importable there as
  plain top-level modules named after their files (``isolation.BOOT``), run when imported;
- the student's copy is this folder, copied as ``_deepgrade_check/deepgrade/portable/`` next to the notebook
  (``publish.student.make_student_copy``), where ``grader.check`` runs ``student_runner.check``.

The rule that makes this possible (tests/engine/portable/test_portable.py proves it): a module here
imports only numpy, the standard library and its siblings, never the rest of deepgrade.
Siblings are imported relatively, with a plain-import fallback for the sandbox, where
there is no package:

    try:
        from . import wire
    except ImportError:  # the sandbox: plain modules
        import wire

``MODULES`` lists every module of this folder (``__init__.py`` aside), the sandbox's
``__main__`` last; a new module goes into this list (the test fails otherwise).
"""

MODULES = (
    "case.py",
    "status.py",
    "wire.py",
    "outputs.py",
    "compare.py",
    "policy.py",
    "spec.py",
    "feedback.py",
    "judge.py",
    "scoring.py",
    "dependencies.py",
    "call_runner.py",
    "student_runner.py",
    "worker.py",
)
