"""Text encodings of Shapefile attribute tables and CSV files.

A Shapefile's ``.dbf`` stores text as raw bytes. Which code page they are in
is said (if at all) by a ``.cpg`` sidecar (``UTF-8``, ``936``, ``GBK`` …) or by
the *language driver id* byte at offset 29 of the ``.dbf`` header (0x4D/0x7A
mean code page 936, i.e. GBK). Chinese land bureaus' files are usually GBK
with no ``.cpg``; files from QGIS/GDAL are UTF-8 with one.

:func:`shapefile_encoding` decides, in this order:

1. a ``.cpg`` naming a known code page, when the text decodes in it;
2. strict UTF-8, when any text is non-ASCII and all of it is valid UTF-8
   (GBK text of any length is practically never valid UTF-8);
3. the language driver byte's code page, when the text decodes in it;
4. GB18030 (a superset of GBK and GB2312), when the text decodes in it;
5. charset-normalizer's best guess; else Latin-1 with a warning.

A ``.cpg`` that the bytes contradict is reported and overridden. Text values
cut at the field width may end in half a character; that is tolerated.
"""

from __future__ import annotations

import codecs
import logging
import struct
from pathlib import Path

log = logging.getLogger(__name__)

#: How many records of a ``.dbf`` are examined at most.
SAMPLE_RECORDS = 20000

#: ``.cpg`` contents (upper case, no spaces/dashes) -> Python codec.
CPG_CODECS: dict[str, str] = {
    "UTF8": "utf-8", "65001": "utf-8",
    "936": "gb18030", "CP936": "gb18030", "GBK": "gb18030", "GB2312": "gb18030",
    "GB18030": "gb18030", "54936": "gb18030", "20936": "gb18030", "CHINESE": "gb18030",
    "950": "big5", "CP950": "big5", "BIG5": "big5",
    "932": "cp932", "SHIFTJIS": "cp932", "SJIS": "cp932", "949": "cp949",
    "1252": "cp1252", "ANSI1252": "cp1252", "CP1252": "cp1252", "ANSI": "cp1252",
    "88591": "latin-1", "ISO88591": "latin-1", "28591": "latin-1", "LATIN1": "latin-1",
    "437": "cp437", "850": "cp850", "1250": "cp1250", "1251": "cp1251",
}

#: dBASE language driver id (header byte 29) -> Python codec, for the ids worth trusting.
LDID_CODECS: dict[int, str] = {
    0x01: "cp437", 0x02: "cp850", 0x03: "cp1252", 0x13: "cp932", 0x4D: "gb18030",
    0x4E: "cp949", 0x4F: "big5", 0x57: "cp1252", 0x58: "cp1252", 0x59: "cp1252",
    0x78: "big5", 0x79: "cp949", 0x7A: "gb18030", 0x7B: "cp932", 0xC8: "cp1250",
    0xC9: "cp1251",
}

#: Codec name -> the name GDAL/iconv understands, for pyogrio's ``encoding=``.
GDAL_NAMES: dict[str, str] = {"utf-8": "UTF-8", "gb18030": "GB18030", "latin-1": "ISO-8859-1"}


def codec_for_cpg(text: str) -> str | None:
    """Python codec named by the contents of a ``.cpg`` file, or None when unknown.

    Examples
    --------
    >>> codec_for_cpg("UTF-8\\n"), codec_for_cpg("936"), codec_for_cpg("ANSI 1252")
    ('utf-8', 'gb18030', 'cp1252')
    """
    key = "".join(ch for ch in text.strip().upper() if ch not in " -_")
    if not key:
        return None
    if key in CPG_CODECS:
        return CPG_CODECS[key]
    digits = key.removeprefix("CP").removeprefix("ANSI")
    for candidate in (key.lower(), f"cp{digits}" if digits.isdigit() else ""):
        if candidate:
            try:
                return codecs.lookup(candidate).name
            except LookupError:
                continue
    return None


def dbf_text_values(data: bytes, limit: int = SAMPLE_RECORDS) -> tuple[int, list[bytes]]:
    """The language driver id and the non-ASCII character-field values of a ``.dbf``.

    Parameters
    ----------
    data : bytes
        The ``.dbf`` file contents (or at least its header and first records).
    limit : int
        Records examined at most.

    Returns
    -------
    (ldid, values)
        ``values`` holds each distinct non-ASCII text value, right-stripped.

    Raises
    ------
    ValueError
        The bytes are not a dBASE table.
    """
    if len(data) < 32:
        raise ValueError("not a dBASE file (shorter than its header)")
    n_records, header_len, record_len = struct.unpack("<IHH", data[4:12])
    ldid = data[29]
    if header_len < 33 or record_len < 1:
        raise ValueError("not a dBASE file (bad header sizes)")
    fields = []  # (offset within record, length) of character fields
    offset = 1  # deletion flag
    pos = 32
    while pos + 32 <= header_len and data[pos] != 0x0D:
        ftype = chr(data[pos + 11])
        flen = data[pos + 16]
        if ftype in "CM":
            fields.append((offset, flen))
        offset += flen
        pos += 32
    values: set[bytes] = set()
    count = min(n_records, limit, max(0, (len(data) - header_len) // record_len))
    for i in range(count):
        start = header_len + i * record_len
        record = data[start:start + record_len]
        for off, length in fields:
            value = record[off:off + length].rstrip(b" \x00")
            if value and not value.isascii():
                values.add(value)
    return ldid, sorted(values)


def _decodes(values: list[bytes], codec: str) -> bool:
    """All values decode strictly (a trailing half character, cut at field width, is allowed)."""
    for value in values:
        try:
            value.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.end < len(value) - 3:  # error not in the last character
                return False
            try:
                value[: exc.start].decode(codec)
            except UnicodeDecodeError:
                return False
    return True


def detect_dbf_encoding(
    data: bytes, cpg: str | None = None, *, source: str | None = None
) -> str:
    """Python codec of the text in a ``.dbf`` (see the module docstring for the rules).

    Parameters
    ----------
    data : bytes
        ``.dbf`` contents (the first records suffice).
    cpg : str, optional
        Contents of the ``.cpg`` sidecar, if any.
    source : str, optional
        Name used in log messages.

    Returns
    -------
    str
        A Python codec name such as ``"utf-8"`` or ``"gb18030"``.
    """
    name = source or "dbf"
    ldid, values = dbf_text_values(data)
    declared = codec_for_cpg(cpg) if cpg is not None else None
    if cpg is not None and declared is None:
        log.warning("%s: unknown code page %r in .cpg; detecting the encoding", name, cpg.strip())
    if declared and _decodes(values, declared):
        return declared
    if not values:
        return declared or "utf-8"
    if _decodes(values, "utf-8"):
        found = "utf-8"
    elif ldid in LDID_CODECS and _decodes(values, LDID_CODECS[ldid]):
        found = LDID_CODECS[ldid]
    elif _decodes(values, "gb18030"):
        found = "gb18030"
    else:
        found = _guess(b"\n".join(values)) or "latin-1"
        log.warning("%s: text encoding uncertain; reading as %s (pass --encoding)", name, found)
    if declared:
        log.warning(
            "%s: .cpg says %s but the text is not valid %s; reading it as %s",
            name, cpg.strip(), declared, found,  # type: ignore[union-attr]
        )
    return found


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return codecs.lookup(best.encoding).name if best is not None else None


def shapefile_encoding(path: str | Path, *, read_bytes: int = 64 * 1024 * 1024) -> str:
    """Python codec of a Shapefile's attribute text, from its ``.cpg`` and ``.dbf``.

    Parameters
    ----------
    path : path-like
        The ``.shp`` (or ``.dbf``) path.
    read_bytes : int
        At most this many bytes of the ``.dbf`` are read.

    Returns
    -------
    str
        Python codec name; ``"utf-8"`` when there is no ``.dbf`` or no text.
    """
    path = Path(path)
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        return "utf-8"
    cpg_path = _sidecar(path, ".cpg")
    cpg = cpg_path.read_text(encoding="ascii", errors="replace") if cpg_path else None
    with open(dbf, "rb") as fh:
        data = fh.read(read_bytes)
    return detect_dbf_encoding(data, cpg, source=str(path))


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


def detect_text_encoding(data: bytes) -> str:
    """Codec of a text file (CSV): UTF-8 (with or without BOM), else GB18030, else a guess.

    Only a prefix of a big file needs to be passed; a character cut at the end is tolerated.

    Examples
    --------
    >>> detect_text_encoding("名称,x\\n".encode("gbk")), detect_text_encoding(b"a,b\\n")
    ('gb18030', 'utf-8')
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    for codec in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(codec)()
        try:
            decoder.decode(data, final=False)
            return codec
        except UnicodeDecodeError:
            continue
    return _guess(data) or "latin-1"


def gdal_encoding(codec: str) -> str:
    """The encoding name to hand to GDAL (``"gb18030"`` -> ``"GB18030"``)."""
    name = codecs.lookup(codec).name
    return GDAL_NAMES.get(name, name.upper())


def _strict(value: bytes, codec: str) -> bool:
    try:
        value.decode(codec)
        return True
    except UnicodeDecodeError:
        return False


def _family(codec: str) -> str:
    name = codecs.lookup(codec).name
    if name == "utf-8-sig":
        return "utf-8"
    return "gb18030" if name in ("gbk", "gb2312", "gb18030", "cp936") else name


def declared_encoding_problem(values: list[bytes], declared: str) -> str | None:
    """Why text bytes are not in the ``declared`` encoding, with the likely one; None when fine.

    Two things go wrong with a wrong ``--encoding``: bytes that are not valid in
    it (decoded leniently, they lose characters: the last byte of 测试镇 in
    UTF-8 read as GBK), and bytes that are valid in it but are really another
    encoding's (mojibake: UTF-8 read as GBK gives 娴嬭瘯闀). GBK text of any
    length is practically never valid UTF-8, so non-ASCII text that is valid
    UTF-8 is UTF-8.

    Parameters
    ----------
    values : the distinct non-ASCII text values, as bytes.
    declared : the encoding the user named.

    Examples
    --------
    >>> declared_encoding_problem(["测试镇".encode("utf-8")], "gbk").split(" (乱码)")[0]
    'the text is UTF-8, not gbk: read as gbk, 测试镇 would become 娴嬭瘯闀'
    >>> declared_encoding_problem(["测试镇".encode("gbk")], "utf-8").split(":")[0]
    'the text is not valid utf-8; it looks like GB18030 (GBK)'
    >>> declared_encoding_problem(["测试镇".encode("gbk")], "GBK") is None
    True
    """
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        return f"unknown encoding {declared!r}; use e.g. GBK or UTF-8"
    if not values:
        return None
    if _family(codec) != "utf-8" and _decodes(values, "utf-8"):
        example = next(v for v in values if not v.isascii())
        shown = example.decode("utf-8", "replace")[:20]
        garbled = example.decode(codec, "ignore")[:20]
        return (f"the text is UTF-8, not {declared}: read as {declared}, {shown} would become "
                f"{garbled} (乱码); pass --encoding UTF-8, or leave --encoding out to detect it")
    bad = [v for v in values if not _strict(v, codec)]
    if not bad:
        return None
    likely = next((c for c in ("utf-8", "gb18030", "big5") if c != _family(codec)
                   and _decodes(values, c)), None) or _guess(b"\n".join(values))
    names = {"utf-8": "UTF-8", "gb18030": "GB18030 (GBK)", "big5": "Big5"}
    hint = (f"; it looks like {names.get(likely, likely)}: pass --encoding "
            f"{names.get(likely, likely).split(' ')[0]}" if likely else "")
    return (f"the text is not valid {declared}{hint}, or leave --encoding out to detect it "
            f"({len(bad)} values cannot be read, e.g. {bad[0][:30]!r})")


def check_shapefile_encoding(path: str | Path, declared: str) -> None:
    """Refuse a ``--encoding`` that a Shapefile's attribute text is not in (see above).

    Raises
    ------
    gis.errors.DataError
        Naming the file, the likely encoding and an example of the garbled text.
    """
    from gis.errors import DataError

    dbf = _sidecar(Path(path), ".dbf")
    if dbf is None:
        return
    with open(dbf, "rb") as fh:
        data = fh.read(64 * 1024 * 1024)
    try:
        _ldid, values = dbf_text_values(data)
    except ValueError:
        return
    problem = declared_encoding_problem(values, declared)
    if problem:
        raise DataError(f"--encoding {declared}: {problem}", source=str(path))


def check_text_encoding(data: bytes, declared: str, *, source: str) -> None:
    """Refuse a ``--encoding`` that a CSV's bytes are not in (a prefix of the file suffices)."""
    from gis.errors import DataError

    lines = [line for line in data[:4 * 1024 * 1024].splitlines()[:-1] or data.splitlines()
             if not line.isascii()]
    problem = declared_encoding_problem(lines[:20000], declared)
    if problem:
        raise DataError(f"--encoding {declared}: {problem}", source=source)
