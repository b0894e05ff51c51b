"""``python -m boards.baselines [--update]``: show or regenerate the synthesis baselines."""

import sys

from boards.baselines import main

sys.exit(main())
