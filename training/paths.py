"""Where training reads and writes: the checkout and the shared data beside it (one place).

``AKHBAR_SHARED_DATA`` points at another copy of the shared data. Training
runs from a checkout only; the installed package never imports it.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AKHBAR_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data").resolve()
MODELS = REPO_ROOT / "models"
BUILD = REPO_ROOT / "build"
