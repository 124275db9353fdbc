# lambdarig function image, awslambdaric variant: AWS's awslambdaric stays the runtime; lambdarig adds
# only its emulator for local runs. Both live in one environment (/var/runtime: packages `awslambdaric`
# and `lambdarig`, no clash). Build it with
#   lambdarig image build CODE_DIR --tag T --variant awslambdaric
# which prepares the same offline context as lambdarig.Dockerfile, with awslambdaric and its
# dependencies added to runtime-wheels/.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS install
# Every image of this stage carries the build's label: lambdarig image build removes them (and only
# them) once the function image is built, so no dangling stage image is left behind.
ARG LAMBDARIG_BUILD=unlabelled
LABEL org.lambdarig.build=${LAMBDARIG_BUILD}
ARG PYTHON=python3
COPY lambdarig-context/ /build/
RUN mkdir -p /out/var/runtime /out/var/task \
 && ${PYTHON} /build/install_wheels.py /build/runtime-wheels /out/var/runtime \
 && ${PYTHON} /build/install_wheels.py /build/function-wheels /out/var/task \
 && cp -r /build/lambdarig /out/var/runtime/lambdarig \
 && cp /build/lambda-entrypoint.sh /out/lambda-entrypoint.sh \
 && chmod 0755 /out/lambda-entrypoint.sh \
 && mkdir -p /out/usr/local/bin \
 && cp /build/lambdarig/build/image_files/aws-lambda-rie /out/usr/local/bin/aws-lambda-rie \
 && chmod 0755 /out/usr/local/bin/aws-lambda-rie

FROM ${BASE_IMAGE}
ARG PYTHON_VERSION=3.12
ENV LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime \
    LANG=C.UTF-8 \
    TZ=:UTC \
    PYTHONPATH=/var/task:/opt/python/lib/python${PYTHON_VERSION}/site-packages:/opt/python:/var/runtime \
    LAMBDARIG_RUNTIME_MODULE=awslambdaric
COPY --from=install /out/ /
COPY function/ /var/task/
WORKDIR /var/task
ARG LAMBDARIG_BUILD=unlabelled
LABEL org.lambdarig.build=${LAMBDARIG_BUILD}
ENTRYPOINT ["/lambda-entrypoint.sh"]
CMD ["app.handler"]
