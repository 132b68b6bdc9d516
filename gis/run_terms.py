"""The words of stored runs (table ``run``): their statuses, for every command that lists runs.

Examples
--------
>>> RUN_STATUS.label("done"), RUN_STATUS.label("failed", "en")
('已完成', 'failed')
"""

from __future__ import annotations

from gis.importing.report import TERMS_FILE
from gis.vocabulary import Vocabulary, register

#: running, done, failed (``run.status``, gis/data/terms.yaml).
RUN_STATUS: Vocabulary = register("gis", TERMS_FILE)["run.status"]
