from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """Every list in the API: `?limit=` (default 50) and `?offset=`.

    Without a cap, `?limit=99999999999999999999` reached PostgreSQL as LIMIT and failed with
    "bigint out of range" (a 500). A larger limit is served as this one.
    """

    max_limit = 500
