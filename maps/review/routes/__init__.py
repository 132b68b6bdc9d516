"""The review app's routes, one module per resource, each with its :class:`RouteTable`:

* ``pages`` — login, logout and the map page;
* ``candidates`` — the candidate API (options, lists, GeoJSON, detail, snapshots, chips);
* ``decisions`` — single and bulk decisions;
* ``notes`` — field-check notes and their photos;
* ``tiles`` — vector tiles;
* ``exports`` — decisions as XLSX / GeoPackage;
* ``appeals`` — appeals (申诉): list, detail with history, record, decide;
* ``compare`` — the comparison page of two score runs and its data;
* ``enterprises`` — the enterprise page (一企一档);
* ``supply`` — the supply page: plots and areas to follow, plot edits for planners.
"""

#: The resource modules, in the order their routes are tried.
MODULES = ("pages", "candidates", "decisions", "notes", "tiles", "exports", "appeals",
           "compare", "enterprises", "supply")
