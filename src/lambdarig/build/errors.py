"""Exceptions raised while building or publishing layers and images.

    BuildError                  base: something we were asked to build or publish could not be
     ├── LayerLimitExceeded     a layer breaks Lambda's size limits (50 MB zipped, 250 MB unzipped)
     ├── LayerSourceError       a source file or directory is missing or unusable
     ├── DependencyError        pip could not download or a wheel could not be unpacked
     ├── ImageBuildError        the Docker engine refused or failed a build
     └── PublishError           the Lambda API refused publish_layer_version

Every message says what was expected and what arrived.
"""

from __future__ import annotations


class BuildError(Exception):
    """Base class for every build or publish failure."""


class LayerLimitExceeded(BuildError):
    """A layer zip is larger than Lambda accepts."""


class LayerSourceError(BuildError):
    """A source path given to a layer build is missing or not a regular file/directory."""


class DependencyError(BuildError):
    """Downloading or unpacking a layer's dependencies failed."""


class ImageBuildError(BuildError):
    """Building a function image failed."""


class PublishError(BuildError):
    """Publishing a layer version failed."""
