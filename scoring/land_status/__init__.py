"""Land-status candidates: idle, unfinished, inefficient and built-but-unused land.

* :mod:`.rules_config` — the validated YAML rule set (defaults from DOMAIN.md §3);
* :mod:`.dates` — legal periods in years (Civil Code counting, 29 February);
* :mod:`.rules` — pure rules over a per-parcel frame of facts (kernel);
* :mod:`.facts` — reads those facts from PostGIS (tool);
* :mod:`.run` — a stored rules run: candidates created, refreshed or closed;
* :mod:`.lifecycle` — decisions on candidates (the review app calls the same function);
* :mod:`.exemptions` — parcels exempted from the idle kinds;
* :mod:`.store` — reading candidates back (ranked list, one with its history);
* :mod:`.report`, :mod:`.sheet` — the ranked workbook and the one-page 核查表.
"""
