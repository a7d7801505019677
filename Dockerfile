# ceasefire-monitor service image.
#   Build: docker build -t ceasefire-monitor .
#   Run:   docker compose up -d      (see docker-compose.yml), or
#          docker run -d -v monitor-data:/app/data -v "$PWD/config:/app/config:ro" -e TELEGRAM_BOT_TOKEN ceasefire-monitor
# The install and start steps are scripts/start.sh, which CI runs too (scripts/start.sh smoke).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    MONITOR_CONFIG=/app/config/monitor.yaml MONITOR_HEALTH_URL=http://127.0.0.1:9108/healthz
WORKDIR /app

# Dependencies first, in their own cached layer: only pyproject/constraints changes rebuild it.
COPY pyproject.toml constraints.txt README.md ./
COPY scripts/install.sh scripts/start.sh scripts/
RUN mkdir -p monitor && touch monitor/__init__.py && scripts/start.sh install

COPY monitor monitor
COPY config config
COPY run_monitor.py ./
RUN scripts/start.sh install \
 && useradd --system --uid 10001 --home /app monitor \
 && mkdir -p /app/data && chown monitor /app/data
USER monitor
# SQLite lives here; the config folder is meant to be mounted read-only over /app/config.
VOLUME ["/app/data"]

# /healthz listens on 127.0.0.1:9108 inside the container (health.host/port in the config).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/app/scripts/start.sh", "healthcheck"]
# SIGTERM: the service finishes the delivery in flight and exits within 10 s.
STOPSIGNAL SIGTERM
CMD ["/app/scripts/start.sh", "run"]
