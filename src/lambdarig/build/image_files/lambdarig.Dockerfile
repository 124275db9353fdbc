# lambdarig function image: lambdarig's runtime client as the runtime, its emulator for local runs.
# Build it with `lambdarig image build CODE_DIR --tag T`, which prepares the context offline:
#   function/                 the function code (-> /var/task)
#   lambdarig-context/        lambdarig/ (the package), runtime-wheels/ (the emulator's dependencies),
#                             function-wheels/ (requirements.txt), install_wheels.py, lambda-entrypoint.sh
# Nothing is fetched from inside the build: wheels come from the host (pip download --platform ...).
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
# As Lambda orders sys.path: task root, layers (/opt), the runtime.
ENV LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime \
    LANG=C.UTF-8 \
    TZ=:UTC \
    PYTHONPATH=/var/task:/opt/python/lib/python${PYTHON_VERSION}/site-packages:/opt/python:/var/runtime
COPY --from=install /out/ /
COPY function/ /var/task/
WORKDIR /var/task
ARG LAMBDARIG_BUILD=unlabelled
LABEL org.lambdarig.build=${LAMBDARIG_BUILD}
ENTRYPOINT ["/lambda-entrypoint.sh"]
CMD ["app.handler"]
