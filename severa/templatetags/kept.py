"""``{% kept "name" value … sources="app.Model …" %}…{% endkept %}``: a template fragment
rendered once and kept in the shared cache until one of the `sources` tables changes
(severa/table_versions.py), separately for each combination of the values after the name.

Everything the fragment shows must come from the values it varies on or from the declared
tables; whatever the view passes in as objects (the tenant, the user) counts as read from
their tables. Forms inside get the request's own CSRF token: the fragment is kept with a
placeholder in its place.
"""

from __future__ import annotations

import hashlib

from django import template
from django.apps import apps
from django.utils.safestring import mark_safe

from severa.table_versions import versioned_read

register = template.Library()

_CSRF_PLACEHOLDER = "keptcsrftokenplaceholder0"


class KeptNode(template.Node):
    def __init__(self, nodelist, name: str, vary: list, sources: tuple) -> None:
        self.nodelist = nodelist
        self.name = name
        self.vary = vary
        self.sources = sources

    def render(self, context) -> str:
        values = "\x1f".join(str(value.resolve(context)) for value in self.vary)
        key = f"fragment:{self.name}:{hashlib.sha256(values.encode()).hexdigest()[:32]}"
        token = context.get("csrf_token")

        def build() -> str:
            with context.push(csrf_token=_CSRF_PLACEHOLDER):
                return self.nodelist.render(context)

        html = versioned_read(key, self.sources, build)
        if token is not None:
            html = html.replace(_CSRF_PLACEHOLDER, str(token))
        return mark_safe(html)  # noqa: S308 - the fragment's own rendering, escaped there


@register.tag
def kept(parser, token):
    bits = token.split_contents()
    if len(bits) < 3 or not bits[-1].startswith("sources="):
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes a name, the values it varies on and sources="app.Model …"'
        )
    name = bits[1].strip("\"'")
    sources = tuple(
        apps.get_model(label)._meta.db_table
        for label in bits[-1].removeprefix("sources=").strip("\"'").split()
    )
    vary = [parser.compile_filter(bit) for bit in bits[2:-1]]
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(nodelist, name, vary, sources)
