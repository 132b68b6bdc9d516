"""The review web app: officials decide on land-reclamation candidates on a map.

Layout (tools apart from kernels, as elsewhere in mujun):

* ``passwords`` — Argon2 hashing and the password rule (pure);
* ``users`` — user management for ``mujun user`` (runs as the database owner);
* ``permissions`` — roles and what each may do (mirrors ``app_role_permission``);
* ``store`` — the app's connection pool and per-request transactions as ``mujun_app``,
  with the session token set for row-level security;
* ``auth`` — sessions, CSRF tokens, login rate limiting;
* ``queries`` — the SQL of lists, details, tiles and GeoJSON (parameters only);
* ``photos`` — field-check photo validation (type, size, re-encoding);
* ``exports`` — decisions to XLSX / GeoPackage;
* ``app`` — the Starlette application (routes, security headers) served by uvicorn.

See docs/review.md.
"""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())
