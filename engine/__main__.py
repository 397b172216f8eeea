"""``python -m engine`` is the ``stepstone`` command."""
import sys

from engine.cli import main

sys.exit(main())
