"""The path prefix of the tenant-owned resources, which the routes of every domain share
(api/<domain>/urls.py)."""

TENANT = "tenants/<int:tenant_id>"
