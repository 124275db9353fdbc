"""``python -m lambdarig.rie_server [flags] [CMD ARGS...]`` (same as ``lambdarig-rie``)."""

from __future__ import annotations

import os
import sys

# ``python -m`` puts the current directory first on the import path, and the emulator is often
# started from the function's directory, whose modules (a ``json.py``, an ``http/`` package)
# must not replace the emulator's own. The runtime it starts gets that directory as usual.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from lambdarig.rie_server.cli import main  # noqa: E402 (after the import path is fixed)

if __name__ == "__main__":
    sys.exit(main())
