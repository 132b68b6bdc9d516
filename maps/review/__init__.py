"""The review web app: officials decide on land-reclamation candidates on a map.

A floor of its own above :mod:`maps` (nothing else in ``maps`` imports it), laid out as
Starlette/FastAPI apps are:

* ``app`` — :func:`~maps.review.app.create_app` (the factory) and its settings;
* ``middleware`` — security every request passes through: headers, NUL characters,
  body-size limits, session, CSRF and the route's permission;
* ``routing`` — route tables: each route states its permission once;
* ``routes/`` — endpoints by resource: ``pages``, ``candidates``, ``decisions``,
  ``notes`` (and photos), ``tiles``, ``exports``;
* ``web`` — what endpoints share (errors, the per-request transaction, JSON bodies);
  ``uploads`` — multipart bodies read part by part with a limit per photo;
* ``server`` / ``asgi`` — uvicorn with several worker processes (``mujun serve``);
* ``cli/`` — the ``mujun serve`` and ``mujun user`` commands;

and the concerns below the web layer: ``auth`` (sessions, CSRF tokens, login throttling),
``passwords``, ``users`` (for ``mujun user``, as the database owner), ``permissions``,
``store`` (the pool of ``mujun_app`` connections with the session set for row-level
security), ``queries``/``detail`` (the SQL), ``photos``, ``notes``, ``exports``, ``chips``.

See docs/review.md.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
