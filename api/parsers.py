"""The API's JSON parser: a body nested deeper than ``MAX_JSON_DEPTH`` is a 400, never a
``RecursionError`` (a 500) in the parser or in whatever walks the data afterwards (the
idempotency fingerprint, serializers)."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No body of this API nests more than a few levels; 32 leaves room and stays far below
# Python's recursion limit.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: object, limit: int) -> bool:
    """Whether ``data`` nests lists and objects more than ``limit`` levels (iterative, so
    measuring never recurses)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise too_deep
        return data
