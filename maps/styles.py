"""Colours per layer and class, shared by the web maps, the QGIS styles and the review app.

One table, three consumers: :mod:`maps.web` colours features with
:meth:`LayerStyle.colour_for`, :mod:`maps.qml` turns the same :class:`LayerStyle`
into a QGIS style stored in a GeoPackage's ``layer_styles`` table (and as a ``.qml``
beside a Shapefile), and the review app reads :func:`style_json`. Change a colour
here and every map, export and page follows.

A style is *categorized* (one colour per value of a field: classes A–D/T,
candidate kinds and statuses, GB/T 4754 industry divisions), *graduated* (colour
ramps over class breaks of a number, e.g. tax per mu split by mapclassify) or
*single* (one colour: footprints).

Examples
--------
>>> style_for("classes").colour_for("A")
'#1a9850'
>>> style_for("classes").label_for("D", "en")
'class D (to restructure)'
>>> graduated("per_mu", "tax_per_mu", [1.0, 5.0, 10.0]).colour_for(3.0)
'#fd8d3c'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Literal

from gis.errors import ConfigError
from scoring.land_status.vocabulary import KINDS as LAND_KINDS
from scoring.land_status.vocabulary import STATUSES as LAND_STATUSES
from scoring.vocabulary import CLASSES as CLASS_TERMS
from scoring.vocabulary import LAND_TAX_STATUS, SHIFTS

Lang = Literal["zh", "en"]
#: Colour of features whose value has no category (unknown industry, no class).
OTHER_COLOUR = "#bdbdbd"
#: Outline of polygons on maps and in QGIS.
OUTLINE_COLOUR = "#4d4d4d"


@dataclass(frozen=True)
class Category:
    """One value of a categorized style with its colour and labels."""

    value: str
    colour: str
    zh: str
    en: str

    def label(self, lang: Lang = "zh") -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class LayerStyle:
    """How one layer is drawn: the same object drives web maps, figures and QGIS styles.

    Attributes
    ----------
    layer : str
        Layer (or map kind) name.
    kind : {"categorized", "graduated", "single"}
    field : str or None
        Attribute the colour depends on.
    categories : tuple of Category
        For ``categorized``.
    breaks : tuple of float
        Upper bounds of the classes for ``graduated`` (the last is the maximum).
    colours : tuple of str
        One colour per break (``graduated``) or the single colour (``single``).
    geometry : {"polygon", "point"}
    opacity : float
        Fill opacity (0–1).
    """

    layer: str
    kind: Literal["categorized", "graduated", "single"]
    field: str | None = None
    categories: tuple[Category, ...] = ()
    breaks: tuple[float, ...] = ()
    colours: tuple[str, ...] = ()
    geometry: Literal["polygon", "point"] = "polygon"
    opacity: float = 0.75
    outline: str = OUTLINE_COLOUR
    title: dict[str, str] = dc_field(default_factory=dict)
    lower: float | None = None

    def colour_for(self, value: Any) -> str:
        """Colour of a feature with this ``field`` value."""
        if self.kind == "single":
            return self.colours[0]
        if self.kind == "categorized":
            key = "" if value is None else str(value).strip()
            for cat in self.categories:
                if cat.value == key:
                    return cat.colour
            return OTHER_COLOUR
        try:
            number = float(value)
        except (TypeError, ValueError):
            return OTHER_COLOUR
        if number != number:  # NaN
            return OTHER_COLOUR
        for upper, colour in zip(self.breaks, self.colours, strict=True):
            if number <= upper:
                return colour
        return self.colours[-1]

    def label_for(self, value: Any, lang: Lang = "zh") -> str:
        """Legend label of a category value (the value itself when unknown)."""
        for cat in self.categories:
            if cat.value == str(value):
                return cat.label(lang)
        return str(value)

    def legend(self, lang: Lang = "zh", values: Iterable[Any] | None = None,
               digits: int = 1) -> list[tuple[str, str]]:
        """``(colour, label)`` rows for a legend, in display order.

        ``values`` limits a categorized legend to the values present on the map.
        """
        if self.kind == "single":
            return [(self.colours[0], self.title.get(lang, self.layer))]
        if self.kind == "categorized":
            present = None if values is None else {str(v) for v in values}
            rows = [(c.colour, c.label(lang)) for c in self.categories
                    if present is None or c.value in present]
            if present is not None and present - {c.value for c in self.categories}:
                rows.append((OTHER_COLOUR, "其他" if lang == "zh" else "other"))
            return rows
        rows = []
        lower = self.lower
        for upper, colour in zip(self.breaks, self.colours, strict=True):
            low = "" if lower is None else f"{lower:,.{digits}f}"
            rows.append((colour, f"{low} – {upper:,.{digits}f}" if low else f"≤ {upper:,.{digits}f}"))
            lower = upper
        return rows

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able), for pages and the review app."""
        return {
            "layer": self.layer, "kind": self.kind, "field": self.field,
            "categories": [c.__dict__ for c in self.categories],
            "breaks": list(self.breaks), "colours": list(self.colours),
            "geometry": self.geometry, "opacity": self.opacity, "outline": self.outline,
            "title": dict(self.title), "other": OTHER_COLOUR,
        }


# --------------------------------------------------------------------------- palettes

#: Colours of the enterprise classes (亩均 evaluation): A best … D worst, T not evaluated;
#: labels and order come from :data:`scoring.vocabulary.CLASSES` (``none`` is drawn as
#: "no data", not as a class).
CLASS_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#d73027", "T": "#9e9e9e"}


#: Colours of land-status candidate kinds; labels and order come from the vocabulary.
CANDIDATE_KIND_COLOURS = {
    "idle_not_started": "#d7191c", "idle_stalled": "#fdae61", "unfinished": "#f781bf",
    "inefficient": "#2c7bb6", "built_unused": "#7b3294", "approved_unsupplied": "#a6611a",
    "contract_breach": "#1b7837",
}

#: Colours of class shifts between two score runs (``mujun map compare``); labels and
#: order come from :data:`scoring.vocabulary.SHIFTS`.
SHIFT_COLOURS = {
    "up": "#1a9850", "down": "#d73027", "same": "#e0e0e0", "entered": "#4575b4",
    "left": "#7b3294", "t_change": "#fdae61",
}

#: Colours of the land-tax findings (``report land-tax``); labels and order come from
#: :data:`scoring.vocabulary.LAND_TAX_STATUS` (most urgent first).
LAND_TAX_COLOURS = {
    "unregistered": "#b2182b", "untaxed_land": "#f4a582", "over_taxed": "#4393c3",
    "matched": "#d9f0d3",
}

#: Colours of candidate review statuses; labels and order come from the vocabulary.
CANDIDATE_STATUS_COLOURS = {
    "new": "#e41a1c", "under_review": "#ff7f00", "field_check": "#ffd92f",
    "confirmed": "#984ea3", "approved": "#4daf4a", "rejected": "#999999", "closed": "#377eb8",
}


def vocabulary_categories(vocab: Iterable[Any], colours: dict[str, str]) -> tuple[Category, ...]:
    """Categories of a vocabulary's terms (labels and order from it), coloured by code."""
    return tuple(Category(t.code, colours.get(t.code, OTHER_COLOUR), t.zh, t.en) for t in vocab)


#: Enterprise classes (the ``scoring.class`` vocabulary).
CLASS_CATEGORIES: tuple[Category, ...] = vocabulary_categories(
    [t for t in CLASS_TERMS if t.code in CLASS_COLOURS], CLASS_COLOURS)

#: Land-status candidate kinds (the ``land_status.kind`` vocabulary).
CANDIDATE_KIND_CATEGORIES: tuple[Category, ...] = vocabulary_categories(
    LAND_KINDS, CANDIDATE_KIND_COLOURS)

#: Review status of a candidate (the ``land_status.status`` vocabulary).
CANDIDATE_STATUS_CATEGORIES: tuple[Category, ...] = vocabulary_categories(
    LAND_STATUSES, CANDIDATE_STATUS_COLOURS)

#: How a holder's class moved between two runs (the ``scoring.shift`` vocabulary).
SHIFT_CATEGORIES: tuple[Category, ...] = vocabulary_categories(SHIFTS, SHIFT_COLOURS)

#: The land-tax finding of a parcel's holder (the ``scoring.land_tax_status`` vocabulary).
LAND_TAX_CATEGORIES: tuple[Category, ...] = vocabulary_categories(LAND_TAX_STATUS,
                                                                  LAND_TAX_COLOURS)

#: 31 manufacturing divisions (GB/T 4754-2017, 13–43) get distinct colours;
#: mining, utilities and the rest share a colour per section.
_DIVISION_COLOURS = (
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#bcbd22",
    "#dbdb8d", "#17becf", "#9edae5", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173",
    "#5254a3", "#8ca252", "#bd9e39", "#ad494a", "#a55194", "#6b6ecf", "#e7ba52",
)
_SECTION_COLOURS = {"B": "#6d4c41", "D": "#455a64", "E": "#90a4ae"}

#: Sequential ramps for graduated styles (ColorBrewer YlOrRd, 3–7 classes).
RAMP = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026", "#800026")
#: Heat map gradient (low → high).
HEAT_GRADIENT = {0.2: "#2c7bb6", 0.4: "#abd9e9", 0.6: "#ffffbf", 0.8: "#fdae61", 1.0: "#d7191c"}
#: Footprints (single colour).
FOOTPRINT_COLOUR = "#ef6c00"
#: Town outlines/aggregates.
TOWN_COLOUR = "#3949ab"


def ramp(n: int) -> tuple[str, ...]:
    """``n`` colours of the sequential ramp (1 ≤ n ≤ 7), light to dark."""
    if not 1 <= n <= len(RAMP):
        raise ConfigError(f"a graduated style has 1 to {len(RAMP)} classes, not {n}")
    picks = {1: [4], 2: [1, 5], 3: [1, 3, 5], 4: [0, 2, 4, 5], 5: [0, 1, 3, 4, 5],
             6: [0, 1, 2, 3, 4, 5], 7: list(range(7))}[n]
    return tuple(RAMP[i] for i in picks)


def industry_categories() -> tuple[Category, ...]:
    """One category per GB/T 4754-2017 division of sections B–E (key: 2-digit division)."""
    from parcels.industry import divisions_2017, section_of

    cats = []
    manufacturing = 0
    for code, name in sorted(divisions_2017().items()):
        section = section_of(code)
        if section == "C":
            colour = _DIVISION_COLOURS[manufacturing % len(_DIVISION_COLOURS)]
            manufacturing += 1
        elif section in _SECTION_COLOURS:
            colour = _SECTION_COLOURS[section]
        else:
            continue
        cats.append(Category(code, colour, f"{code} {name}", f"division {code}"))
    return tuple(cats)


def categorized(layer: str, field_name: str, categories: Sequence[Category], *,
                title: dict[str, str], geometry: Literal["polygon", "point"] = "polygon",
                opacity: float = 0.75) -> LayerStyle:
    """A categorized style."""
    return LayerStyle(layer, "categorized", field_name, tuple(categories), geometry=geometry,
                      opacity=opacity, title=title)


def graduated(layer: str, field_name: str, breaks: Sequence[float], *,
              title: dict[str, str] | None = None, lower: float | None = None,
              geometry: Literal["polygon", "point"] = "polygon") -> LayerStyle:
    """A graduated style over class upper bounds ``breaks`` (from mapclassify)."""
    breaks = tuple(float(b) for b in breaks)
    if not breaks:
        raise ConfigError(f"{layer}: a graduated style needs at least one class break")
    return LayerStyle(layer, "graduated", field_name, breaks=breaks, colours=ramp(len(breaks)),
                      title=title or {"zh": field_name, "en": field_name}, lower=lower,
                      geometry=geometry)


def single(layer: str, colour: str, title: dict[str, str], *,
           geometry: Literal["polygon", "point"] = "polygon", opacity: float = 0.6) -> LayerStyle:
    """One colour for every feature."""
    return LayerStyle(layer, "single", None, colours=(colour,), title=title, geometry=geometry,
                      opacity=opacity)


# --------------------------------------------------------------------------- registry

def _industry() -> LayerStyle:
    return categorized("industry", "division", industry_categories(),
                       title={"zh": "产业门类（GB/T 4754-2017 大类）",
                              "en": "Industry (GB/T 4754-2017 division)"})


def _classes() -> LayerStyle:
    return categorized("classes", "class", CLASS_CATEGORIES,
                       title={"zh": "亩均效益评价等级", "en": "Per-mu evaluation class"})


def _class_shift() -> LayerStyle:
    return categorized("class_shift", "shift", SHIFT_CATEGORIES,
                       title={"zh": "评价等级变化", "en": "Class change"})


def _land_tax() -> LayerStyle:
    return categorized("land_tax", "status", LAND_TAX_CATEGORIES,
                       title={"zh": "土地使用税核查结果", "en": "Land-use tax check"})


def _candidates() -> LayerStyle:
    return categorized("candidates", "kind", CANDIDATE_KIND_CATEGORIES,
                       title={"zh": "存量用地盘活候选（类型）", "en": "Land candidates (kind)"})


def _land_status() -> LayerStyle:
    return categorized("land_status", "status", CANDIDATE_STATUS_CATEGORIES,
                       title={"zh": "候选地块处置状态", "en": "Candidate review status"})


def _footprints() -> LayerStyle:
    return single("footprints", FOOTPRINT_COLOUR, {"zh": "建筑轮廓", "en": "Building footprints"})


def _parcels() -> LayerStyle:
    return graduated("parcels", "coverage", (0.15, 0.3, 0.45, 0.6, 1.0),
                     title={"zh": "建筑系数", "en": "Building coverage"}, lower=0.0)


def _towns() -> LayerStyle:
    return graduated("towns", "tax_per_mu", (5.0, 10.0, 20.0, 40.0, 1e9),
                     title={"zh": "镇街亩均税收（万元/亩）", "en": "Town tax per mu (10k yuan/mu)"},
                     lower=0.0)


#: Layer or map kind name -> style factory. Layer exports and maps look styles up here.
STYLES: dict[str, Callable[[], LayerStyle]] = {
    "industry": _industry,
    "classes": _classes,
    "enterprises": _classes,
    "class_shift": _class_shift,
    "land_tax": _land_tax,
    "land-tax": _land_tax,
    "candidates": _candidates,
    "land_status": _land_status,
    "land-status": _land_status,
    "footprints": _footprints,
    "parcels": _parcels,
    "towns": _towns,
}


def style_for(name: str) -> LayerStyle:
    """The default style of a layer or map kind.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the known ones).
    """
    try:
        factory = STYLES[name]
    except KeyError:
        raise ConfigError(f"no style for layer {name!r}; known: {', '.join(sorted(STYLES))}") \
            from None
    return factory()


def style_json() -> dict[str, dict[str, Any]]:
    """Every default style as plain data (for the review app's JavaScript)."""
    return {name: style_for(name).as_dict() for name in STYLES}
