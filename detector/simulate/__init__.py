"""Synthetic cases with known truth: a subject channel, its notices, the chats around it.

``simulate_case(out_dir, seed, scenario)`` writes a folder that ``detector ingest DIR`` reads
with no flags, in the real formats (FORMATS.md): one Telegram Desktop ``result.json`` per
public channel, WhatsApp exports (Android ``.txt``, iOS ``.zip`` holding ``_chat.txt``), the
notices CSV template, views per day, ``detector-case.json`` (the zone of phone-local times),
``truth.json`` (what really happened) and ``README.txt``. ``detector-case.json`` also maps each
subject channel's ``@handle`` to its ``UC…`` id (``aliases``): the owner knows its own channel.

The model, in brief:

* **Subject**: one YouTube channel with ``n_videos`` testimony videos published over years;
  each video has a popularity that decays with age and a weekly cycle (views per day).
* **Background notices**: viewer complaints at ``organic_rate`` per day for the whole channel,
  following a daily and weekly cycle and each video's views, with an occasional removal; and
  an automated stream at ``automated_rate`` per day citing one policy over and over, more
  regular than Poisson (gamma gaps), with no burst.
* **Chats**: public Telegram channels and WhatsApp groups in English, Russian, Chinese, Kazakh
  and Uyghur, each with a role (hostile, neutral, sympathetic): chatter, media, links to news
  and to the subject's videos in every URL shape *without* asking anyone to report (praise,
  attack, discussion, "report" in the sense of a document), and unrelated calls (scams).
* **Events** (by scenario): ``campaign`` — an origin channel posts a call naming videos and a
  reason; other channels forward it or copy it with edits within hours; WhatsApp groups get
  pasted copies; a network of reporters (reused across waves) flags the named videos in
  sessions a few seconds apart, with lognormal lags after the call they saw; the platform
  removes a video after enough complaints plus a review delay (warning, then strikes); some
  named videos are never touched; sometimes a second wave and a channel suspension with
  reinstatement three days later; boasts after removals. ``organic`` — a few videos go viral,
  views jump, complaints follow the views and the videos are removed within two days, while
  chats link them in ordinary posts. ``failed`` — calls that nobody acts on. ``null`` —
  background only. ``mixed`` — all of these. ``aftermath`` — an organic removal wave (no call
  anywhere), then supporters ("removed after reports, appeal filed: <links>"), news and hostile
  channels name the removed videos while complaints keep trickling in. ``partial`` — a campaign
  whose origin calls sit in chats that were not exported; only some copies, some of them late,
  are in the collection. ``multichannel`` — one notices log for two channels: a campaign against
  one, organic notices (and perhaps a suspension) on the other. ``demo`` — the motivating
  incident (see :data:`DEMO`). In the ``campaign`` family some seeds add a call to report the
  whole channel (its ``@handle`` or ``/channel/UC…`` link), channel complaints and a
  termination.
* **Confounds in every family**: thanks and everyday status posts ("thanks for the support this
  week") in the same chats as calls and boasts, and news posts that quote a call (with its links)
  while asking nobody to report.

Determinism: every draw comes from one ``numpy.random.Generator(seed)`` in a fixed order;
nothing depends on the clock, the locale or set ordering, so the same seed writes the same
bytes.
"""


from __future__ import annotations

import json
import shutil
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from detector import simulate_text as T
from detector.errors import DetectorError
from detector.simulate.case import _Case
from detector.simulate.exports import _csv_bytes, _safe_name, _telegram_export, _whatsapp_export, _zip_bytes
from detector.simulate.model import (
    DEMO,
    HOUR,
    NOTICE_HEADER,
    OUR_DIRS,
    OUR_FILES,
    SCENARIOS,
    VIEWS_HEADER,
    SimParams,
)
from detector.simulate.truth import _final_notices, _notice_row, _readme, _truth

__all__ = ["SCENARIOS", "NOTICE_HEADER", "VIEWS_HEADER", "OUR_FILES", "OUR_DIRS", "DEMO", "SimParams",
           "simulate_case"]

# --------------------------------------------------------------------------------------------
# public API

def _params(scenario: str, overrides: dict) -> SimParams:
    known = {f.name for f in fields(SimParams)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise DetectorError(f"unknown simulation parameter(s): {', '.join(unknown)}",
                            hint=f"known parameters: {', '.join(sorted(known))}")
    base = replace(SimParams(), **DEMO) if scenario == "demo" else SimParams()
    p = replace(base, **overrides)
    if p.n_videos < 20 or p.days < 14:
        raise DetectorError("a simulated case needs at least 20 videos and 14 days",
                            hint="raise n_videos or days")
    if scenario == "demo" and (p.n_telegram < 2 or p.n_whatsapp < 1):
        raise DetectorError("the demo case needs n_telegram >= 2 and n_whatsapp >= 1")
    if not (1 <= p.n_telegram <= len(T.TELEGRAM_CHANNELS)) or not (0 <= p.n_whatsapp <= len(T.WHATSAPP_GROUPS)):
        raise DetectorError(f"n_telegram must be 1..{len(T.TELEGRAM_CHANNELS)} and n_whatsapp "
                            f"0..{len(T.WHATSAPP_GROUPS)}")
    try:
        ZoneInfo(p.tz)
        date.fromisoformat(p.start)
        date.fromisoformat(p.first_upload)
    except (ValueError, KeyError) as exc:
        raise DetectorError(f"bad simulation parameter: {exc}") from None
    return p


def _prepare_out(out: Path):
    if out.exists() and not out.is_dir():
        raise DetectorError("the output path exists and is not a folder", out)
    if out.is_dir() and any(not p.name.startswith(".") for p in out.iterdir()):   # .gitkeep is fine
        if not (out / "truth.json").is_file():
            raise DetectorError("the output folder is not empty and holds no simulated case", out,
                                hint="choose a new or empty folder")
        for name in OUR_FILES:
            (out / name).unlink(missing_ok=True)
        for name in OUR_DIRS:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
    out.mkdir(parents=True, exist_ok=True)


def simulate_case(out_dir, seed: int = 0, scenario: str = "mixed", **params) -> dict:
    """Write a simulated case to ``out_dir`` and return a summary.

    Parameters
    ----------
    out_dir : folder to write (created; a previous simulated case in it is replaced).
    seed : the one source of randomness; the same seed writes byte-identical files.
    scenario : ``campaign``, ``organic``, ``failed``, ``null``, ``mixed`` or ``demo``.
    **params : fields of :class:`SimParams` (``n_videos``, ``days``, ``start``, rates, …).

    Returns
    -------
    dict with ``out``, ``scenario``, ``seed``, ``tz``, ``files`` (relative path → bytes),
    ``counts`` and the ids of the campaigns, organic bursts and failed calls in ``truth.json``.

    Examples
    --------
    >>> summary = simulate_case("/tmp/case", seed=1, scenario="campaign")  # doctest: +SKIP
    >>> summary["counts"]["notices"] > 0  # doctest: +SKIP
    True
    """
    if scenario not in SCENARIOS:
        raise DetectorError(f"unknown scenario {scenario!r}", hint=f"choose one of: {', '.join(SCENARIOS)}")
    p = _params(scenario, params)
    case = _Case(int(seed), scenario, p)
    case.plan()
    case.background_notices()
    case.chatter()
    files = _build_files(case)
    out = Path(out_dir)
    _prepare_out(out)
    for rel, data in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    truth = json.loads(files["truth.json"])
    return {"out": str(out), "scenario": scenario, "seed": int(seed), "tz": p.tz,
            "files": {rel: len(data) for rel, data in files.items()}, "counts": truth["counts"],
            "campaigns": [c["id"] for c in truth["campaigns"]],
            "organic_bursts": [o["id"] for o in truth["organic_bursts"]],
            "failed_calls": [f["id"] for f in truth["failed_calls"]]}


def _build_files(case: _Case) -> dict[str, bytes]:
    p, clock = case.p, case.clock
    files: dict[str, bytes] = {}
    # chats first: writing assigns the message ids and shown times that truth.json cites
    export_day = clock.local(clock.t1 + 10 * HOUR)
    for chat in case.chats:
        if chat.platform == "telegram":
            files[f"telegram/{chat.username}/result.json"] = _telegram_export(case, chat)
        elif chat.os == "android":
            files[f"whatsapp/WhatsApp Chat with {_safe_name(chat.title)}.txt"] = _whatsapp_export(case, chat)
        else:
            data = _whatsapp_export(case, chat)
            files[f"whatsapp/WhatsApp Chat - {_safe_name(chat.title)}.zip"] = _zip_bytes("_chat.txt", data, export_day)
    for chat in case.hidden:   # not in the collection: written only to number their posts for truth.json
        (_telegram_export if chat.platform == "telegram" else _whatsapp_export)(case, chat)
    notices = _final_notices(case)
    files["notices.csv"] = _csv_bytes(NOTICE_HEADER, [_notice_row(case, i, n) for i, n in enumerate(notices, 1)])
    views = case.views_rows()
    files["views.csv"] = _csv_bytes(VIEWS_HEADER, views)
    files["detector-case.json"] = (json.dumps({
        "tz": p.tz,
        "note": f"Simulated case (scenario {case.scenario}, seed {case.seed}) written by detector.simulate. "
                f"WhatsApp times and Telegram 'date' fields are local times in {p.tz}.",
        "aliases": {f"@{c['handle']}": c["id"] for c in case.channels},
    }, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    truth = _truth(case, notices, views)
    files["truth.json"] = (json.dumps(truth, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    files["README.txt"] = _readme(case, truth).encode("utf-8")
    return dict(sorted(files.items()))


