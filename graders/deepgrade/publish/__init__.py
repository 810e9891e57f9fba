"""What leaves the course: the student copy (public checks) and the Gradescope autograder."""
