"""TensorFlow imported without its start-up log lines on the instructor's terminal.

TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's C++ INFO and WARNING lines, but only once its
logging is initialised: the lines it writes while loading ("All log messages before
absl::InitializeLog() ...", "oneDNN custom operations are on ...") go to file descriptor 2
regardless. So the import runs with descriptor 2 captured, and every captured line that is
not such an INFO line is written back (an import error or a real warning still shows).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import tempfile

# what TensorFlow writes to stderr while it loads: absl's banner, then glog-style INFO lines
# ("I0000 00:00:1796410274.261312   15043 port.cc:153] oneDNN custom operations are on ...")
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|I\d{4} [\d:.]+\s+\d+ \S+:\d+\] .*"
    r"|To enable the following instructions: .*)$"
)


def tensorflow_environment() -> None:
    """Before TensorFlow is imported: its C++ log at ERROR and above only (an instructor's own
    setting wins)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def import_tensorflow() -> None:
    """Import TensorFlow now, with its loading noise filtered; nothing if it is imported already
    or not installed (the code that needs it then says so on its own import)."""
    tensorflow_environment()
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except Exception:  # noqa: S110 - the caller's own import raises it again, with our stderr back
            pass
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode("utf-8", errors="replace")
    kept = [line for line in text.splitlines(keepends=True) if not NOISE.match(line.rstrip("\n"))]
    if kept:
        sys.stderr.write("".join(kept))
