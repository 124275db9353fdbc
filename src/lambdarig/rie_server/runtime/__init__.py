"""The Runtime API the runtime process talks to: its sans-IO protocol (``protocol``), the state of
one environment's invocations (``generation``, ``lifecycle``) and the server.

Depends on ``http``; ``environments`` depends on it.

Imports nothing: import the modules you need (``lambdarig.rie_server.runtime.<module>``).
"""
