#!/usr/bin/env bash
# docker-compose.yml's services without Docker: migrate, web (gunicorn + its healthcheck),
# worker and beat, with production settings against the local PostgreSQL and Redis
# (COMPOSE_CHECK_DATABASE_URL, a database it re-creates, and COMPOSE_CHECK_REDIS_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" scripts/check_compose.py
