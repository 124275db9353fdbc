"""Exceptions raised while reading a SAM / CloudFormation project.

    ProjectError            base: the template cannot be run locally as written (user's fault)
     ├── TemplateError      the file is missing, not YAML/JSON, or not a valid SAM template
     ├── UnresolvableError  a value the local run needs cannot be resolved locally
     └── MissingExtraError  template mode needs ``lambdarig[sam]`` (PyYAML, aws-sam-translator)

Every message is one line that says what was expected, what arrived, and where in the template.
"""

from __future__ import annotations


class ProjectError(Exception):
    """Base class for every error raised on purpose by ``lambdarig.project``."""


class TemplateError(ProjectError):
    """The template file is missing, unparsable, or not a valid SAM template."""


class UnresolvableError(ProjectError):
    """A value needed to run a function locally cannot be resolved without AWS."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where


class MissingExtraError(ProjectError):
    """The optional dependencies of template mode are not installed."""
