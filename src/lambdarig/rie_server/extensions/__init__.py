"""The Extensions API (``/2020-01-01/extension/``) of an execution environment.

``protocol`` (sans-IO routing, validation, exact replies), ``state`` (sans-IO registry of one
environment's extensions), ``backend`` (the asyncio side: long polls, waits), ``host`` (finding
and starting ``/opt/extensions/*``), ``phases`` (the end of an invoke for the extensions, the
shutdown phase's order and deadlines). Imports nothing itself.
"""
