"""Before `make test`: do PostgreSQL and Redis answer at DATABASE_URL and REDIS_URL?

Prints what to do instead of a page of tracebacks from every test (README, top)."""

import os
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

HINT = (
    "make test needs PostgreSQL and Redis: see the README's first section (Debian packages, "
    "and DATABASE_URL with a password for Debian's default authentication)."
)


def main() -> int:
    database_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    failures = []
    # The server, not the database: the tests create their own.
    server = urlunsplit(urlsplit(database_url)._replace(path="/postgres"))
    try:
        psycopg.connect(server, connect_timeout=5).close()
    except psycopg.Error as error:
        failures.append(f"PostgreSQL at {urlsplit(database_url).hostname}: {error}".strip())
    try:
        redis.Redis.from_url(redis_url, socket_timeout=5).ping()
    except redis.RedisError as error:
        failures.append(f"Redis at {redis_url}: {error}")
    for failure in failures:
        print(failure, file=sys.stderr)
    if failures:
        print(HINT, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
