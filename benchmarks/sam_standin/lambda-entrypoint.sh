#!/bin/sh
# /lambda-entrypoint.sh of the stand-in image, following AWS's base-image convention: the handler
# is the only argument; without AWS_LAMBDA_RUNTIME_API, start the emulator sam adds to the image
# (/var/rapid/aws-lambda-rie) in front of /var/runtime/bootstrap, else the bootstrap directly.
if [ $# -ne 1 ]; then
    echo "entrypoint requires the handler name to be the first argument" 1>&2
    exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec /var/rapid/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap
