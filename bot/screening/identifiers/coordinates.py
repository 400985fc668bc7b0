"""Real coordinate columns: precise latitude / longitude / whole-point columns, never percentages
or counts."""

from __future__ import annotations

import re

from .common import to_ascii_digits

_PCT_HEADER = re.compile(
    r"(?i)%|\b(?:pct|percent\w*|per ?cent|rate|share|ratio|proportion|prop|prevalence|"
    r"coverage|score|index|avg|average|mean|median)\b"
)
_COUNT_HEADER = re.compile(
    r"(?i)\b(?:number|num|no|count|total|sum|qty|quantity|people|persons|population|hh|"
    r"households|amount|price|cost|value|usd|mmk|kyat|age|weight|height|year)\b|#"
)
_LAT_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:(\[])(?:lat|latitude|latitud|gps_?lat\w*|y|y_?coord\w*|lat_?dd)"
    r"(?:$|[\s_\-./:)\]])|_gps_latitude|latitude"
)
_LON_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:(\[])(?:lon|lng|long|longitude|longitud|gps_?lon\w*|x|x_?coord\w*|"
    r"long?_?dd)(?:$|[\s_\-./:)\]])|_gps_longitude|longitude"
)
_POINT_HEADER = re.compile(
    r"(?i)(?:^|[\s_\-./:])(?:location|geopoint|geo_?point|_?geolocation|gps|coordinates?|"
    r"coords?|geometry|latlon|lat_?long|lat_?lng|point)(?:$|[\s_\-./:])"
)
_FLOATV = re.compile(r"^[-+]?(\d{1,3})(?:\.(\d+))?$")
_FLOATS = re.compile(r"[-+]?\d{1,3}(?:\.\d+)?")
_MM_LAT = (9.5, 28.6)
_MM_LON = (92.1, 101.2)


def _dec(v: str) -> tuple[float, int] | None:
    m = _FLOATV.match(v.strip())
    if not m:
        return None
    return float(v), len(m.group(2) or "")


def _in(x: float, r: tuple[float, float]) -> bool:
    return r[0] <= x <= r[1]


def parse_point(value: str) -> tuple[float, float, int] | None:
    """(lat, lon, decimals) of a whole-point cell: Kobo geopoint 'lat lon alt acc', 'lat, lon',
    '[lat, lon]' (Kobo _geolocation), GeoJSON '{"type":"Point","coordinates":[lon, lat]}'."""
    v = to_ascii_digits(value.strip())
    if not v or len(v) > 200:
        return None
    nums = _FLOATS.findall(v)
    if len(nums) < 2:
        return None
    a, b = nums[0], nums[1]
    dec = min(len(a.partition(".")[2]), len(b.partition(".")[2]))
    fa, fb = float(a), float(b)
    geojson = "coordinates" in v or '"type"' in v
    lat, lon = (fb, fa) if geojson else (fa, fb)
    if not geojson and _in(fb, _MM_LAT) and _in(fa, _MM_LON) and not (_in(fa, _MM_LAT) and _in(fb, _MM_LON)):
        lat, lon = fb, fa
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, dec


def _hxl_coord(header: str) -> str | None:
    h = header.strip().lower().replace(" ", "")
    if not h.startswith("#geo"):
        return None
    attrs = set(h.split("+")[1:])
    if "lat" in attrs:
        return "lat"
    if attrs & {"lon", "long"}:
        return "lon"
    if attrs & {"coord", "point"}:
        return "point"
    return None


def looks_like_coordinate_column(header: str, values: list[str]) -> str | None:
    """'lat' / 'lon' for a column of precise coordinates, 'point' for whole points (Kobo geopoint,
    GeoJSON), else None.

    Never percentages (header %/pct/rate/share/ratio…, values with '%', or values all within
    0-100 with ≤ 2 decimals), never counts (integers).  Precise means ≥ 4 decimals (~10 m); 3
    decimals (~100 m) only under a coordinate header; 1-2 decimals are township level at most."""
    h = (header or "").strip()
    hs = re.sub(r"[_\-./:()\[\]]+", " ", h)  # 'pct_female' -> 'pct female' for word matching
    vals = [to_ascii_digits(v.strip()) for v in values if v and v.strip()]
    if not vals:
        return None
    hxl = _hxl_coord(h)
    if any(v.endswith("%") for v in vals[:200]) or (hxl is None and _PCT_HEADER.search(hs)):
        return None
    role = hxl
    if role is None:
        if _LAT_HEADER.search(h) and not _LON_HEADER.search(h.replace("latitude", "")):
            role = "lat"
        elif _LON_HEADER.search(h) and not _LAT_HEADER.search(h.replace("longitude", "")):
            role = "lon"
        elif _POINT_HEADER.search(h):
            role = "point"
    if role is None and _COUNT_HEADER.search(hs):
        return None
    if role == "point" or (role is None and any(" " in v or "," in v for v in vals[:20])):
        pts = [parse_point(v) for v in vals]
        good = [p for p in pts if p is not None]
        if len(good) < 0.6 * len(vals):
            return None
        need = 3 if role == "point" else 4
        n_precise = sum(1 for p in good if p[2] >= need)
        if role is None:
            n_precise = sum(1 for p in good if p[2] >= need and _in(p[0], _MM_LAT) and _in(p[1], _MM_LON))
        return "point" if n_precise >= 0.6 * len(vals) else None
    parsed = [_dec(v) for v in vals]
    nums = [p for p in parsed if p is not None]
    if len(nums) < 0.8 * len(vals):
        return None
    if all(d <= 2 for _, d in nums):
        return None  # township level at most; also every 0-100 percentage with ≤ 2 decimals
    need = 3 if role else 4
    precise = [x for x, d in nums if d >= need]
    if len(precise) < 0.6 * len(nums):
        return None
    if role == "lat":
        return "lat" if all(-90 <= x <= 90 for x, _ in nums) else None
    if role == "lon":
        return "lon" if all(-180 <= x <= 180 for x, _ in nums) else None
    lat = sum(1 for x in precise if _in(x, _MM_LAT))
    lon = sum(1 for x in precise if _in(x, _MM_LON))
    if lat >= 0.8 * len(nums) and lon == 0:
        return "lat"
    if lon >= 0.8 * len(nums) and lat == 0:
        return "lon"
    return None


def coordinate_pair_ok(lat_values: list[str], lon_values: list[str]) -> bool:
    """Two columns found together (same rows) really hold coordinates: most rows pair a latitude
    with a longitude inside the wider region (Myanmar and neighbours, 0-35°N, 85-110°E) or, for
    columns named lat/lon, anywhere on earth; at least one of the two is precise (≥ 3 decimals);
    the columns are not copies of each other and not both 0-100 two-decimal figures."""
    pairs = []
    for a, b in zip(lat_values, lon_values, strict=False):
        pa, pb = _dec(to_ascii_digits(a or "")), _dec(to_ascii_digits(b or ""))
        if pa is None or pb is None:
            continue
        pairs.append((pa, pb))
    if len(pairs) < max(1, 0.5 * min(len(lat_values), len(lon_values))):
        return False
    if all(x[0] == y[0] for x, y in pairs):
        return False
    good = 0
    for (la, da), (lo, do) in pairs:
        if max(da, do) < 3:
            continue
        if 0 <= la <= 35 and 85 <= lo <= 110:
            good += 1
    return good >= 0.6 * len(pairs)
