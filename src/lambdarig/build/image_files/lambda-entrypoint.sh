#!/bin/sh
# /lambda-entrypoint.sh of lambdarig function images, following AWS's base-image convention:
#   docker run IMAGE [HANDLER]   (the image's CMD is the handler, e.g. app.handler)
# - AWS_LAMBDA_RUNTIME_API unset (local `docker run -p 9000:8080 IMAGE`): start lambdarig's emulator
#   on 0.0.0.0:8080 in front of the runtime client;
# - AWS_LAMBDA_RUNTIME_API set (on Lambda, or `lambdarig serve --image`): run the runtime client.
# The runtime client is lambdarig's, or the module named by LAMBDARIG_RUNTIME_MODULE (awslambdaric).
set -eu
if [ $# -ne 1 ]; then
    echo "lambda-entrypoint.sh: expected the handler as the only argument (the image's CMD, e.g. app.handler), got $# arguments" >&2
    exit 142
fi
export _HANDLER="$1"
python="${LAMBDARIG_PYTHON:-python3}"
module="${LAMBDARIG_RUNTIME_MODULE:-lambdarig.runtime_client}"
if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    exec "$python" -m lambdarig.rie_server "$python" -m "$module" "$_HANDLER"
fi
exec "$python" -m "$module" "$_HANDLER"
