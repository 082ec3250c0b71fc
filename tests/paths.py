"""The checkout the tests run in (one place)."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
