"""Standard land (标准地): plots on offer, their control indicators, and contracts checked.

A floor of its own above :mod:`scoring.land_status`: reclaimed land (an approved
candidate) or new land becomes a **plot** (:mod:`.plots`) with control indicators from
a per-industry table (:mod:`.indicators`), moves through the status pipeline
(:mod:`.pipeline`: 储备 → … → 出让 → 合同 → 开工 → 竣工 → 投产 → 达产复核 → 履约/违约),
inherits the area-wide assessments (区域评估, :mod:`.assessments`) it lies in, and
carries the supply information a firm asks for. Its **contract** (:mod:`.contracts`) is
checked against each new survey and score run (:mod:`.check`); a breach becomes a
land-status candidate of kind ``contract_breach`` through the land-status writer
(:mod:`scoring.land_status.external`). Words: :mod:`.vocabulary`. See docs/supply.md.
"""
