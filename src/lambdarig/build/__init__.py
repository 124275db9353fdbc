"""Build what ships: reproducible layer zips, function container images, published layer versions.

Modules: ``layers`` (reproducible zips, the runtime-client layer, Lambda's size limits), ``deps``
(dependency layers from requirements.txt via ``pip download``), ``wheels`` (a stdlib-only wheel
unpacker, also copied into image build contexts), ``images`` (docker SDK builds), ``publish``
(boto3 ``publish_layer_version``). Errors: ``lambdarig.build.errors``.
"""

from __future__ import annotations
