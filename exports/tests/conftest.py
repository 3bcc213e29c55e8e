"""Export tests write to their own storage and temp folders."""

import pytest


@pytest.fixture(autouse=True)
def export_storage(settings, tmp_path):
    """MEDIA_ROOT and the export temp folder under the test's tmp_path; returns both."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    temp = tmp_path / "export-tmp"
    settings.EXPORTS = {**settings.EXPORTS, "TEMP_DIR": str(temp)}
    return {"media": tmp_path / "media", "temp": temp}


def files_under(path):
    """Every file below `path` (none when it does not exist)."""
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
