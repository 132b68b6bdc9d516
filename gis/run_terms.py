"""The words of stored runs (table ``run``): their kinds and statuses, for every command
that lists or names runs.

Examples
--------
>>> RUN_STATUS.label("done"), RUN_STATUS.label("failed", "en")
('已完成', 'failed')
>>> RUN_KINDS.label("score")
'亩均效益评价'
"""

from __future__ import annotations

from gis.importing.report import TERMS_FILE
from gis.vocabulary import Vocabulary, register

_TERMS = register("gis", TERMS_FILE)
#: running, done, failed (``run.status``, gis/data/terms.yaml).
RUN_STATUS: Vocabulary = _TERMS["run.status"]
#: occupancy, score, candidates, policy … (``run.kind``).
RUN_KINDS: Vocabulary = _TERMS["run.kind"]
