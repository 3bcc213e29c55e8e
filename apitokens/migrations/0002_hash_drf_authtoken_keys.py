"""Move DRF authtoken keys into api_tokens, hashed, so existing clients keep working.

Each key of rest_framework.authtoken's table becomes an ApiToken with the key's SHA-256
(the same hash `apitokens.keys.key_hash` computes, repeated here as migrations must not
import app code) and the key's first 10 characters as its prefix. The clear-text rows
are then deleted: keeping them would defeat the hashing. Going backwards keeps the new
rows and cannot bring the clear keys back.
"""

import hashlib

from django.db import migrations

PREFIX_LENGTH = 10


def hash_authtoken_keys(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("apitokens", "ApiToken")
    for legacy in Token.objects.using(schema_editor.connection.alias).all().iterator():
        digest = hashlib.sha256(legacy.key.encode()).hexdigest()
        token, created = ApiToken.objects.using(schema_editor.connection.alias).get_or_create(
            key_hash=digest, defaults={"user_id": legacy.user_id, "prefix": legacy.key[:PREFIX_LENGTH]}
        )
        if created:
            # auto_now_add set it to now: keep when the key was really made.
            ApiToken.objects.using(schema_editor.connection.alias).filter(pk=token.pk).update(
                created_at=legacy.created
            )
    Token.objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("apitokens", "0001_initial"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(hash_authtoken_keys, migrations.RunPython.noop)]
