"""``python -m lambdarig.runtime_client HANDLER``: the awslambdaric-compatible entry point."""

from __future__ import annotations

import sys

from lambdarig.runtime_client.cli import main

if __name__ == "__main__":
    sys.exit(main())
