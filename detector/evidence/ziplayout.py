"""Bytes of a ZIP that no entry accounts for: where content can hide outside a packet's manifest.

ZIP readers tolerate a lot: bytes before the first entry (self-extractors), after the end record,
between entries, a comment on the archive or on an entry, extra fields, directory entries that
carry data. Each can hold content that ``zipfile`` never shows, so a packet that verifies by its
files' hashes could still carry something else. :func:`stray_content` walks the archive from the
first byte to the last and names every byte that is not a local header, an entry's data, a data
descriptor, the central directory or the end records (ZIP64 included), in the layout
:func:`detector.evidence.packet.zip_bytes` writes.

Reference: PKWARE APPNOTE.TXT 6.3, sections 4.3.6-4.3.16 and 4.5.3.
"""

from __future__ import annotations

import struct
import zipfile

_LOCAL, _CENTRAL, _END = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_END64, _LOCATOR64, _DESCRIPTOR = b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08"
_ZIP64_EXTRA = 0x0001
_MAX_COMMENT = 0xFFFF


def _extra_ids(extra: bytes) -> list[int]:
    ids, i = [], 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        ids.append(tag)
        i += 4 + size
    if i != len(extra):
        ids.append(-1)            # a truncated field: bytes that are not a field at all
    return ids


def _foreign_extra(extra: bytes) -> bool:
    return any(tag != _ZIP64_EXTRA for tag in _extra_ids(extra))


def _end_record(raw: bytes) -> int | None:
    """Offset of the end-of-central-directory record, found as ``zipfile`` finds it (the last one)."""
    pos = raw.rfind(_END, max(0, len(raw) - 22 - _MAX_COMMENT))
    return pos if pos >= 0 and pos + 22 <= len(raw) else None


def stray_content(raw: bytes, zf: zipfile.ZipFile) -> list[str]:
    """Everything in the ZIP ``raw`` (opened as ``zf``) that is not an entry's own bytes, in words."""
    problems: list[str] = []
    end = _end_record(raw)
    if end is None:
        return ["no end-of-central-directory record"]
    comment_len = struct.unpack_from("<H", raw, end + 20)[0]
    if comment_len:
        problems.append(f"a ZIP comment ({comment_len} bytes)")
    tail = len(raw) - (end + 22 + comment_len)
    if tail > 0:
        problems.append(f"{tail} bytes appended after the end of the ZIP")
    elif tail < 0:
        problems.append("the end record claims a comment longer than the file")

    infos = zf.infolist()
    for info in infos:
        if info.is_dir() or info.filename.endswith("\\"):
            problems.append(f"a directory entry {info.filename!r}" +
                            (f" carrying {info.compress_size} bytes of data" if info.compress_size else ""))
        if info.comment:
            problems.append(f"a comment on entry {info.filename!r} ({len(info.comment)} bytes)")
        if _foreign_extra(info.extra):
            problems.append(f"extra fields in the central directory entry of {info.filename!r}")

    # Local entries, in file order, must tile the bytes from offset 0 to the central directory.
    cursor = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        at = info.header_offset
        if at > cursor:
            where = "before the first entry" if cursor == 0 else f"before {info.filename!r}"
            problems.append(f"{at - cursor} bytes {where}")
        elif at < cursor:
            problems.append(f"entry {info.filename!r} overlaps the entry before it")
        if raw[at:at + 4] != _LOCAL or at + 30 > len(raw):
            problems.append(f"entry {info.filename!r} has no local header where the directory says")
            cursor = max(cursor, at)
            continue
        name_len, extra_len = struct.unpack_from("<HH", raw, at + 26)
        if _foreign_extra(raw[at + 30 + name_len:at + 30 + name_len + extra_len]):
            problems.append(f"extra fields in the local header of {info.filename!r}")
        data_end = at + 30 + name_len + extra_len + info.compress_size
        if info.flag_bits & 0x08:        # a data descriptor follows the data
            wide = info.compress_size >= 0xFFFFFFFF or info.file_size >= 0xFFFFFFFF
            data_end += (8 if raw[data_end:data_end + 4] == _DESCRIPTOR else 4) + (16 if wide else 8)
        cursor = max(cursor, data_end)

    start_dir = zf.start_dir
    if start_dir > cursor:
        where = "before the central directory" if infos else "before the first entry"
        problems.append(f"{start_dir - cursor} bytes {where}")
    elif start_dir < cursor:
        problems.append("the central directory overlaps the last entry")

    # The central directory, record by record, then at most a ZIP64 end record and its locator.
    pos = start_dir
    for _ in infos:
        if raw[pos:pos + 4] != _CENTRAL:
            problems.append("the central directory is not where the end record says")
            return problems
        n, m, k = struct.unpack_from("<HHH", raw, pos + 28)
        pos += 46 + n + m + k
    gap = end - pos
    if gap and raw[pos:pos + 4] == _END64 and raw[end - 20:end - 16] == _LOCATOR64:
        size64 = 12 + struct.unpack_from("<Q", raw, pos + 4)[0]
        gap = end - 20 - (pos + size64)
    if gap > 0:
        problems.append(f"{gap} bytes between the central directory and the end record")
    elif gap < 0:
        problems.append("the central directory runs past the end record")
    return problems
