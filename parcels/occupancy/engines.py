"""Registry of occupancy engines: name -> function giving the per-parcel table.

Every engine is called as ``engine(conn, options, *, scope=None, progress=None, <its own
options>)`` and returns one row per parcel, in ``parcel_id`` order, with the columns of
:data:`parcels.occupancy.kernel.RESULT_COLUMNS`; all give the same numbers (≤ 1e-9
relative, tested). ``scope`` (:class:`parcels.surveys.SurveyScope`) says which survey
each parcel rests on: every engine computes a parcel with its own survey's footprints
only and then adds a ``survey_id`` column. An engine names its own options as keyword arguments (no catch-all),
so a misspelled or foreign option is refused with the list of the valid ones
(:func:`engine_options`). Options whose default depends on the deployment (the dask
engine's partition cache under ``<home>``) come from the engine's ``defaults`` hook, so no
caller tests which engine it runs. Engines are imported lazily so the registry is cheap.

>>> sorted(ENGINES)
['dask', 'postgis', 'vector']
>>> ENGINES["vector"].summary
'shapely kernel here, threads or worker processes'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gis.errors import ConfigError

if TYPE_CHECKING:
    from gis.settings import Settings

#: Parameters every engine takes and the runner supplies itself.
COMMON_PARAMETERS = ("conn", "options", "scope", "progress")


@dataclass(frozen=True)
class Engine:
    """One occupancy engine: where its function lives and what it is.

    Attributes
    ----------
    target : str
        ``"module:function"`` of the engine, imported on first use.
    summary : str
        One line for ``--help``.
    defaults : str, optional
        ``"module:function"`` taking the :class:`~gis.settings.Settings` and returning
        keyword defaults that depend on the deployment.
    """

    target: str
    summary: str
    defaults: str | None = None

    def load(self) -> Callable[..., Any]:
        """Import and return the engine function."""
        return _resolve(self.target)

    def settings_defaults(self, settings: Settings) -> dict[str, Any]:
        """Deployment-dependent keyword defaults (empty when the engine has none)."""
        return dict(_resolve(self.defaults)(settings)) if self.defaults else {}


#: name -> engine.
ENGINES: dict[str, Engine] = {
    "postgis": Engine("parcels.occupancy.postgis_engine:postgis_occupancy",
                      "SQL in the database"),
    "vector": Engine("parcels.occupancy.vector_engine:vector_occupancy",
                     "shapely kernel here, threads or worker processes"),
    "dask": Engine("parcels.occupancy.dask_engine:dask_occupancy",
                   "kernel per spatial partition on a dask.distributed cluster",
                   defaults="parcels.occupancy.dask_engine:settings_defaults"),
}


def _resolve(target: str) -> Callable[..., Any]:
    module, func = target.split(":")
    return getattr(importlib.import_module(module), func)


def get_engine(name: str | Callable[..., Any]) -> Callable[..., Any]:
    """Return the engine function for ``name`` (or the callable itself).

    Raises
    ------
    ConfigError
        Unknown engine; the message lists the valid ones.
    """
    if callable(name):
        return name
    try:
        return ENGINES[name].load()
    except KeyError:
        raise ConfigError(f"unknown occupancy engine {name!r}; choose one of "
                          f"{', '.join(ENGINES)}") from None


def option_names(function: Callable[..., Any]) -> tuple[str, ...]:
    """The engine's own keyword options (its parameters minus conn, options, scope,
    progress)."""
    import inspect

    return tuple(name for name, p in inspect.signature(function).parameters.items()
                 if name not in COMMON_PARAMETERS
                 and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))


def engine_options(name: str | Callable[..., Any], given: Mapping[str, Any] | None = None,
                   settings: Settings | None = None) -> dict[str, Any]:
    """The keyword arguments for one engine call: its settings defaults, then ``given``.

    ``None`` values in ``given`` mean "not given" (what a CLI passes for an unused
    option) and are dropped.

    Raises
    ------
    ConfigError
        An option the engine does not take; the message names the engine's options.

    Examples
    --------
    >>> engine_options("postgis", {"workers": 2, "processes": None})
    {'workers': 2}
    >>> engine_options("postgis", {"processes": 2})
    Traceback (most recent call last):
    ...
    gis.errors.ConfigError: occupancy engine 'postgis' takes no option 'processes'; its options: workers
    """
    function = get_engine(name)
    accepted = option_names(function)
    out: dict[str, Any] = {}
    if settings is not None and isinstance(name, str):
        out.update(ENGINES[name].settings_defaults(settings))
    for key, value in (given or {}).items():
        if value is None:
            continue
        if key not in accepted:
            label = name if isinstance(name, str) else getattr(name, "__name__", "engine")
            raise ConfigError(f"occupancy engine {label!r} takes no option {key!r}; its "
                              f"options: {', '.join(accepted) or 'none'}")
        out[key] = value
    return out
