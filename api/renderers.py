"""Downloads: a view that answers a document's bytes (a PDF, an e-invoice's XML) lets the
client ask for them by `Accept`, and still answers its errors as JSON (api/errors.py)."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response


class _BytesRenderer(BaseRenderer):
    """The view returns the bytes itself; the renderer only names their media type."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PDFRenderer(_BytesRenderer):
    """Lets a client ask for `Accept: application/pdf`."""

    media_type = "application/pdf"
    format = "pdf"


class XMLRenderer(_BytesRenderer):
    """Lets a client ask for `Accept: application/xml`."""

    media_type = "application/xml"
    format = "xml"


# No docstrings on the mixins and bases of views and serializers: drf-spectacular documents a
# view (a serializer) with the first docstring of its classes, which is part of the schema.


class ErrorsAsJSONMixin:
    # For a view whose `renderer_classes` are `[JSONRenderer, <a document renderer>]`: errors
    # are JSON even when the client asked for the document.

    def finalize_response(self, request, response, *args, **kwargs):
        if isinstance(response, Response):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
