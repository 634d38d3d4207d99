"""The command-line shell: parses options, calls the library, prints. No analysis lives here."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from detector.bundled import DEMO_DIR
from detector.errors import DetectorError
from detector.formatting import count
from detector.simulate import SCENARIOS
from detector.store import DEFAULT_DB, Case

err_console = Console(stderr=True, highlight=False)
console = Console(highlight=False)


# Control characters (terminal escapes, carriage returns, bidi overrides) in hostile text could clear
# the screen or forge lines; every string that came from an input is shown with them made visible.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """``value`` as text safe to print on a terminal: control characters become ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(value))


class UserError(click.ClickException):
    """A :class:`DetectorError` as the CLI shows it: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {plain(self.message)}", err=True)


class InternalError(click.ClickException):
    """A bug met at run time: one line naming the crash report, exit code 70 (EX_SOFTWARE)."""

    exit_code = 70

    def show(self, file=None) -> None:
        click.echo(f"error: {plain(self.message)}", err=True)


class DetectorGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DetectorError as exc:
            raise UserError(str(exc)) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback reaches the user
            from detector.crash import write_crash_report

            report = write_crash_report(exc, sys.argv)
            where = f"a crash report was written to {report}" if report else "no crash report could be written"
            raise InternalError(f"internal error ({type(exc).__name__}); {where}. Please send it to the "
                                "maintainers; it holds the traceback and the command's arguments") from None


db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_DB,
                         show_default=True, help="The case file (DuckDB).")
wait_option = click.option("--wait", "lock_wait", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                           help="How long to wait while another command writes the case "
                                "(default: $DETECTOR_LOCK_WAIT or 60).")
operator_option = click.option("--operator", help="Your name for the case's custody log "
                               "(default: DETECTOR_OPERATOR, else the OS user name).")


@click.group(cls=DetectorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mass-report-detector")
def main() -> None:
    """Find coordinated mass-reporting campaigns: notices joined to the calls to report behind them."""


# -- ingest ------------------------------------------------------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", help="Read the files as this format instead of detecting it.")
@click.option("--tz", help="Zone of phone-local or naive times (IANA name, e.g. Asia/Almaty).")
@click.option("--dayfirst/--monthfirst", default=None,
              help="Date order of the WhatsApp exports whose dates read both ways (default: detect per file).")
@click.option("--limit", "limit_settings", multiple=True, metavar="NAME=VALUE",
              help="Change a parse limit for this run, e.g. --limit earliest=2003-01-01 (see README, Limits).")
@operator_option
@db_option
@wait_option
def ingest(paths: tuple[Path, ...], fmt: str | None, tz: str | None, dayfirst: bool | None,
           limit_settings: tuple[str, ...], operator: str | None, db: Path, lock_wait: float | None) -> None:
    """Ingest files or folders (recognised files inside) into the case. All or nothing."""
    from detector.collect.limits import DEFAULT_LIMITS
    from detector.ingestion import ingest as run_ingest

    limits = DEFAULT_LIMITS.with_settings(limit_settings)

    with _progress() as progress:
        task = progress.add_task("reading", total=None)

        def on_progress(i: int, n: int, name: str) -> None:
            progress.update(task, total=n, completed=i, description=f"reading {name}" if name else "writing")

        report = run_ingest(paths, db, fmt=fmt, tz=tz, dayfirst=dayfirst, on_progress=on_progress,
                            lock_wait=lock_wait, limits=limits, operator=operator)
    table = Table("file", "format", "rows added", "status", box=None)
    for f in report.files:
        table.add_row(plain(f.name), f.kind, str(f.rows), f.status)
    console.print(table)
    for f in report.files:
        for note in f.notes:
            console.print(plain(f"note: {f.name}: {note}"), markup=False)
    for rel, reason in report.skipped:
        console.print(f"skipped {plain(rel)}: {reason}", markup=False)
    if report.zone_note:
        console.print(report.zone_note)
    if report.aliases_added:
        console.print(f"{report.aliases_added} channel aliases added (from {CASE_FILE_NAME}); see: detector alias")
    console.print(f"{report.rows} rows added from {sum(f.status == 'added' for f in report.files)} new files "
                  f"into {db}")
    if report.originals_kept:
        console.print(f"{report.originals_kept} original files kept in the case "
                      f"({_size(report.originals_stored_bytes)} compressed)")
    if report.log_seq:
        console.print(f"custody log entry #{report.log_seq}")


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n / 1e3:.1f} kB"


# -- alias -------------------------------------------------------------------------------------
CASE_FILE_NAME = "detector-case.json"


@main.command()
@click.argument("alias", required=False)
@click.argument("canonical", required=False)
@click.option("--remove", "remove", is_flag=True, help="Forget ALIAS instead of adding it.")
@db_option
@wait_option
def alias(alias: str | None, canonical: str | None, remove: bool, db: Path, lock_wait: float | None) -> None:
    """Say that two names are one YouTube channel (@handle, /c/ name, UC… id); no arguments lists them.

    Example: detector alias @dalatestimony UC2ogRTCEBL0p6gm-uoij7R0. Run analyze again afterwards.
    """
    from detector.identity import channel_target

    if alias is None:
        with Case.open(db, read_only=True) as case:
            stored = case.aliases()
        if stored.empty:
            console.print("no channel aliases stored")
        for r in stored.itertuples():
            console.print(plain(f"{r.alias} = {r.canonical} ({r.origin})"), markup=False)
        return
    with Case.open(db, command="alias", wait=lock_wait) as case:
        if remove:
            n = case.remove_alias(channel_target(alias))
            console.print(f"removed {n} alias pairs", markup=False)
            return
        if canonical is None:
            raise DetectorError("give two names of one channel", hint="detector alias @handle UC…")
        pair = channel_target(alias), channel_target(canonical)
        if pair[0] == pair[1]:
            raise DetectorError("both names are the same id")
        import pandas as pd

        from detector.identity import resolve_aliases

        resolve_aliases(pd.concat([case.aliases(), pd.DataFrame([{"alias": pair[0], "canonical": pair[1]}])]))
        added = case.add_alias(*pair, origin="user")
    console.print(f"{pair[0]} = {pair[1]}" + ("" if added else " (already known)") +
                  "; run detector analyze to use it", markup=False)


# -- review ------------------------------------------------------------------------------------
reviewer_option = click.option("--reviewer", help="Who is reviewing (default: $DETECTOR_OPERATOR, else the OS user).")


def queue_options(command):
    """--candidates and --target: which posts a review command lists beyond the campaigns' own."""
    command = click.option("--target", help="Instead of the campaigns' posts, every post naming this link or id "
                                            "(calls and the others), to mark the calls the classifier missed.")(command)
    return click.option("--candidates", is_flag=True, help="Also the posts naming a campaign's targets that the "
                                                          "classifier took for neither a call nor a boast.")(command)


@main.group()
def review() -> None:
    """Confirm, reject or reclassify the machine's calls and boasts before a packet goes out.

    Decisions are stored in the case with who and when; run analyze again to recompute the
    campaigns on them (rejected posts never count; a post marked call or boast counts as one
    whatever the classifier said; with analyze --reviewed-only only confirmed and marked ones do).
    """


def _review_queue(case: Case, campaign_id: str | None, candidates: bool, target: str | None):
    from detector.results import review_queue

    if target is not None and campaign_id is not None:
        raise DetectorError("give a campaign id or --target, not both")
    return review_queue(case, campaign_id, candidates=candidates, target=target)


def _decision_shown(r) -> str:
    """The decision in force as a list shows it ("marked call by Dana")."""
    return f"{r.review} by {r.reviewer}" if r.review != "unreviewed" and isinstance(r.reviewer, str) else r.review


@review.command("list")
@click.argument("campaign_id", required=False)
@queue_options
@db_option
def review_list(campaign_id: str | None, candidates: bool, target: str | None, db: Path) -> None:
    """List the posts to review (each campaign's calls and cited posts) and the decision in force."""
    import pandas as pd

    from detector.review import review_summary

    with Case.open(db, read_only=True) as case:
        queue = _review_queue(case, campaign_id, candidates, target)
        _warn_if_stale(case)
    table = Table("campaign", "post", "kind", "p_call", "decision", "chat", "text", box=None)
    for r in queue.itertuples():
        table.add_row(r.campaign_id or "", plain(r.post_id), plain(r.kind),
                      "" if pd.isna(r.p_call) else f"{r.p_call:.2f}", plain(_decision_shown(r)),
                      plain(r.chat_title or r.chat or ""), plain(_short(r.text, 70)))
    console.print(table)
    s = review_summary(queue)
    console.print(f"{s['rows']} posts: {s['confirmed']} confirmed, {s['rejected']} rejected, {s['marked']} marked "
                  f"as a call or boast, {s['unreviewed']} not reviewed", markup=False)


def _short(text, n: int) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


@review.command("export")
@click.argument("campaign_id", required=False)
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The CSV file to write (fill its decision column: confirm, reject, call, boast or clear).")
@queue_options
@db_option
def review_export(campaign_id: str | None, out: Path, candidates: bool, target: str | None, db: Path) -> None:
    """Write the posts to review as a CSV; fill it in, then: detector review import FILE."""
    from detector.review import write_review_file

    with Case.open(db, read_only=True) as case:
        n = write_review_file(_review_queue(case, campaign_id, candidates, target), out)
    console.print(f"wrote {n} posts to review into {out}; fill the decision column, then: "
                  f"detector review import {out}", markup=False)


@review.command("import")
@click.argument("review_file", type=click.Path(dir_okay=False, path_type=Path))
@reviewer_option
@db_option
def review_import(review_file: Path, reviewer: str | None, db: Path) -> None:
    """Store the decisions filled in a review file (all or none)."""
    from detector.review import read_review_file, reviewer_name, store_decisions

    decided = read_review_file(review_file)
    who = reviewer_name(reviewer)
    with Case.open(db, command="review") as case, case.transaction():
        n = store_decisions(case, decided, who, path=review_file)
    console.print(f"stored {count(n, 'decision')} by {plain(who)}; run detector analyze to recompute the campaigns",
                  markup=False)


@review.command("start")
@click.argument("campaign_id", required=False)
@click.option("--all", "everything", is_flag=True, help="Also show posts already reviewed.")
@queue_options
@reviewer_option
@db_option
def review_start(campaign_id: str | None, everything: bool, candidates: bool, target: str | None,
                 reviewer: str | None, db: Path) -> None:
    """Review interactively: each post is shown, answer c(onfirm), r(eject), call, b(oast), s(kip) or q(uit).

    "call" and "boast" mark a post the classifier got wrong as one. Each decision is stored as
    soon as it is given, so quitting keeps what was done.
    """
    import pandas as pd

    from detector.review import case_checked_decisions, parse_decision, reviewer_name, store_decisions

    who = reviewer_name(reviewer)
    with Case.open(db, read_only=True) as case:
        queue = _review_queue(case, campaign_id, candidates, target)
    queue = queue.drop_duplicates("post_id")
    if not everything:
        queue = queue[queue["review"] == "unreviewed"]
    if queue.empty:
        console.print("nothing to review", markup=False)
        return
    done = 0
    for i, r in enumerate(queue.itertuples(), 1):
        p_call = "" if pd.isna(r.p_call) else f" (p_call {r.p_call:.2f})"
        console.print(f"\n[{i}/{len(queue)}] campaign {r.campaign_id or '-'} · {r.kind}{p_call} · "
                      f"{plain(r.chat_title or r.chat)} · {r.posted_at} · now {r.review}", markup=False)
        console.print(plain(r.text), markup=False)
        while True:
            answer = click.prompt("c(onfirm), r(eject), call, b(oast), s(kip), q(uit)", default="s",
                                  show_default=False).strip().lower()
            if answer in ("q", "quit", "s", "skip", ""):
                break
            try:
                decided = pd.DataFrame({"post_id": [r.post_id], "decision": [parse_decision(answer)]})
                with Case.open(db, read_only=True) as case:
                    case_checked_decisions(case, decided)       # refused before the note is asked
            except DetectorError as exc:
                console.print(str(exc), markup=False)      # ask again about the same post
                continue
            decided["note"] = click.prompt("note (optional)", default="", show_default=False)
            with Case.open(db, command="review") as case, case.transaction():
                store_decisions(case, decided, who)
            done += 1
            break
        if answer in ("q", "quit"):
            break
    console.print(f"stored {count(done, 'decision')} by {plain(who)}; run detector analyze to recompute the campaigns",
                  markup=False)


# -- collect -----------------------------------------------------------------------------------
@main.group()
def collect() -> None:
    """Collect posts live from public sources."""


@collect.command("telegram")
@click.argument("channels", nargs=-1, required=True)
@click.option("--since", help="Collect messages from this date (ISO 8601, UTC) on; default: everything.")
@click.option("--web/--telethon", "web", default=None,
              help="Read the public preview t.me/s/… (no account; the default without Telethon credentials) "
                   "or use Telethon (needs the TELEGRAM_* variables; the default when they are set).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many new messages per channel, the newest (--web).")
@click.option("--delay", type=click.FloatRange(min=0.5), default=2.0, show_default=True,
              help="Seconds between two requests to t.me (--web).")
@click.option("--base-url", help="Where the preview is served (--web; default https://t.me, or DETECTOR_TELEGRAM_WEB_URL).")
@operator_option
@db_option
@wait_option
def collect_telegram_cmd(channels: tuple[str, ...], since: str | None, web: bool | None, limit: int | None,
                         delay: float, base_url: str | None, operator: str | None, db: Path,
                         lock_wait: float | None) -> None:
    """Collect public Telegram channels. Resumes where the last run stopped.

    Without an account, from the web preview (t.me/s/CHANNEL): text, links, dates, views,
    forwards, replies, edits. With Telethon: TELEGRAM_API_ID, TELEGRAM_API_HASH and
    TELEGRAM_SESSION or TELEGRAM_SESSION_FILE."""
    from detector.ingestion import collect_telegram

    client = None
    if web is not False:
        from detector.collect.telegram_web import PreviewClient

        client = PreviewClient(base_url, delay=delay)
    report = collect_telegram(list(channels), since, db, progress=True, web=web, preview_client=client, limit=limit,
                              lock_wait=lock_wait, operator=operator)
    table = Table("channel", "collected", "rows added", "last id", "problem", box=None)
    for c in report.channels:
        table.add_row(plain(c.channel), str(c.collected), str(c.added), str(c.last_id or ""), plain(c.problem or ""))
    console.print(table)
    console.print(f"{report.rows_added} rows added into {db}")
    if report.problems and len(report.problems) == len(report.channels):
        sys.exit(1)


# -- watch -------------------------------------------------------------------------------------
@main.command()
@click.argument("channels", nargs=-1)
@click.option("--subject", "subject", multiple=True,
              help="A video or channel to protect (link, id or @handle); repeat for several.")
@click.option("--channels-file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A text file of channels to follow, one per line (# comments).")
@click.option("--interval", type=float, default=300.0, show_default=True,
              help="Seconds between two reads of a channel (60 to 86400).")
@click.option("--lookback-h", type=float, default=24.0, show_default=True,
              help="A channel read for the first time: its posts of the last H hours count.")
@click.option("--once", is_flag=True, help="Read every channel once and exit (for cron or a systemd timer).")
@click.option("--webhook", help="POST each alert as JSON here (default: DETECTOR_WEBHOOK_URL).")
@click.option("--email/--no-email", default=None,
              help="E-mail each alert (default: when DETECTOR_SMTP_HOST is set).")
@click.option("--web/--telethon", "web", default=None, help="How to read the channels (as collect telegram).")
@click.option("--delay", type=click.FloatRange(min=0.5), default=2.0, show_default=True,
              help="Seconds between two requests to t.me (--web).")
@click.option("--base-url", help="Where the preview is served (--web; default https://t.me).")
@db_option
def watch(channels: tuple[str, ...], subject: tuple[str, ...], channels_file: Path | None, interval: float,
          lookback_h: float, once: bool, webhook: str | None, email: bool | None, web: bool | None, delay: float,
          base_url: str | None, db: Path) -> None:
    """Follow public channels and alert on calls to report the subject, or copies of known calls
    in new chats. The channels and subject given are kept in the case; run again with none to reuse them.
    Stops cleanly on SIGTERM or Ctrl-C."""
    import os
    import signal
    import threading

    from detector import watch as w
    from detector.ingestion import collect_telegram

    listed = list(channels)
    if channels_file:
        listed += [ln.split("#")[0].strip() for ln in channels_file.read_text(encoding="utf-8").splitlines()]
    listed = [c for c in listed if c]
    with Case.open(db) as case:
        saved = json.loads(case.meta("watch_list") or "{}")
        if listed or subject:
            saved = {"channels": listed or saved.get("channels", []), "subject": list(subject) or saved.get("subject", [])}
            case.set_meta("watch_list", json.dumps(saved))
    notify = [lambda a: console.print(f"ALERT {a['alert_id']}: {plain(w.alert_summary(a))}", markup=False)]
    hook = webhook or os.environ.get(w.ENV_WEBHOOK)
    if hook:
        notify.append(w.webhook_notifier(hook))
    smtp = w.smtp_settings_from_env()
    if email and smtp is None:
        raise DetectorError("--email needs DETECTOR_SMTP_HOST (and the other DETECTOR_SMTP_* settings)")
    if smtp is not None and email is not False:
        notify.append(w.email_notifier(smtp))
    stop = threading.Event()
    client = None
    if web is not False:
        from detector.collect.telegram_web import PreviewClient

        client = PreviewClient(base_url, delay=delay)

    def collect(chans, since, max_pages_new):
        return collect_telegram(chans, since, db, progress=False, web=web, preview_client=client,
                                max_pages_new=max_pages_new)

    watcher = w.Watcher(db, saved.get("channels", []), saved.get("subject", []), interval=interval,
                        lookback_h=lookback_h, collect=collect, sleep=stop.wait, notify=notify,
                        on_error=lambda text: err_console.print(f"warning: {plain(text)}", markup=False))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def on_poll(result) -> None:
        console.print(f"{result.started:%Y-%m-%d %H:%M:%S} UTC: read {len(result.channels)} channels, "
                      f"{result.posts} new posts, {len(result.alerts)} alerts ({result.seconds:.1f} s)", markup=False)

    console.print(f"watching {len(watcher.channels)} channels every {interval:.0f} s for "
                  f"{len(watcher.subject)} subject ids; alerts go to the case"
                  + (", the webhook" if hook else "") + (", e-mail" if len(notify) > 1 + bool(hook) else ""),
                  markup=False)
    polls = watcher.run(should_stop=stop.is_set, max_polls=1 if once else None, on_poll=on_poll)
    console.print(f"stopped after {polls} polls", markup=False)


# -- status ------------------------------------------------------------------------------------
@main.command()
@db_option
def status(db: Path) -> None:
    """Print what the case holds: sources, rows per table, time spans."""
    from detector.status import case_status

    with Case.open(db, read_only=True) as case:
        st = case_status(case)
        _warn_if_stale(case)
    _print_status(st, db)
    if st.custody is not None and not st.custody.ok:
        sys.exit(1)


def _print_status(st, db: Path) -> None:
    console.print(f"case {db}" + (f" (local times read in {st.zone})" if st.zone else ""))
    counts = Table("table", "rows", "first (UTC)", "last (UTC)", box=None)
    for table, n in st.counts.items():
        first, last = st.spans.get(table, ("", ""))
        counts.add_row(table, str(n), str(first), str(last))
    console.print(counts)
    console.print(f"{st.chats} chats, {st.targets} distinct notice targets")
    if len(st.sources):
        sources = Table("kind", "name", "rows", "sha256", box=None)
        for row in st.sources.itertuples():
            sources.add_row(row.kind, plain(row.label), str(row.rows), row.sha256[:16])
        console.print(sources)
    for row in st.aliases.itertuples():
        console.print(plain(f"channel alias: {row.alias} = {row.canonical} ({row.origin})"), markup=False)
    if st.parameters is not None:
        from detector.params import describe, format_value

        params = Table("analysis parameter", "value", box=None)
        for row in describe(st.parameters):
            params.add_row(row["name"], format_value(row["value"], row["unit"]))
        console.print(params)
    if st.custody is not None:
        click.echo(f"{st.custody.summary()} (detector log lists it)")
    if st.originals is not None:
        console.print(st.originals, markup=False)


# -- analyze, campaigns, check ---------------------------------------------------------------
def parameter_options(func):
    """The user-facing analysis parameters (detector.params, ``option=True``) as ``analyze`` options."""
    from detector.params import describe, option_name

    for row in reversed([r for r in describe() if r["option"]]):
        unit = f" ({row['unit']})" if row["unit"] else ""
        if isinstance(row["default"], bool):   # a flag: given means not the default, absent "not given"
            func = click.option(option_name(row), row["name"], flag_value=not row["default"], default=None,
                                help=f"{row['doc'][0].upper()}{row['doc'][1:]}.")(func)
            continue
        func = click.option(f"--{row['name'].replace('_', '-')}", row["name"], type=type(row["default"]),
                            default=None, help=f"{row['doc'][0].upper()}{row['doc'][1:]}{unit}. "
                                               f"Default {row['default']}.")(func)
    return func


@main.command()
@parameter_options
@operator_option
@db_option
@wait_option
def analyze(db: Path, lock_wait: float | None, operator: str | None, **options) -> None:
    """Classify calls, find bursts, link notices to calls and rank campaigns; store them in the case.

    Every parameter is recorded with the results (detector status lists them).
    """
    from detector.analysis import STEPS, analyze_case
    from detector.params import DEFAULTS

    params = DEFAULTS.replace(**options)

    with _progress() as progress:
        task = progress.add_task("analysing", total=len(STEPS))

        def on_step(name: str) -> None:
            progress.update(task, completed=STEPS.index(name), description=f"analysing: {name}")

        analysis = analyze_case(db, params=params, on_step=on_step, lock_wait=lock_wait, operator=operator)
    camps = analysis["campaigns"]
    tiers = camps["tier"].value_counts().to_dict() if len(camps) else {}
    console.print(f"{len(analysis['calls'])} calls and boasts, {int(analysis['bursts']['significant'].sum()) if len(analysis['bursts']) else 0} "
                  f"significant bursts, {len(camps)} campaigns "
                  f"({', '.join(f'{n} {t}' for t, n in sorted(tiers.items())) or 'none'}) stored in {db}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, best first.")
@db_option
def campaigns(as_json: bool, db: Path) -> None:
    """The ranked campaigns of an analysed case."""
    from detector.results import campaign_list, nothing_to_test, too_little_history, unexplained_bursts

    with Case.open(db, read_only=True) as case:
        items = campaign_list(case)
        unexplained = unexplained_bursts(case)
        empty, history = nothing_to_test(case), too_little_history(case)
        _warn_if_stale(case)
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=1, allow_nan=False))
        return
    _print_campaigns(items, unexplained, empty, history)


def _print_campaigns(items: list[dict], unexplained, empty: str | None = None, history: str | None = None) -> None:
    from detector.formatting import count, decimal, p_value

    if empty:
        console.print(empty, markup=False)
    elif not items:
        console.print("No evidence of coordination in the collected sources: no post asked anyone to report a "
                      "target that received notices.")
    for c in items:
        console.print(f"[bold]#{c['rank']} {c['id']}[/bold]  tier {c['tier']}  score {decimal(c['score'], 2)}  "
                      f"{c['start'][:16]} → {c['end'][:16]}  {count(len(c['targets']), 'target')}, "
                      f"{count(c['calls'], 'call')} in {count(len(c['chats']), 'chat')}, "
                      f"{count(c['notices'], 'notice')}  p_link = {p_value(c['p_link'])}  "
                      f"p_burst = {p_value(c['p_burst'])}", markup=True, highlight=False)
        # Weak campaigns (calls that changed nothing) get their first finding only.
        for f in c["findings"] if c["tier"] != "weak" else c["findings"][:1]:
            console.print(f"   - {plain(f)}", markup=False)
    if history:
        console.print(history, markup=False)
    elif len(unexplained):
        console.print(f"{count(len(unexplained), 'burst')} with no call behind them (unexplained, not campaigns):")
        for b in unexplained.itertuples():
            also = f" (the same notices as {', '.join(map(plain, b.also_in))})" if b.also_in else ""
            console.print(f"   - {plain(b.stream)}{also}: {count(b.notices, 'notice')} {b.start:%Y-%m-%d %H:%M} → "
                          f"{b.end:%Y-%m-%d %H:%M} UTC against {decimal(b.expected)} expected "
                          f"(p_burst = {p_value(b.p_burst)})", markup=False)


def _warn_if_stale(case: Case) -> None:
    """One line on stderr when the stored results predate the case's latest inputs."""
    from detector.results import stale_warning

    warning = stale_warning(case)
    if warning:
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@db_option
def check(url: str, as_json: bool, db: Path) -> None:
    """What the case shows about one video or channel: its notices and the calls before each."""
    from detector.results import check_target

    with Case.open(db, read_only=True) as case:
        result = check_target(case, url)
        _warn_if_stale(case)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=1, allow_nan=False))
        return
    console.print(plain(result.target), markup=False)
    console.print(plain(result.headline), markup=False)
    console.print(plain(result.verdict), markup=False)
    for d in result.details:
        console.print(f"  - {plain(d)}", markup=False)
    console.print(result.limits, markup=False)


# -- packet, verify ----------------------------------------------------------------------------
@main.command()
@click.argument("campaign_id")
@click.option("-o", "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The ZIP to write.")
@click.option("--no-redact", is_flag=True, help="Show private people's names instead of pseudonyms.")
@click.option("--allow-stale", is_flag=True, help="Build it even when the analysis predates the latest ingest.")
@click.option("--reviewed-only", is_flag=True, help="Refuse unless the analysis counted only posts an analyst "
                                                     "confirmed (detector analyze --reviewed-only).")
@click.option("--phone-regions", metavar="CC,CC", default=None,
              help="Countries whose national phone formats are masked (default KZ,RU,CN,US,UA,GB).")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the manifest with this Ed25519 private key (from detector keygen).")
@operator_option
@db_option
def packet(campaign_id: str, out: Path, no_redact: bool, allow_stale: bool, reviewed_only: bool,
           phone_regions: str | None, sign_key: Path | None, operator: str | None, db: Path) -> None:
    """Write an evidence packet (report, tables, sources, hashes, custody record) for one campaign."""
    import warnings

    from detector.evidence.packet import build_packet
    from detector.evidence.render_pdf import UndrawnTextWarning
    from detector.evidence.verify import verify_packet

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndrawnTextWarning)
        path = build_packet(db, campaign_id, out, redact=not no_redact, allow_stale=allow_stale,
                            reviewed_only=reviewed_only, phone_regions=phone_regions, sign_key=sign_key,
                            operator=operator)
    for w in caught:
        if issubclass(w.category, UndrawnTextWarning):
            err_console.print(f"warning: {w.message}", markup=False)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    result = verify_packet(path)
    # click.echo, not rich: hashes must stay on one line to be copied.
    click.echo(plain(f"wrote {path} ({path.stat().st_size // 1024} KiB); check it with: detector verify {path}"))
    click.echo(f"manifest.json SHA-256: {result.manifest_sha256} (give it to the recipient by another channel)")
    click.echo(result.signature.line())


@main.command()
@click.argument("campaign_id")
@click.option("-o", "--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write appeal.txt, counter_notification.txt and routes.txt into.")
@click.option("--packet", "packet_zip", type=click.Path(dir_okay=False, path_type=Path),
              help="The campaign's evidence packet to cite (default: build one into the folder).")
@click.option("--max-chars", type=click.IntRange(200, 20000), default=1000, show_default=True,
              help="Length limit of the platform's appeal form.")
@click.option("--no-redact", is_flag=True, help="Build the packet with private people's names.")
@db_option
def appeal(campaign_id: str, out_dir: Path, packet_zip: Path | None, max_chars: int, no_redact: bool,
           db: Path) -> None:
    """Write appeal-ready texts for one campaign: the appeal, a counter-notification draft, the routes left."""
    from detector.evidence.packet import write_appeal

    written = write_appeal(db, campaign_id, out_dir, packet_zip=packet_zip, max_chars=max_chars,
                           redact=not no_redact)
    for name, path in written.items():
        console.print(f"{name}: {path}", markup=False)
    appeal_len = len(written["appeal.txt"].read_text(encoding="utf-8").strip())
    console.print(f"the appeal is {appeal_len} characters (limit {max_chars}); fill every [bracketed] field of "
                  "the counter-notification yourself", markup=False)


@main.command()
@click.argument("packet_zip", metavar="PACKET.zip", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path),
              help="The signer's public key (KEY.pub): the packet must be signed with it.")
def verify(packet_zip: Path, key: Path | None) -> None:
    """Check an evidence packet: every hash, nothing outside the manifest, signature, timestamp and
    custody record. Exit 0 if intact, 1 naming what is wrong; the manifest's SHA-256 always."""
    from detector.evidence.verify import verify_packet

    result = verify_packet(packet_zip, key=key)
    for line in result.lines():
        click.echo(plain(line))
    if not result.intact:
        sys.exit(1)


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def keygen(out: Path) -> None:
    """Write a new Ed25519 key pair for signing packets: OUT (private, mode 0600) and OUT.pub.

    The private key is encrypted when DETECTOR_KEY_PASSPHRASE is set (and read with it).
    """
    from detector.evidence.signing import generate_keypair

    private, public, fp = generate_keypair(out)
    click.echo(plain(f"wrote {private} (private: keep it to yourself) and {public} (public: give it to recipients)"))
    click.echo(f"fingerprint {fp}")


@main.command()
@click.argument("packet_zip", metavar="PACKET.zip", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--tsa", help="The RFC 3161 timestamp authority's URL (needs the internet).")
@click.option("--response", "response", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Store this TimeStampResp (.tsr), obtained with --request-out and another tool.")
@click.option("--request-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Only write the TimeStampReq (.tsq) for the manifest here, for another tool to send.")
def timestamp(packet_zip: Path, tsa: str | None, response: Path | None, request_out: Path | None) -> None:
    """Add an RFC 3161 trusted timestamp over the packet's manifest (run when online)."""
    from detector.evidence.packet import MANIFEST
    from detector.evidence.timestamp import new_nonce, packet_entry, timestamp_packet, timestamp_request

    if request_out is not None:
        request_out.write_bytes(timestamp_request(packet_entry(packet_zip, MANIFEST), new_nonce()))
        click.echo(plain(f"wrote {request_out}; send it with e.g. curl -H 'Content-Type: application/timestamp-query' "
                         f"--data-binary @{request_out.name} TSA_URL > reply.tsr, then: detector timestamp "
                         f"{packet_zip.name} --response reply.tsr"))
        return
    check = timestamp_packet(packet_zip, tsa_url=tsa, response=response.read_bytes() if response else None)
    click.echo(plain(check.line()))
    click.echo(plain(f"stored in {packet_zip} as timestamp.tsr; detector verify checks it"))


# -- custody: the log and the kept originals ---------------------------------------------------
@main.command("log")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@db_option
def log_cmd(as_json: bool, db: Path) -> None:
    """The case's custody log: every ingest, analysis and packet, checked link by link (exit 1 if broken)."""
    from detector import custody

    with Case.open(db, read_only=True) as case:
        entries = custody.read_log(case)
        unlogged = custody.unlogged_sources(case, entries)
    check = custody.check_chain(entries)
    if as_json:
        click.echo(json.dumps({"entries": [e.as_json() for e in entries], "chain_intact": check.ok,
                               "problems": check.problems}, ensure_ascii=False, indent=1))
    else:
        for e in entries:
            click.echo(plain(f"#{e.seq} {e.at} {e.action} by {e.operator} (version {e.software_version}): "
                             f"{custody.describe(e)}"))
        if unlogged:
            click.echo(f"{unlogged} sources were ingested before this case kept a custody log")
        click.echo(plain(check.summary()))
    if not check.ok:
        sys.exit(1)


@main.command()
@click.option("--extract", "extract", metavar="SHA256", help="Write the kept original with this SHA-256 "
              "(or its first 8+ hex digits) to --out.")
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Where --extract writes.")
@db_option
def sources(extract: str | None, out: Path | None, db: Path) -> None:
    """The case's source files with their SHA-256 and the original copy it keeps of each."""
    import pandas as pd

    from detector.originals import extract_original, source_copies

    if extract:
        if out is None:
            raise DetectorError("--extract needs -o OUT")
        with Case.open(db, read_only=True) as case:
            sha, size = extract_original(case, extract, out)
        click.echo(plain(f"wrote {out} ({size} bytes, SHA-256 {sha} checked)"))
        return
    with Case.open(db, read_only=True) as case:
        listed = source_copies(case)
    table = Table("sha256", "kind", "name", "rows", "original kept", box=None)
    for r in listed.itertuples():
        copy = "no" if pd.isna(r.bytes) else f"{_size(int(r.bytes))} as {_size(int(r.stored_bytes))}"
        table.add_row(r.sha256[:16], r.kind, plain(r.name), str(r.rows), copy)
    console.print(table)


# -- template ----------------------------------------------------------------------------------
@main.command()
@click.argument("kind", type=click.Choice(["notices"]))
@click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
def template(kind: str, out: Path | None) -> None:
    """Write an empty notices CSV in the project's template."""
    from detector.collect.notices_csv import template_csv

    text = template_csv()
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        click.echo(text, nl=False)


# -- simulate ----------------------------------------------------------------------------------
@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the simulated case into.")
@click.option("--seed", default=0, show_default=True)
@click.option("--scenario", default="mixed", show_default=True,
              type=click.Choice(SCENARIOS))
def simulate(out_dir: Path, seed: int, scenario: str) -> None:
    """Write a simulated incident in the real input formats, with its truth.json."""
    from detector.simulate import simulate_case

    summary = simulate_case(out_dir, seed=seed, scenario=scenario)
    counts = summary.get("counts", {})
    console.print(f"wrote {len(summary.get('files', {}))} files to {out_dir} (scenario {scenario}, seed {seed}): "
                  f"{counts.get('notices', 0)} notices, {counts.get('posts', 0)} posts")


# -- demo --------------------------------------------------------------------------------------
@main.command()
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=Path("data/demo.duckdb"),
              show_default=True, help="Where to build the demo case.")
def demo(db: Path) -> None:
    """Build the bundled demo case (detector/data/demo/), analyse it and print the ranking."""
    from detector.analysis import analyze_case
    from detector.ingestion import ingest as run_ingest
    from detector.results import campaign_list, unexplained_bursts
    from detector.status import case_status

    report = run_ingest([DEMO_DIR], db)
    console.print(f"demo case: {report.rows} rows added from {DEMO_DIR.name}/")
    with Case.open(db, read_only=True) as case:
        st = case_status(case)
        _warn_if_stale(case)
    _print_status(st, db)
    analyze_case(db)
    with Case.open(db, read_only=True) as case:
        _print_campaigns(campaign_list(case), unexplained_bursts(case))


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=err_console, transient=True)


# -- dsa (EU DSA Transparency Database; its own package) --------------------------------------
from detector.dsa.cli import dsa as _dsa  # noqa: E402

main.add_command(_dsa)


if __name__ == "__main__":
    main()
