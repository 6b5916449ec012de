FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
      gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=true python manage.py compilemessages -v0 \
    && DEBUG=true DJANGO_SETTINGS_MODULE=severa.settings.base python manage.py collectstatic --noinput -v0
EXPOSE 8000
