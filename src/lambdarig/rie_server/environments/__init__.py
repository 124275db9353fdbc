"""Execution environments: one environment (``environment``) and its outcomes, the pool that scales
them, the process and container supervisors, memory measurement and limits, and ``/opt`` laid out
from layers.

Depends on ``runtime`` (each environment serves a Runtime API); ``invoke`` depends on it.

Imports nothing: import the modules you need (``lambdarig.rie_server.environments.<module>``).
"""
