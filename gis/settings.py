"""Settings, declared once with default, type, help and validation.

Each setting can come from (highest precedence first):

1. an explicit override passed to :func:`load_settings` (the CLI uses this);
2. the environment variable ``MUJUN_<NAME>`` (e.g. ``MUJUN_DSN``);
3. the settings file: ``$MUJUN_SETTINGS`` or ``<home>/settings.yaml``;
4. the declared default.

Secrets (a DSN password) belong in the environment or in ``~/.pgpass``,
never in a committed file. ``mujun`` refuses to print a DSN with its password.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gis.errors import ConfigError

#: The repository root when mujun runs from a checkout (editable install).
_REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_home() -> str:
    if (_REPO_ROOT / "pyproject.toml").exists():
        return str(_REPO_ROOT / ".mujun")
    return str(Path.home() / ".mujun")


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def _as_port(value: Any) -> int:
    port = int(value)
    if port != 0 and not 1024 <= port <= 65535:
        raise ValueError("expected 0 (pick a free port) or a port in 1024-65535")
    return port


def _as_workers(value: Any) -> int:
    number = int(value)
    if not 0 <= number <= 64:
        raise ValueError("expected 0 (one per CPU core) or a number of processes up to 64")
    return number


def _as_crs(value: Any) -> str | None:
    if value in (None, "", "auto"):
        return None
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    return text


def _as_positive_float(value: Any) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("expected a positive number")
    return number


def _as_fraction(value: Any) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError("expected a fraction between 0 and 1")
    return number


def _as_nonnegative_float(value: Any) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError("expected a number >= 0")
    return number


def _choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        text = str(value).strip().lower()
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return convert


def _as_networks(value: Any) -> tuple[str, ...]:
    """Comma-separated IP addresses or networks (a list in the settings file)."""
    import ipaddress

    items = value.split(",") if isinstance(value, str) else list(value or ())
    return tuple(str(ipaddress.ip_network(str(item).strip(), strict=False))
                 for item in items if str(item).strip())


def _as_names(value: Any) -> tuple[str, ...] | None:
    """Comma-separated names (a list in the settings file); None or empty for none chosen."""
    if value in (None, ""):
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(item).strip() for item in items if str(item).strip()) or None


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


@dataclass(frozen=True)
class Setting:
    """One declared setting."""

    name: str
    default: Any
    convert: Callable[[Any], Any]
    help: str

    @property
    def env(self) -> str:
        """Name of the environment variable that sets it."""
        return "MUJUN_" + self.name.upper()


#: Every setting mujun knows, in the order ``mujun settings`` lists them.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        "home",
        None,
        lambda v: str(Path(v).expanduser()),
        "State directory: local PostGIS cluster, logs, caches. Default: .mujun/ in the repository.",
    ),
    Setting(
        "dsn",
        None,
        _optional_str,
        "libpq connection string of an existing PostGIS database. When set, no local cluster is started.",
    ),
    Setting(
        "db_port",
        0,
        _as_port,
        "TCP port of the local cluster on 127.0.0.1; 0 picks a free port once and keeps it.",
    ),
    Setting("db_name", "mujun", str, "Database name inside the local cluster."),
    Setting(
        "db_user",
        "mujun",
        str,
        "Unprivileged system user that runs the local server when mujun runs as root.",
    ),
    Setting(
        "working_crs",
        None,
        _as_crs,
        "Projected CRS for storage and areas (e.g. EPSG:4549). Default: chosen from the data (CGCS2000 3-degree zone in China, UTM elsewhere).",
    ),
    Setting(
        "storey_height_m",
        3.5,
        _as_positive_float,
        "Storey height used to derive storeys from building height.",
    ),
    Setting(
        "height_threshold_m",
        2.5,
        _as_positive_float,
        "Height above ground that counts as a building in the nDSM method.",
    ),
    Setting(
        "area_basis",
        "measured",
        _choice("measured", "certificate"),
        "Land area used for per-mu figures: measured parcel area or certificate area.",
    ),
    Setting(
        "tenant_rule",
        "leased_land",
        _choice("leased_land", "floor_pro_rata", "merge_with_holder"),
        "How tenants get land from a parcel they lease.",
    ),
    Setting(
        "min_overlap_ratio",
        0.5,
        _as_fraction,
        "A footprint counts toward a parcel's building count only when at least this share of it lies inside.",
    ),
    Setting(
        "sliver_tolerance_m",
        2.0,
        _as_nonnegative_float,
        "Footprint parts whose mean width is below this (metres) inside a neighbouring parcel are "
        "misregistration, not building (footprints are often shifted by a metre or two).",
    ),
    Setting("progress", True, _as_bool, "Show progress bars on a terminal."),
    Setting(
        "app_dsn",
        None,
        _optional_str,
        "libpq connection string the review app (`mujun serve`) uses, as a restricted role "
        "subject to row-level security. Default: the role mujun_app on the mujun database, "
        "with a generated password kept in <home>/app.pgpass.",
    ),
    Setting("serve_host", "127.0.0.1", str,
            "Address `mujun serve` binds to (loopback unless told otherwise)."),
    Setting("serve_port", 8000, _as_port, "TCP port of `mujun serve`."),
    Setting("trusted_proxies", None, _as_networks,
            "Addresses (or networks, e.g. 10.0.0.5,10.1.0.0/16) of reverse proxies in front of "
            "`mujun serve`. Only for a request from one of them is the client address taken "
            "from X-Forwarded-For (for login throttling and the audit log). Default: none."),
    Setting("session_hours", 8.0, _as_positive_float,
            "Lifetime of a review-app login session, in hours."),
    Setting("photo_max_mb", 8.0, _as_positive_float,
            "Largest field-check photo the review app accepts, in MiB."),
    Setting("request_max_kb", 1024.0, _as_positive_float,
            "Largest request body the review app reads, in KiB (field-note uploads: six photos "
            "of photo_max_mb plus 1 MiB); larger bodies are refused with 413 while they stream in."),
    Setting("enterprise_panels", None, _as_names,
            "Panels of the enterprise file (`mujun enterprise show|sheet`, the review app's "
            "enterprise page), e.g. history,per_mu,land,candidates; the header is always "
            "shown. Default: every panel (header, history, per_mu, land, imagery, figures, "
            "warnings, candidates, policies, appeals)."),
    Setting("serve_workers", 0, _as_workers,
            "Worker processes of `mujun serve` (0: one per CPU core this process may use)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Use :func:`load_settings` to build one."""

    values: Mapping[str, Any]
    origins: Mapping[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def home_path(self) -> Path:
        """The state directory as a :class:`~pathlib.Path`."""
        return Path(self.values["home"])

    def replace(self, **changes: Any) -> Settings:
        """Return a copy with some values replaced (validated)."""
        values = dict(self.values)
        origins = dict(self.origins)
        for name, raw in changes.items():
            values[name] = _convert(_lookup(name), raw, "override")
            origins[name] = "override"
        return Settings(values, origins)


def _lookup(name: str) -> Setting:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ConfigError(
            f"unknown setting {name!r}; known settings: {', '.join(_BY_NAME)}"
        ) from None


def _convert(setting: Setting, raw: Any, origin: str) -> Any:
    if raw is None:
        return None
    try:
        return setting.convert(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {setting.name} from {origin}: {exc} (got {raw!r})") from exc


def _read_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read settings file: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: settings file must be a mapping of name: value")
    return data


def dsn_has_password(dsn: str) -> bool:
    """True when a DSN carries a password: ``password=...`` or ``postgresql://user:secret@host``.

    Examples
    --------
    >>> dsn_has_password("postgresql://u:secret@db/mujun"), dsn_has_password("host=db password=x")
    (True, True)
    >>> dsn_has_password("postgresql://u@db/mujun"), dsn_has_password("host=db user=u")
    (False, False)
    """
    import re

    if re.search(r"(^|\s)password\s*=", dsn, re.I):
        return True
    if re.search(r"[?&]password=", dsn, re.I):
        return True
    match = re.match(r"^\s*postgres(?:ql)?://([^@/?#]*)@", dsn, re.I)
    return bool(match and ":" in match.group(1))


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve every setting from overrides, environment, settings file and defaults.

    Parameters
    ----------
    overrides : mapping, optional
        Values that win over everything else (``None`` values are ignored).
    environ : mapping, optional
        Environment to read; defaults to :data:`os.environ`.

    Returns
    -------
    Settings

    Raises
    ------
    ConfigError
        An unknown setting name in the settings file, or a value that does not validate.

    Examples
    --------
    >>> s = load_settings({"db_name": "test"}, environ={})
    >>> s.db_name, s.area_basis
    ('test', 'measured')
    """
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    for name in overrides:
        _lookup(name)

    home_raw = overrides.get("home") or env.get("MUJUN_HOME") or _default_home()
    file_path = (
        Path(env["MUJUN_SETTINGS"])
        if env.get("MUJUN_SETTINGS")
        else Path(home_raw).expanduser() / "settings.yaml"
    )
    file_values: dict[str, Any] = {}
    if env.get("MUJUN_SETTINGS") or file_path.exists():
        if not file_path.exists():
            raise ConfigError(f"MUJUN_SETTINGS points to {file_path}, which does not exist")
        file_values = _read_file(file_path)
        for name in file_values:
            if name not in _BY_NAME:
                raise ConfigError(
                    f"{file_path}: unknown setting {name!r}; known settings: {', '.join(_BY_NAME)}"
                )
        secret = [key for key in ("dsn", "app_dsn") if file_values.get(key) and (
            dsn_has_password(str(file_values[key])) or "password" in str(file_values[key]))]
        if secret:
            raise ConfigError(
                f"{file_path}: do not store database passwords in the settings file "
                f"({', '.join(secret)} holds one); use MUJUN_DSN or ~/.pgpass"
            )

    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for s in SETTINGS:
        if s.name in overrides:
            raw, origin = overrides[s.name], "override"
        elif s.env in env:
            raw, origin = env[s.env], f"${s.env}"
        elif s.name in file_values:
            raw, origin = file_values[s.name], str(file_path)
        elif s.name == "home":
            raw, origin = home_raw, "default"
        else:
            raw, origin = s.default, "default"
        values[s.name] = _convert(s, raw, origin)
        origins[s.name] = origin
    return Settings(values, origins)
