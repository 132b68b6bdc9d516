"""Redevelopment areas (片区): candidates grouped for one way of revitalizing them.

Zhejiang's low-efficiency land plans group parcels into areas, each with a method
(改造提升、兼并重组、回收盘活、集聚入园、关停退出), a planned month and a target area;
the firms in class D or on inefficient land get "one firm, one plan" (一企一策).

* :mod:`.model` — pure: checking names, methods, months and targets; reclaimed area,
  progress by date, status, the firms needing a plan;
* :mod:`.polygon` — an area's outline from a polygon file, with the import's CRS checks;
* :mod:`.store` — making areas, reading them with their figures, plan notes (PostGIS);
* :mod:`.export` — areas, members, progress and plans through the one layer writer.
"""
