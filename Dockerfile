# ceasefire-monitor service image.
#   Build: docker build -t ceasefire-monitor .
#   Run:   docker compose up -d      (see docker-compose.yml), or
#          docker run -d -v monitor-data:/app/data -v "$PWD/config:/app/config:ro" -e TELEGRAM_BOT_TOKEN ceasefire-monitor
# The install and start steps are scripts/start.sh, which CI runs too (scripts/start.sh smoke).
FROM python:3.11-slim
# EXTRAS=postgres adds the PostgreSQL store and the engine of `monitor worker` (docker-compose.yml builds with it).
ARG EXTRAS=""

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    MONITOR_CONFIG=/app/config/monitor.yaml
WORKDIR /app

# Dependencies first, in their own cached layer: only pyproject.toml, constraints.txt or install.sh
# changes rebuild it (the project itself, README included, is installed after its files are copied).
COPY pyproject.toml constraints.txt ./
COPY scripts/install.sh scripts/
RUN scripts/install.sh deps

COPY README.md ./
COPY scripts scripts
COPY monitor monitor
COPY config config
COPY run_monitor.py ./
RUN scripts/start.sh install \
 && useradd --system --uid 10001 --home /app monitor \
 && mkdir -p /app/data && chown monitor /app/data
USER monitor
# SQLite lives here; the config folder is meant to be mounted read-only over /app/config.
VOLUME ["/app/data"]

# /healthz listens where health.host/port in $MONITOR_CONFIG say (127.0.0.1:9108 by default); the check asks there.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/app/scripts/start.sh", "healthcheck"]
# SIGTERM: the service finishes the delivery in flight and exits within 10 s.
STOPSIGNAL SIGTERM
CMD ["/app/scripts/start.sh", "run"]
