# tcup: run the OpenStack interop tests against a cloud, report compliance, upload the results.
#
#   docker build -t tcup .
#   mkdir -p out
#   docker run --rm --network host --user "$(id -u):$(id -g)" \
#       -e OS_AUTH_URL=... -e OS_USERNAME=... -e OS_PASSWORD -e OS_PROJECT_NAME=... \
#       -v "$PWD/accounts.yaml:/run/tcup/accounts.yaml:ro" -v "$PWD/out:/out" \
#       tcup run --guideline 2020.06 --target platform --accounts-file /run/tcup/accounts.yaml --output /out
#   docker run --rm --network none tcup --self-check
#
# A normal Dockerfile for users (python:3.11-slim from Docker Hub) that also builds on a machine
# without Docker Hub: CI passes --build-arg BASE_IMAGE=local/python:3.11. No "# syntax=" line, which
# would make BuildKit pull a frontend image.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CACHE_HOME=/var/cache/tcup \
    TCUP_GUIDELINES_DIR=/guidelines

# Tempest and its pins first: this layer only changes when the pins do.
COPY tcup/data/tempest-constraints.txt /opt/tcup/tempest-constraints.txt
RUN python -m pip install -c /opt/tcup/tempest-constraints.txt tempest stestr \
    && python -c "import tempest, stestr"

WORKDIR /opt/tcup/src
COPY pyproject.toml README.md ./
COPY interop_model ./interop_model
COPY tcup ./tcup
# The base package is the runner: no Flask, SQLAlchemy or pandas in this image (scoring/ and
# webapp/ are not copied, so they are not installed either).
RUN python -m pip install -c /opt/tcup/tempest-constraints.txt . \
    && python -m pip check \
    && python -m compileall -q /opt/tcup/src

# A non-root user; the cache (the pre-built index of Tempest's tests, stestr timing data) is
# writable by any uid, so `docker run --user "$(id -u):$(id -g)"` works too.
RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin tcup \
    && mkdir -p /var/cache/tcup /guidelines /out \
    && chown tcup:tcup /out /var/cache/tcup
USER tcup
RUN tcup self-check && chmod -R a+rwX /var/cache/tcup
WORKDIR /out

ENTRYPOINT ["tcup"]
CMD ["--help"]
