"""Hostile variants of real input files, shared by the fuzz tests and ``bench/hostile_inputs.py``.

A *seed* is a real file (the ../shared samples, the e-mail fixtures, the head of the demo
case's CSVs and a demo WhatsApp zip) with the format it must be read as. A *mutation* turns
its bytes into a hostile variant: byte flips, truncation, deep nesting, huge lines, zip
variants, implausible dates and structurally invalid shapes. Every mutation is a pure function
of the seed's bytes and a ``random.Random``, so a variant is reproducible from its seed number.
"""

from __future__ import annotations

import io
import json
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
FIXTURES = ROOT / "tests" / "fixtures"
DEMO = ROOT / "detector" / "data" / "demo"


@dataclass(frozen=True)
class Seed:
    name: str         # file name the variant is written under (readers look at suffixes and names)
    fmt: str          # the format it is read as (as --format would force it)
    data: bytes
    dayfirst: bool | None = None   # for WhatsApp chats whose every date reads both ways


_AMBIGUOUS_ORDER = {"4A_11M.txt", "WhatsApp Chat with Group Chat XXX Android.txt"}


def _head_lines(path: Path, n: int) -> bytes:
    return b"".join(path.read_bytes().splitlines(keepends=True)[:n])


def load_seeds(samples: Path = SHARED_SAMPLES) -> list[Seed]:
    """Every seed file; the ../shared ones only when ``samples`` exists."""
    seeds: list[Seed] = []
    if samples.is_dir():
        for path in sorted((samples / "telegram").rglob("*.json")):
            seeds.append(Seed("result.json", "telegram_json", path.read_bytes()))
        for path in sorted((samples / "whatsapp").rglob("*.txt")):
            name = path.name.split("__")[-1]
            seeds.append(Seed(name, "whatsapp", path.read_bytes(), True if name in _AMBIGUOUS_ORDER else None))
        for path in sorted((samples / "lumen").rglob("*.json")):
            seeds.append(Seed(path.name, "lumen", path.read_bytes()))
    for path in sorted((FIXTURES / "email").glob("*.eml")):
        if path.name != "forwarded_by_person.eml" and path.name != "not_a_notice_comment.eml":
            seeds.append(Seed(path.name, "notice_email", path.read_bytes()))
    for path in sorted((FIXTURES / "lumen").glob("*.json")):
        seeds.append(Seed(path.name, "lumen", path.read_bytes()))
    seeds.append(Seed("notices.csv", "notices_csv", _head_lines(DEMO / "notices.csv", 40)))
    seeds.append(Seed("views.csv", "views_csv", _head_lines(DEMO / "views.csv", 40)))
    for path in sorted((DEMO / "whatsapp").glob("*.zip"))[:1]:
        seeds.append(Seed(path.name, "whatsapp", path.read_bytes()))
    seeds.append(Seed("Takeout.mbox", "notice_email", _mbox(FIXTURES / "email")))
    return seeds


def _mbox(folder: Path) -> bytes:
    out = b""
    for path in sorted(folder.glob("*.eml"))[:4]:
        body = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
        out += b"From MAILER-DAEMON Tue May 14 09:12:44 2024\n" + body.rstrip(b"\n") + b"\n\n"
    return out


# -- mutations: (seed bytes, rng) -> (variant name, variant bytes) ----------------------------

def flip_bytes(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    data = bytearray(seed.data)
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(len(data))
        data[i] = rng.choice([data[i] ^ (1 << rng.randrange(8)), 0, 0xFF, ord('"'), ord("{"), ord("\n")])
    return seed.name, bytes(data)


def truncate(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    return seed.name, seed.data[: rng.randrange(len(seed.data))]


def insert_junk(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    i = rng.randrange(len(seed.data) + 1)
    junk = rng.choice([b"\x00" * rng.randint(1, 64), bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))),
                       b"\xed\xa0\x80", b"\\ud800", b"\xef\xbb\xbf", b"\r", "\u202e\u2066".encode()])
    return seed.name, seed.data[:i] + junk + seed.data[i:]


def huge_line(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    """One very long line or message (up to 4 MB) in the middle of the file."""
    size = rng.choice([5_000, 70_000, 1_100_000, 4_000_000])
    filler = (rng.choice(["a", "ж", "x "]) * size).encode()[:size]
    lines = seed.data.split(b"\n")
    i = rng.randrange(1, len(lines)) if len(lines) > 1 else 0
    if seed.fmt in ("telegram_json", "lumen"):
        # inside a JSON string, so the file stays valid JSON
        return seed.name, re.sub(rb'"text": "', b'"text": "' + filler, seed.data, count=1) if (
            b'"text": "' in seed.data) else re.sub(rb'"title": "', b'"title": "' + filler, seed.data, count=1)
    lines[i] = lines[i] + filler
    return seed.name, b"\n".join(lines)


def deep_nesting(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    depth = rng.choice([200, 5_000, 100_000])
    nest = rng.choice([(b"[" * depth) + (b"]" * depth), (b'{"a":' * depth) + b"1" + (b"}" * depth)])
    if seed.fmt in ("telegram_json", "lumen"):
        where = rng.choice(["value", "root", "whole"])
        if where == "whole":
            return seed.name, nest
        if where == "root":
            return seed.name, b'{"x": ' + nest + b", " + seed.data.lstrip()[1:]
        return seed.name, re.sub(rb'("(?:text|works|messages)": )', rb"\1" + nest.replace(b"\\", b"\\\\") + b", \"y\": ",
                                 seed.data, count=1)
    return seed.name, seed.data + b"\n" + nest


_DATES = [b"9999-12-31", b"1900-01-01", b"1969-12-31", b"0001-01-01", b"2262-04-12", b"99999-01-01"]
_EPOCHS = [b"-1", b"0", b"-62135596800", b"253402300800", b"99999999999999999999", b"1e30", b"NaN"]


def bad_dates(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    data = seed.data
    if seed.fmt == "telegram_json":
        data = re.sub(rb'"date_unixtime": "\d+"', b'"date_unixtime": "' + rng.choice(_EPOCHS) + b'"', data, count=1)
        return seed.name, re.sub(rb'"date": "\d{4}', b'"date": "' + rng.choice([b"9999", b"1900", b"0001"]), data, count=1)
    if seed.fmt == "notice_email":
        day = rng.choice([b"Mon, 01 Jan 1900 00:00:00 +0000", b"Fri, 31 Dec 9999 23:59:59 +0000",
                          b"Thu, 01 Jan 1970 00:00:00 -1400", b"Sun, 99 Foo 20244 99:99:99 +9999"])
        return seed.name, re.sub(rb"(?m)^Date: .*$", b"Date: " + day, data, count=1)
    if seed.fmt == "whatsapp":
        zipped = data.startswith(b"PK")
        text = _unzip(data) if zipped else data
        text = re.sub(rb"\b(19|20)\d\d\b|\b\d{2}(?=[,\]])", lambda m: rng.choice([b"1900", b"2099", b"9999", b"1970"]),
                      text, count=1)
        return seed.name, _zip(seed.name, text) if zipped else text
    pattern = rb"\d{4}-\d{2}-\d{2}"
    return seed.name, re.sub(pattern, lambda m: rng.choice(_DATES), data, count=rng.choice([1, 0]))


def _unzip(data: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(next(n for n in z.namelist() if n.endswith(".txt")))


def _zip(name: str, text: bytes, method: int = zipfile.ZIP_DEFLATED, member: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as z:
        z.writestr(member or Path(name).with_suffix(".txt").name, text)
    return buf.getvalue()


BOMB_SIZES_MIB = (40, 300)   # unpacked sizes of the zip bombs (the fuzz test keeps to the small one)


def zip_variant(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    """A WhatsApp chat zipped oddly: other methods, flipped bytes, bombs, flags, no chat, nested."""
    text = _unzip(seed.data) if seed.data.startswith(b"PK") else seed.data
    name = "WhatsApp Chat with Fuzz.zip"
    kind = rng.choice(["deflate", "stored", "bzip2", "lzma", "flip", "truncate", "bomb", "encrypted_flag",
                       "no_chat", "nested", "lying_size"])
    if kind in ("deflate", "stored", "bzip2", "lzma"):
        method = {"deflate": zipfile.ZIP_DEFLATED, "stored": zipfile.ZIP_STORED, "bzip2": zipfile.ZIP_BZIP2,
                  "lzma": zipfile.ZIP_LZMA}[kind]
        return name, _zip(name, text, method)
    data = bytearray(_zip(name, text))
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return name, bytes(data)
    if kind == "truncate":
        return name, bytes(data[: rng.randrange(4, len(data))])
    if kind == "bomb":
        line = text.split(b"\n", 1)[0] + b"\n"
        return name, _zip(name, line * (rng.choice(BOMB_SIZES_MIB) * 2**20 // len(line)))
    if kind == "encrypted_flag":
        data[6] |= 1     # general purpose flag bit 0: encrypted
        return name, bytes(data)
    if kind == "no_chat":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("photo.jpg", b"\xff\xd8\xff" + bytes(100))
        return name, buf.getvalue()
    if kind == "nested":
        return name, _zip(name, _zip(name, text), member="WhatsApp Chat with Fuzz.zip")
    # lying_size: the local header claims a tiny uncompressed size
    data[22:26] = (1).to_bytes(4, "little")
    return name, bytes(data)


def _json_variants(seed: Seed) -> list[tuple[str, bytes]]:
    if seed.fmt == "telegram_json":
        doc = json.loads(seed.data)
        out = []
        if "messages" in doc:
            for bad in ({}, "messages", 7, None, [1, 2], [[]]):
                out.append({**doc, "messages": bad})
            for bad_text in ([1, 2, 3], {"a": 1}, [[1]], 12, None, [{"type": "link", "text": 5}]):
                msgs = [dict(m) for m in doc["messages"]]
                msgs[0]["text"] = bad_text
                out.append({**doc, "messages": msgs})
            msgs = [dict(m) for m in doc["messages"]]
            msgs[0]["id"] = {"x": 1}
            out.append({**doc, "messages": msgs})
        for bad in ({}, {"list": {}}, {"list": "x"}, {"list": None}, {"list": [1, "a"]}, "chats", []):
            out.append({"about": "x", "chats": bad})
        texts = [json.dumps(d, ensure_ascii=False).encode() for d in out]
        texts.append(seed.data.replace(b'"text": "', b'"text": "\\ud800', 1))
        texts.append(seed.data.replace(b'"text": "', b'"text": "\\udfff\\ud800x', 1))
        return [(seed.name, t) for t in texts]
    if seed.fmt == "lumen":
        doc = json.loads(seed.data)
        notices = doc["notices"] if isinstance(doc, dict) and "notices" in doc else (
            [next(iter(doc.values()))] if isinstance(doc, dict) else doc)
        first = dict(notices[0])
        out = []
        for bad in ("works", 5, [1, 2], [{"infringing_urls": "x"}], [{"infringing_urls": [5, None]}], {"a": 1}):
            out.append({"notices": [{**first, "works": bad}]})
        for bad in (5, [1], {"x": 1}, "", "0000-00-00", "99999-01-01T00:00:00Z"):
            out.append({"notices": [{**first, "date_received": bad}]})
        out += [{"notices": {}}, {"notices": "x"}, {"notices": []}, [], {"dmca": []}, {"notices": [1, 2]}]
        return [(seed.name, json.dumps(d).encode()) for d in out]
    return []


def structural(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    """A structurally invalid shape of the seed's format, or an empty container."""
    choices = _json_variants(seed)
    if seed.fmt == "notice_email":
        choices = [("empty.mbox", b""), ("empty.mbox", b"\n\n"), ("one.mbox", b"From x\n\n"),
                   ("none.mbox", b"From a@b Tue May 14 09:12:44 2024\nFrom: a@b.c\nSubject: hi\n\nhello\n"),
                   (seed.name, b"Subject: only a subject\n\n"), (seed.name, b"\n\nbody without headers\n")]
    if seed.fmt in ("notices_csv", "views_csv"):
        header = seed.data.split(b"\n", 1)[0]
        choices = [(seed.name, header + b"\n"), (seed.name, header + b"\n,,,,\n"),
                   (seed.name, seed.data.replace(b",", b";", 3)), (seed.name, header + b"," + header + b"\n"),
                   (seed.name, seed.data + b'"unclosed,quote\n')]
        if seed.fmt == "views_csv":
            for views in (b"-5", b"1e30", b"NaN", b"inf", b"99999999999999999999", b"12.5", b"0x10"):
                choices.append((seed.name, header + b"\nhttps://youtu.be/dQw4w9WgXcQ,2025-01-01," + views + b"\n"))
    if seed.fmt == "whatsapp":
        choices = [(seed.name, b""), (seed.name, b"\n\n\n"), (seed.name, b"\xef\xbb\xbf"),
                   (seed.name, b"12/03/2022, 10:00 - "), (seed.name, b"[12/03/2022, 10:00:00] ")]
    if not choices:
        return seed.name, seed.data
    return rng.choice(choices)


MUTATIONS: dict[str, Callable[[Seed, random.Random], tuple[str, bytes]]] = {
    "byte flips": flip_bytes,
    "truncation": truncate,
    "inserted junk / bad encoding": insert_junk,
    "huge line or message": huge_line,
    "deep nesting": deep_nesting,
    "implausible dates": bad_dates,
    "zip variants": zip_variant,
    "invalid structure / empty container": structural,
}


def applicable(mutation: str, seed: Seed) -> bool:
    if mutation == "zip variants":
        return seed.fmt == "whatsapp"
    if mutation == "deep nesting":
        return True
    return bool(seed.data)
