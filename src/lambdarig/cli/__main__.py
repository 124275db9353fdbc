from __future__ import annotations

import sys

from lambdarig.cli import main

sys.exit(main())
