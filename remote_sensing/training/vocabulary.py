"""The words of model training, registered in the one vocabulary (:mod:`gis.vocabulary`).

Examples
--------
>>> STOPPED.label("time_limit")
'达到时长上限'
"""

from __future__ import annotations

from pathlib import Path

from gis.vocabulary import Vocabulary, register

#: Where the terms are written.
TERMS_FILE = Path(__file__).resolve().parent / "terms.yaml"

_TERMS = register("remote_sensing.training", TERMS_FILE)

#: Why training stopped (the card's ``training.stopped``).
STOPPED: Vocabulary = _TERMS["training.stopped"]
