"""The entry uvicorn's worker processes import: the app built from the environment."""

from __future__ import annotations

import json
import os


def app_from_environment():
    """:func:`maps.review.app.create_app` with the settings ``mujun serve`` put in
    :data:`maps.review.server.ENV_SETTINGS`."""
    from gis.errors import ConfigError
    from maps.review.app import ReviewSettings, create_app
    from maps.review.server import ENV_SETTINGS

    raw = os.environ.get(ENV_SETTINGS)
    if not raw:
        raise ConfigError(f"{ENV_SETTINGS} is not set: start the review app with `mujun serve`")
    return create_app(ReviewSettings(**json.loads(raw)))
