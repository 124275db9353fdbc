class InitFailure(Exception):
    pass


def _load():
    raise InitFailure("cannot load configuration ✓")


_load()
