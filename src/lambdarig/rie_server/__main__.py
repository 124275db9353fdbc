"""``python -m lambdarig.rie_server [flags] [CMD ARGS...]`` (same as ``lambdarig-rie``)."""

from __future__ import annotations

import sys

from lambdarig.rie_server.cli import main

if __name__ == "__main__":
    sys.exit(main())
