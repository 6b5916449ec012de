FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core \
      gettext \
    && rm -rf /var/lib/apt/lists/*
# The app runs as an unprivileged user; it owns only var/ (media, e-invoice drop, mail).
RUN groupadd --system --gid 10001 severa \
    && useradd --system --uid 10001 --gid severa --home-dir /app --shell /usr/sbin/nologin severa
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=true python manage.py compilemessages -v0 \
    && DEBUG=true DJANGO_SETTINGS_MODULE=severa.settings.base python manage.py collectstatic --noinput -v0 \
    && mkdir -p var/media var/einvoice var/mail \
    && chown -R severa:severa var/media var/einvoice var/mail
ENV DJANGO_SETTINGS_MODULE=severa.settings.production \
    MEDIA_ROOT=/app/var/media \
    EINVOICE_DROP_DIR=/app/var/einvoice
USER severa
EXPOSE 8000
# The web server; docker-compose.yml runs the worker, beat and migrations from the same image.
CMD ["gunicorn", "severa.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2", \
     "--access-logfile", "-"]
