# ceasefire-monitor service image. Build: docker build -t ceasefire-monitor .
# Run:   docker run -d -v monitor-data:/app/data -v "$PWD/config:/app/config:ro" \
#          -e TELEGRAM_BOT_TOKEN ceasefire-monitor
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VENV=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, in their own cached layer: only pyproject/constraints changes rebuild it.
COPY pyproject.toml constraints.txt README.md ./
COPY scripts/install.sh scripts/install.sh
RUN mkdir -p monitor && touch monitor/__init__.py && scripts/install.sh

COPY monitor monitor
COPY config config
COPY run_monitor.py ./
RUN scripts/install.sh \
 && useradd --system --uid 10001 --home /app monitor \
 && mkdir -p /app/data && chown monitor /app/data
USER monitor
VOLUME ["/app/data"]

STOPSIGNAL SIGTERM
CMD ["monitor", "run", "--config", "/app/config/monitor.yaml"]
