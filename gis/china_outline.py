"""A coarse outline of the People's Republic of China, for *choosing*, never for mapping.

mujun needs one yes/no question answered: is this data set in China? The answer
picks the working CRS (a CGCS2000 Gauss–Krüger zone inside, UTM outside) and
whether GCJ-02/BD-09 display offsets apply. This module holds a hand-written
polygon of about 220 vertices, typed from general geographic knowledge (border
towns, passes, rivers and coastal cities), not traced from any map product.

Limitations, stated honestly:

* Land borders are accurate to roughly 20–50 km; points closer than that to a
  border may be classified wrongly. Coasts are pushed 10–30 km out to sea so
  that coastal cities and near-shore islands (Chongming, Zhoushan, Pingtan) are
  inside; sea areas near the coast (Bohai, Hangzhou Bay) are "inside" too.
* Hainan is inside. Taiwan, the South China Sea islands and far offshore
  islands are *not* (the working CRS there falls back to UTM; commercial maps
  differ in whether they offset them).
* Hong Kong and Macau are inside: the outline is too coarse to separate them.
* Disputed areas follow roughly the lines of actual control.

Do not use this outline to clip, display or measure anything.
"""

from __future__ import annotations

from functools import cache

#: Mainland China and Hainan, (lon, lat) in degrees, WGS84/CGCS2000, one ring.
#: Order: Amur eastwards, Ussuri, Tumen and Yalu rivers, the coast south-west
#: (around Hainan), the Vietnam/Laos/Myanmar borders, the Himalaya, the
#: Karakoram and Pamirs, Central Asia, Mongolia, the Argun river.
MAINLAND: tuple[tuple[float, float], ...] = (
    # Amur (Heilongjiang) from the Argun/Shilka confluence east
    (121.5, 53.3), (122.4, 53.45), (123.3, 53.56), (124.5, 53.3), (125.5, 53.05),
    (126.2, 52.5), (126.6, 51.8), (127.0, 51.0), (127.55, 50.25), (128.1, 49.55),
    (129.3, 49.4), (130.5, 48.9), (130.9, 48.1), (131.5, 47.7), (132.6, 47.75),
    (133.6, 48.2), (134.75, 48.38),
    # Ussuri, Lake Khanka, Suifenhe, Hunchun
    (134.45, 47.7), (134.15, 47.1), (134.0, 46.5), (133.5, 45.9), (133.0, 45.3),
    (132.9, 45.05), (132.0, 45.25), (131.8, 44.95), (131.25, 44.85), (131.3, 44.2),
    (131.25, 43.5), (131.25, 42.95), (130.7, 42.55), (130.6, 42.42),
    # Tumen river, Changbai mountain, Yalu river
    (130.25, 42.85), (129.9, 42.98), (129.4, 42.45), (128.9, 42.05), (128.1, 41.98),
    (128.2, 41.45), (127.3, 41.45), (126.9, 41.75), (126.2, 41.05), (125.2, 40.5),
    (124.35, 40.02),
    # Coast: Liaodong, Bohai, Shandong (vertices slightly offshore)
    (123.9, 39.5), (123.0, 39.3), (121.9, 38.75), (121.6, 38.55), (121.0, 38.6),
    (120.6, 39.4), (119.8, 39.6), (118.8, 38.85), (117.95, 38.65), (118.1, 38.1),
    (119.35, 37.95), (119.8, 37.35), (120.3, 37.85), (121.4, 37.8), (122.85, 37.45),
    (122.6, 36.85), (121.2, 36.35), (120.65, 35.9), (119.75, 35.25), (119.6, 34.65),
    # Jiangsu, Shanghai, Zhejiang, Fujian
    (120.75, 33.6), (121.65, 32.5), (122.15, 31.75), (122.25, 31.0), (122.6, 30.25),
    (122.3, 29.3), (121.95, 28.55), (121.3, 27.75), (120.7, 26.85), (120.05, 26.0),
    (120.0, 25.45), (119.1, 24.65), (118.4, 24.25), (117.6, 23.55),
    # Guangdong, around Hainan, Guangxi
    (116.85, 23.05), (115.5, 22.5), (114.5, 22.1), (113.5, 21.85), (112.5, 21.45),
    (111.5, 21.25), (110.75, 20.85), (110.65, 20.3), (111.2, 19.9), (110.7, 18.55),
    (109.6, 17.95), (108.45, 18.4), (108.4, 19.35), (109.3, 20.1), (109.55, 20.7),
    (109.0, 21.3), (108.5, 21.5), (108.0, 21.45),
    # Vietnam
    (107.4, 21.65), (106.7, 21.95), (106.65, 22.7), (105.9, 22.95), (105.3, 23.35),
    (104.8, 23.1), (104.0, 22.52), (103.3, 22.75), (102.5, 22.75), (102.15, 22.42),
    # Laos, Myanmar
    (101.75, 22.45), (101.6, 21.6), (101.2, 21.12), (100.6, 21.45), (100.15, 21.5),
    (99.95, 22.05), (99.2, 22.1), (99.5, 22.9), (98.9, 23.2), (98.75, 24.0),
    (97.75, 23.9), (97.55, 24.75), (97.8, 25.3), (98.2, 25.6), (98.7, 25.9),
    (98.65, 26.6), (98.45, 27.5), (98.3, 27.95), (97.65, 28.35), (97.35, 28.2),
    # India (roughly the line of actual control), Bhutan, Chumbi valley, Nepal
    (96.35, 29.1), (95.4, 29.05), (94.4, 29.2), (93.6, 28.65), (92.5, 27.85),
    (91.6, 27.95), (90.4, 28.25), (89.6, 28.2), (89.15, 27.35), (88.85, 27.35),
    (88.8, 27.95), (88.1, 27.9), (86.9, 27.98), (85.9, 28.2), (85.0, 28.65),
    (84.0, 29.2), (83.3, 29.5), (82.1, 30.2), (81.2, 30.1), (80.55, 30.45),
    # India (west Tibet, Aksai Chin), Karakoram
    (80.2, 30.8), (79.3, 31.0), (78.8, 31.6), (78.75, 32.5), (79.4, 32.7),
    (79.0, 33.3), (78.4, 34.0), (78.1, 34.6), (78.0, 35.3), (77.8, 35.5),
    (76.8, 35.7), (76.2, 35.85), (75.9, 36.5), (75.43, 36.85), (74.9, 37.15),
    # Tajikistan, Kyrgyzstan
    (74.9, 37.8), (74.5, 38.5), (73.8, 38.95), (73.55, 39.45), (73.93, 39.7),
    (74.8, 40.3), (75.4, 40.55), (76.5, 40.4), (77.2, 41.0), (78.3, 41.4),
    (79.4, 41.9), (80.2, 42.2),
    # Kazakhstan, the short Russian border at Kanas
    (80.3, 43.0), (80.4, 44.2), (80.8, 45.0), (82.55, 45.2), (82.4, 46.2),
    (83.0, 47.2), (85.5, 47.05), (85.7, 47.9), (86.0, 48.6), (86.8, 49.1),
    (87.35, 49.15), (87.8, 49.17),
    # Mongolia
    (88.6, 48.5), (89.5, 47.95), (90.3, 47.7), (91.0, 46.5), (90.9, 45.3),
    (93.5, 44.95), (95.4, 44.3), (96.4, 42.75), (97.2, 42.8), (100.0, 42.65),
    (101.8, 42.5), (103.7, 41.9), (105.0, 41.6), (106.8, 42.3), (108.0, 42.45),
    (109.5, 42.45), (110.5, 42.8), (111.8, 43.75), (112.8, 44.5), (113.6, 44.75),
    (114.5, 45.4), (116.0, 45.7), (116.7, 46.4), (118.0, 46.7), (119.7, 46.6),
    (119.9, 46.9), (118.5, 47.95), (117.4, 47.65), (116.2, 47.85), (115.6, 47.9),
    (116.7, 49.85),
    # Russia: Argun river
    (117.3, 49.7), (118.6, 49.95), (119.3, 50.3), (119.7, 51.3), (120.7, 52.2),
    (120.8, 52.6),
)


@cache
def china_polygon():
    """The outline as a prepared :class:`shapely.Polygon` (built once).

    Examples
    --------
    >>> round(china_polygon().bounds[0], 1), round(china_polygon().bounds[2], 1)
    (73.5, 134.8)
    """
    import shapely

    polygon = shapely.Polygon(MAINLAND)
    if not polygon.is_valid:  # a typo in the table would show up here and in the tests
        polygon = shapely.make_valid(polygon)
    shapely.prepare(polygon)
    return polygon
