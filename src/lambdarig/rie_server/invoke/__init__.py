"""The Invoke API: what callers send (``input``, ``names``, ``protocol``), how outcomes are rendered
back (``protocol``), Event invocations and their retries (``async_invocations``), and the server.

Depends on ``http`` and ``environments`` (for outcome values); nothing below depends on it.

Imports nothing: import the modules you need (``lambdarig.rie_server.invoke.<module>``).
"""
