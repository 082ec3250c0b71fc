"""``python -m akhbar`` is the ``akhbar`` command."""
import sys

from akhbar.cli import main

sys.exit(main())
