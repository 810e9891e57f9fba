"""Batch grading of a class: submissions graded in parallel (local processes or Dask), results
kept per submission and reused when nothing that decides them changed (fingerprint.py)."""
