"""``python -m sweepnb``: the ``sweepnb`` command."""

import sys

from sweepnb.cli import main

if __name__ == "__main__":
    sys.exit(main())
