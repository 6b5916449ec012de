from django.db import models


class IdempotencyKey(models.Model):
    """A POST's ``Idempotency-Key`` and the response it produced, kept for a day.

    ``owner`` names whom the key belongs to (``tenant:12``, ``partner:3`` or ``user:7``) so the
    same key string from two tenants never collides.
    """

    owner = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    is_complete = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} {self.key}"
