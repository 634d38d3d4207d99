"""Synthetic WhatsApp exports of any size, for timing the reader.

Android lines (``23/03/2022, 13:31 - Name: text``) or iOS lines (``[3/23/22, 1:31:05\u202fPM] Name: text``
with U+200E marks), with multi-line messages, media placeholders, deleted messages, system
lines and a link in one message of ten, as real group exports have.

Run ``python bench/whatsapp_synthetic.py 1000000 [android|ios]`` to write a file and time the reader.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

_NAMES = ["Анна Петрова", "Bob", "~ Ali 🇰🇿", "\u202a+7 701 234 5678\u202c", "مریم", "王伟"]
_WORDS = ("report this video for harassment please everyone now пожаловаться на видео жалоба "
          "шикаят 举报 这个 视频 ok thanks 🚨 👀 срочно").split()


def write_export(path: Path, messages: int, platform: str = "android", seed: int = 0) -> Path:
    """Write a WhatsApp export with ``messages`` headers (system lines included)."""
    rng = random.Random(seed)
    when = datetime(2023, 1, 1, 8, 0, 0)
    lines = []
    for i in range(messages):
        when += timedelta(seconds=rng.randint(1, 90))
        name = _NAMES[i % len(_NAMES)]
        body = " ".join(rng.choices(_WORDS, k=rng.randint(2, 16)))
        if i % 10 == 3:
            body += f" https://youtu.be/{'abcdefghij'[i % 10]}Qw4w9WgXcQ"
        if i % 13 == 5:
            body += "\nsecond line\n\nafter an empty line"
        if platform == "ios":
            hour = when.hour % 12 or 12
            stamp = f"[{when.month}/{when.day}/{when.year % 100}, {hour}:{when:%M:%S}\u202f{'PM' if when.hour >= 12 else 'AM'}]"
            if i % 50 == 7:
                body = "\u200eimage omitted"
            lines.append(f"{stamp} Group: \u200eMessages and calls are end-to-end encrypted." if i == 0
                         else f"{stamp} {name}: {body}")
        else:
            stamp = f"{when:%d/%m/%Y, %H:%M} -"
            if i % 50 == 7:
                body = "<Media omitted>"
            if i % 97 == 11:
                body = "This message was deleted"
            lines.append(f"{stamp} {name} joined using this group's invite link" if i % 211 == 0
                         else f"{stamp} {name}: {body}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main(argv: list[str]) -> None:
    from detector.collect.base import ReadOptions
    from detector.collect.whatsapp import read

    messages = int(argv[1]) if len(argv) > 1 else 100_000
    platform = argv[2] if len(argv) > 2 else "android"
    path = write_export(Path(f"/tmp/whatsapp_bench_{platform}_{messages}.txt"), messages, platform)
    wall, cpu = time.perf_counter(), time.process_time()
    parsed = read(path, ReadOptions(tz="Asia/Almaty"))
    print(f"{platform}: {messages} headers, {parsed.rows} posts in {time.perf_counter() - wall:.1f} s "
          f"({time.process_time() - cpu:.1f} s CPU), {path.stat().st_size / 1e6:.0f} MB; {parsed.detail}")


if __name__ == "__main__":
    main(sys.argv)
