"""Read the environment in one place.

Every variable has a safe local default; README.md lists the production values.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_env_file() -> None:
    """Read `.env` (or OPSCONSOLE_ENV_FILE; empty for none) into the environment, below real variables.

    So `make run`'s three processes and any `manage.py` command run from a plain shell see
    the same configuration: a command that lacked a variable the worker had once refused a
    loopback target and failed a message for good.
    """
    path = os.environ.get("OPSCONSOLE_ENV_FILE", str(BASE_DIR / ".env"))
    if path and Path(path).is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


_load_env_file()
VAR_DIR = Path(os.environ.get("OPSCONSOLE_VAR_DIR", BASE_DIR / "var")).resolve()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name} must be a boolean (1/0, true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_umask() -> int:
    """OPSCONSOLE_UMASK as an octal number (default 077: files 0600, folders 0700)."""
    raw = os.environ.get("OPSCONSOLE_UMASK", "").strip()
    if not raw:
        return 0o077
    try:
        value = int(raw, 8)
    except ValueError as exc:
        raise ValueError(f"OPSCONSOLE_UMASK must be an octal number such as 077, got {raw!r}") from exc
    if not 0 <= value <= 0o777:
        raise ValueError(f"OPSCONSOLE_UMASK must be between 000 and 777, got {raw!r}")
    return value


def restrict_new_files() -> int:
    """Make what this process creates private to its user: set the umask, return it.

    var/ holds the SQLite database (tokens, channel secrets, password hashes) with its WAL and
    SHM files, export files, mail, broker messages, the cache and the secret key. Setting the
    umask once at start-up covers every writer at once, including SQLite, kombu and Django's
    file-based mail and cache backends, which take no mode argument.
    """
    mask = env_umask()
    os.umask(mask)
    return mask


def tighten_var_permissions(root: Path | None = None, *, umask: int | None = None) -> list[Path]:
    """Remove the bits `umask` forbids from everything under `root` (default var/); return what changed.

    For a var/ made before file modes were restricted (files 0644, folders 0755). Symbolic
    links are neither followed nor changed.
    """
    root = VAR_DIR if root is None else root
    mask = env_umask() if umask is None else umask
    changed: list[Path] = []
    if not root.is_dir() or root.is_symlink():
        return changed
    for folder, dirnames, filenames in os.walk(root):
        for name in [".", *dirnames, *filenames]:
            path = Path(folder) if name == "." else Path(folder, name)
            try:
                info = path.lstat()
            except FileNotFoundError:  # a broker message consumed meanwhile
                continue
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = stat.S_IMODE(info.st_mode)
            if mode & mask:
                path.chmod(mode & ~mask)
                changed.append(path)
    return changed


_RATE = re.compile(r"^\d+/(s|sec|m|min|h|hour|d|day)$")


def env_rate(name: str, default: str) -> str | None:
    """A DRF throttle rate such as `120/min` (s, min, hour, day); `off` (or empty) for none."""
    raw = os.environ.get(name, default).strip().lower()
    if raw in ("", "off", "0", "none"):
        return None
    if not _RATE.match(raw):
        raise ValueError(f"{name} must be a rate such as 120/min (per s, min, hour or day) or off, got {raw!r}")
    return raw


def var_path(*parts: str) -> Path:
    """Return a path under var/, creating its parent folder."""
    path = VAR_DIR.joinpath(*parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/ (0600)."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = var_path("secret-key")
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(50)
    # Web, worker and beat start together: write a private temp file and link it
    # into place, so a reader never sees a half-written key and only one key wins.
    tmp = path.with_name(f".secret-key.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    try:
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return key


_SOURCE_VARIABLE = re.compile(r"^OPSCONSOLE_SOURCE_(?P<name>[A-Z][A-Z0-9_]*)_URL$")


def env_sources() -> dict[str, dict[str, object]]:
    """`OPSCONSOLE_SOURCE_<NAME>_URL` (+ `_READONLY`) -> {"<name>": {"URL": ..., "READ_ONLY": ...}}.

    A source is a database of the service OpsConsole runs beside (sources/ app); its name is
    the `<NAME>` part in lower case.
    """
    found: dict[str, dict[str, object]] = {}
    for variable, value in sorted(os.environ.items()):
        match = _SOURCE_VARIABLE.match(variable)
        if not match or not value.strip():
            continue
        upper = match["name"]
        found[upper.lower()] = {
            "URL": value.strip(),
            "READ_ONLY": env_bool(f"OPSCONSOLE_SOURCE_{upper}_READONLY", False),
        }
    return found


# --- Sources: each a database alias `source_<name>` (sources/ app) ------------------------------

SOURCE_ALIAS_PREFIX = "source_"
SOURCE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def source_alias(name: str) -> str:
    return f"{SOURCE_ALIAS_PREFIX}{name}"


def source_database_settings(url: str, *, read_only: bool) -> dict[str, Any]:
    """Django DATABASES entry for a source URL (PostgreSQL or SQLite).

    A SQLite source is opened with `mode=rw` (`ro` when read-only): a missing file is an
    error, never an empty database created in its place. A read-only PostgreSQL source gets
    `default_transaction_read_only`, so the server itself refuses writes.
    """
    import dj_database_url

    config: dict[str, Any] = dj_database_url.parse(url, conn_max_age=0)
    engine = config["ENGINE"]
    options = config.setdefault("OPTIONS", {})
    if engine.endswith("sqlite3"):
        path = str(config["NAME"])
        config["NAME"] = f"file:{path}?mode={'ro' if read_only else 'rw'}"
        options.setdefault("timeout", 20)
        if not read_only:  # the relay reads then deletes: take the write lock at BEGIN
            options.setdefault("transaction_mode", "IMMEDIATE")
    elif engine.endswith("postgresql"):
        options.setdefault("connect_timeout", 5)
        if read_only:
            options["options"] = (options.get("options", "") + " -c default_transaction_read_only=on").strip()
    else:
        raise ValueError(f"source URL {url.split(':', 1)[0]}:… is not PostgreSQL or SQLite")
    config["TEST"] = {"MIRROR": None, "NAME": None, "MIGRATE": False}
    return config


def source_databases(sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The DATABASES entries of every configured source, by alias."""
    databases = {}
    for name, source in sources.items():
        if not SOURCE_NAME_PATTERN.match(name):
            raise ValueError(f"source name {name!r}: lower-case letters, digits and _ only")
        databases[source_alias(name)] = source_database_settings(
            str(source["URL"]), read_only=bool(source.get("READ_ONLY"))
        )
    return databases
