"""A SAM project, read as values: ``load_project(template) -> Project``.

Template mode needs the optional extra ``lambdarig[sam]`` (PyYAML and AWS's
``aws-sam-translator``, which applies Globals and the implicit APIs as ``sam`` does). Importing
this package is cheap: the template modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lambdarig.project.errors import ProjectError
    from lambdarig.project.model import Function, HttpRoute, Layer, Project
    from lambdarig.project.template import load_project

__all__ = ["Function", "HttpRoute", "Layer", "Project", "ProjectError", "load_project"]

_HOMES = {
    "ProjectError": "lambdarig.project.errors",
    "Function": "lambdarig.project.model",
    "HttpRoute": "lambdarig.project.model",
    "Layer": "lambdarig.project.model",
    "Project": "lambdarig.project.model",
    "load_project": "lambdarig.project.template",
}


def __getattr__(name: str) -> object:
    if name not in _HOMES:
        raise AttributeError(f"module 'lambdarig.project' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
