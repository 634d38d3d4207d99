"""Synthetic Telegram Desktop exports (``result.json``) of any size, for benchmarks and tests.

The layout follows tdesktop's writer (``export_output_json.cpp``): one space of indentation per
level, raw UTF-8, ``date`` as naive local time beside ``date_unixtime``, ``text`` as a string or
a list of strings and entity objects, ``text_entities``, service messages, media placeholders,
and the writer's invalid ``\\xNN`` escapes for control characters. Messages are formatted from
templates rather than through ``json.dumps(indent=1)``, whose pure-Python encoder would take
longer than the parse being measured.

Run ``python bench/telegram_synthetic.py 1000000`` to write a file and time the reader on it.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

_START = 1_700_000_000           # 2023-11-14T22:13:20Z
_NAMES = ["Анна Петрова", "Bob", "Канал новостей", "Ali 🇰🇿", "مریم", "王伟"]
_WORDS = ("report this video for harassment please everyone now пожаловаться на видео жалоба "
          "шикаят 举报 这个 视频 ok thanks 🚨 👀 срочно").split()
_PLACEHOLDER = "(File not included. Change data exporting settings to download.)"


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _message(rng: random.Random, mid: int, t: int, local_dates: bool) -> str:
    name = rng.choice(_NAMES)
    uid = 100000 + _NAMES.index(name)
    date = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    head = f'  {{\n   "id": {mid},\n'
    when = f'   "date": "{date}",\n' if local_dates else f'   "date": "{date}",\n   "date_unixtime": "{t}",\n'
    if rng.random() < 0.02:
        return (head + '   "type": "service",\n' + when + f'   "actor": {_s(name)},\n   "actor_id": "user{uid}",\n'
                '   "action": "pin_message",\n   "message_id": 1,\n   "text": "",\n   "text_entities": []\n  }')
    words = " ".join(rng.choices(_WORDS, k=rng.randint(3, 14)))
    extra = ""
    if rng.random() < 0.1:
        extra += f'   "forwarded_from": {_s(rng.choice(_NAMES))},\n'
    if rng.random() < 0.1:
        extra += f'   "reply_to_message_id": {max(1, mid - rng.randint(1, 50))},\n'
    if rng.random() < 0.05:
        extra += f'   "photo": "{_PLACEHOLDER}",\n   "width": 800,\n   "height": 600,\n'
    roll = rng.random()
    if roll < 0.6:
        if rng.random() < 0.01:
            words += "\\x01tab"   # the writer's invalid escape for a control character
        text = f'"{words}"' if "\\x" in words else _s(words)
        entities = f'[\n    {{\n     "type": "plain",\n     "text": {text}\n    }}\n   ]'
    else:
        video = "".join(rng.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-", k=11))
        kind = rng.choice(["link", "text_link", "mention"])
        if kind == "link":
            obj = f'{{\n     "type": "link",\n     "text": "https://youtu.be/{video}"\n    }}'
        elif kind == "text_link":
            obj = (f'{{\n     "type": "text_link",\n     "text": "here",\n'
                   f'     "href": "https://www.youtube.com/watch?v={video}"\n    }}')
        else:
            obj = f'{{\n     "type": "mention",\n     "text": "@chan{rng.randint(1, 500)}"\n    }}'
        text = f'[\n    {_s(words + " ")},\n    {obj}\n   ]'
        entities = (f'[\n    {{\n     "type": "plain",\n     "text": {_s(words + " ")}\n    }},\n'
                    f'    {obj}\n   ]')
    return (head + '   "type": "message",\n' + when + f'   "from": {_s(name)},\n   "from_id": "user{uid}",\n'
            + extra + f'   "text": {text},\n   "text_entities": {entities}\n  }}')


def synthetic_export(n: int, seed: int = 0, *, chat_id: int = 1234567890, title: str = "Synthetic channel",
                     local_dates: bool = False) -> bytes:
    """A single-chat ``result.json`` with ``n`` message objects (about 2% of them service messages).

    ``local_dates=True`` omits ``date_unixtime`` as exports before tdesktop 3.7.6 did, so reading
    the file needs a zone. The same ``n`` and ``seed`` give the same bytes.
    """
    rng = random.Random(seed)
    t = _START
    parts = []
    for mid in range(1, n + 1):
        t += rng.randint(0, 120)
        parts.append(_message(rng, mid, t, local_dates))
    body = ",\n".join(parts)
    return (f'{{\n "name": {_s(title)},\n "type": "public_channel",\n "id": {chat_id},\n'
            f' "messages": [\n{body}\n ]\n}}\n').encode()


def service_count(data: bytes) -> int:
    """How many service messages a synthetic export holds (what the reader must skip)."""
    return data.count(b'"type": "service"')


def _main(argv: list[str]) -> None:
    from detector.collect import telegram_export
    from detector.collect.base import ReadOptions

    n = int(argv[1]) if len(argv) > 1 else 100_000
    out = Path(argv[2]) if len(argv) > 2 else Path("bench/out") / f"telegram_{n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_bytes(synthetic_export(n, seed=1))
    size = out.stat().st_size
    start, cpu = time.perf_counter(), time.process_time()
    parsed = telegram_export.read(out, ReadOptions())
    took, cpu = time.perf_counter() - start, time.process_time() - cpu
    # CPU time is what one core spends; wall time also counts waiting for a shared machine.
    print(f"{n} messages, {size / 1e6:.0f} MB: {parsed.rows} posts in {took:.1f} s wall, {cpu:.1f} s CPU "
          f"({parsed.rows / cpu:,.0f} posts per CPU second)")


if __name__ == "__main__":
    _main(sys.argv)
