"""Grading one submission: its notebook read, the calls planned, the sandbox run, each question
scored against the reference and the catalogued mistakes into a SubmissionResult."""
