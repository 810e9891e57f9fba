#!/usr/bin/env bash
# Install everything, then batch-grade the bundled example class of CNN submissions and
# print the gradebook. Reports land in grades/ (final_grades.csv, feedback/, summary).
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install.sh
.venv/bin/python examples/make_class.py examples/class
.venv/bin/deepgrade grade cnn examples/class --out grades
