"""HTTP/1.1 for the emulator's servers: a sans-IO parser (``parser``) held to h11's
strictness, and an asyncio server (``server``) on top of it. Knows nothing of Lambda.

Imports nothing: import the modules you need (``lambdarig.rie_server.http.<module>``).
"""
