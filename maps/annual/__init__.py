"""The annual report (亩均评价年度报告): ``mujun report annual --year Y -o FILE.docx|.pdf``.

Split by job, so the figures can be checked without a document:

* :mod:`~maps.annual.figures` — pure: the year's figures from DataFrames (totals, classes
  and their change, trends, candidates by kind);
* :mod:`~maps.annual.gather` — the tool: picks the stored runs of the year and reads
  them (score, previous year's score, occupancy, candidates, policy, land-tax base),
  calling the lower floors' kernels (:mod:`scoring.rank`, :mod:`scoring.parks`,
  :mod:`scoring.land_tax`, :mod:`scoring.policy.summary`);
* :mod:`~maps.annual.charts` — the charts (matplotlib) and the class map
  (:mod:`maps.figure`) as PNG images;
* :mod:`~maps.annual.content` — the report as blocks (headings, paragraphs, tables,
  images) in Chinese, shared by both renderers;
* :mod:`~maps.annual.render_pdf` and :mod:`~maps.annual.render_docx` — the documents;
* :mod:`~maps.annual.write` — :func:`~maps.annual.write.write_annual`, stage by stage,
  written atomically.
"""
