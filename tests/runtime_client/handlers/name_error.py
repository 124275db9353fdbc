"""A module that fails at import with a NameError."""


def helper():
    return undefined_name


helper()
