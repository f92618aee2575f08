# st-mcp's streamable HTTP server. Build: docker build -t st-mcp .   Run with PostgreSQL: compose.yaml.
# The server listens on 0.0.0.0 inside the container, which it refuses to do without [auth]: mount a
# config file with API keys or a JWKS and point ST_MCP_CONFIG at it (compose.yaml does). Nothing secret
# is baked into the image; credentials arrive as environment variables or mounted files at run time.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY prompts ./prompts
RUN pip wheel --no-cache-dir --disable-pip-version-check --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin st-mcp
USER st-mcp
WORKDIR /home/st-mcp
EXPOSE 8000
# Liveness only (/healthz): readiness (/readyz: the store and ServiceTitan) is the orchestrator's probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["st-mcp"]
CMD ["serve", "--transport", "http", "--host", "0.0.0.0", "--port", "8000", "--stateless"]
