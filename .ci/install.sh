#!/usr/bin/env bash
# Install everything deepgrade needs on a fresh Debian machine (run as root, or with sudo
# available for the Debian packages): bubblewrap for the sandbox, Chromium for the report
# rendering test, and a virtual environment .venv with deepgrade and its dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
if [ ${#want[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${want[@]}" >/dev/null; }; then
    echo "warning: could not install ${want[*]}; deepgrade falls back to process isolation without bubblewrap" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[keras,reports,student,cluster,dev]"
echo "installed: $(.venv/bin/deepgrade --version 2>/dev/null || echo deepgrade) in .venv" >&2
