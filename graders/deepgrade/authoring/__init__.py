"""Writing and checking an assignment: notebooks built from the reference, new exercises
scaffolded, the catalogue of mistakes validated, keras thresholds calibrated."""
