"""The top-level ``tcup`` options."""

from __future__ import annotations

import subprocess
import sys


def test_self_check_needs_no_cloud() -> None:
    proc = subprocess.run([sys.executable, "-m", "tcup", "--self-check"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-check: all checks passed" in proc.stdout
    assert "ok   tempest: tempest 47.0.0" in proc.stdout
