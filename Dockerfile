# storepush in a container: `docker build -t storepush .`, then
#   docker run --rm -e STOREPUSH_BAZAAR_TOKEN -v "$PWD:/work" storepush bazaar publish app.apk
# Built from the wheel of this checkout (storepush is not on the package index). `nox -s docker`
# builds and smoke-runs it where a container engine works.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the wheel of this checkout, and wheels of everything it needs -----------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
RUN python -m pip install "build>=1.2" \
    && python -m build --wheel --outdir /dist . \
    && python -m pip wheel --wheel-dir /wheels "$(ls /dist/storepush-*.whl)[cli]"

# --- runtime: a virtualenv installed from those wheels only, run by a non-root user -------------
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PATH=/opt/storepush/bin:$PATH
COPY --from=build /wheels /wheels
RUN python -m venv /opt/storepush \
    && /opt/storepush/bin/pip install --no-index --find-links /wheels "storepush[cli]" \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin storepush
USER storepush
WORKDIR /work
ENTRYPOINT ["storepush"]
CMD ["--help"]
