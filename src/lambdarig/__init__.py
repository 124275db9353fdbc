"""lambdarig: run, test and ship AWS Lambda functions exactly as Lambda runs them.

Importing this package must stay cheap: the runtime client's cold start imports it.
"""

from __future__ import annotations

__version__ = "0.1.0"
