"""The course on disk: an assignment folder read and checked (assignment.toml's contract, the
reference, fixtures and mistakes) and the pip requirements its extras declare."""
