"""What the instructor reads: per-student reports and annotated notebooks, the class summary,
the gradebook exports and the similarity report."""
