"""The invoice fonts' fixed weights, made ahead when `serve` starts, so that the first PDF of
a language does not wait minutes for them.

In a process of its own, at low priority: instancing is pure Python for minutes (CJK), and
in a thread of the server it held the GIL so that every request ran three times slower
(bench/dashboard.py: 3.3 to 1.2 requests/s). A process that stops mid-build leaves no font
behind: each copy is written whole, then renamed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def prepare_in_background(fonts_dir: Path) -> subprocess.Popen[bytes]:
    """Start making every weight the installed packages give (nothing if all are made);
    the caller terminates it at shutdown."""
    return subprocess.Popen(  # noqa: S603  (our own module, with a path we own)
        [sys.executable, "-m", "portal_gateway.documents.fonts", str(fonts_dir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        process_group=0,  # a Ctrl-C in the terminal is the server's to handle, not its
    )
