"""Land status: idle, unfinished, inefficient and built-but-unused land, as candidates.

A floor of its own above the scoring core (which never imports it); it renders nothing
(the report's workbook and the one-page sheet are written by :mod:`maps`).

* :mod:`.vocabulary` — the words of land status (kinds, statuses, reason codes, sort keys,
  rules, evidence fields), registered in :mod:`gis.vocabulary` from ``data/terms.yaml``;
* :mod:`.rules_config` — the validated YAML rule set (defaults from DOMAIN.md §3);
* :mod:`.dates` — legal periods in years (Civil Code counting, 29 February);
* :mod:`.checks`, :mod:`.ranking`, :mod:`.evidence`, :mod:`.rules` — the kernel: checks per
  kind, certainty and priority, the stored evidence, the run over every parcel;
* :mod:`.facts` — reads those facts from PostGIS (tool);
* :mod:`.run` — a stored rules run: candidates created, refreshed or closed;
* :mod:`.lifecycle` — decisions on candidates (the review app calls the same functions);
* :mod:`.exemptions` — parcels exempted from the idle kinds;
* :mod:`.approvals` — approved conversions, through the shared import pipeline;
* :mod:`.store` — reading candidates back (ranked list, one with its history);
* :mod:`.explain` — the evidence in words (app, sheet and ``candidates show``);
* :mod:`.report` — the tables of the ranked workbook;
* :mod:`.cli` — the ``mujun candidates`` commands.
"""
