"""Entry point of ``python -m feature_jobs``."""

import sys

from feature_jobs.cli import main

sys.exit(main())
