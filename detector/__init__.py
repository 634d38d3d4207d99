"""Coordinated mass-reporting detector: takedown notices joined to the calls to report behind them.

The public API is the six steps of an investigation, each a plain function on a case file (one
DuckDB file). The CLI (``detector``), the Streamlit app (``detector_app``) and the notebook call
only these and the read models they return.

>>> import detector
>>> detector.ingest(["exports/", "notices.csv"], "case.duckdb", tz="Asia/Almaty")  # doctest: +SKIP
>>> detector.analyze("case.duckdb", window_h=48)                                   # doctest: +SKIP
>>> top = detector.campaigns("case.duckdb")[0]                                     # doctest: +SKIP
>>> detector.check("case.duckdb", "https://youtu.be/VIDEO_ID").verdict              # doctest: +SKIP
>>> detector.packet("case.duckdb", top["id"], "packet.zip")                         # doctest: +SKIP
>>> detector.verify("packet.zip").intact                                           # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ingest", "analyze", "campaigns", "check", "packet", "verify"]


def ingest(paths, db: str | Path, fmt: str | None = None, tz: str | None = None, dayfirst: bool | None = None,
           on_progress=None, limits=None, operator: str | None = None):
    """Ingest files or folders into the case at ``db``: all of them or nothing.

    Parameters
    ----------
    paths : iterable of str or Path
        Files, or folders searched for recognised files (Telegram, WhatsApp, notices, Lumen, e-mail,
        views); a folder's ``detector-case.json`` may give its zone and channel aliases.
    db : the case file (created if missing).
    fmt : read every file as this format instead of detecting it.
    tz : zone of phone-local or naive times (IANA name).
    dayfirst : WhatsApp date order when it cannot be detected.
    on_progress : called with (index, total, file name) while reading.
    limits : :class:`detector.collect.limits.ParseLimits` bounding every file (default: the
        declared defaults, see the README's Limits).
    operator : who ingests, for the case's custody log (default: ``DETECTOR_OPERATOR``, else the OS user).

    Returns
    -------
    detector.ingestion.IngestReport
        Files added or already ingested, files skipped in folders, aliases added.

    Examples
    --------
    >>> report = detector.ingest(["exports/"], "case.duckdb", tz="Asia/Almaty")  # doctest: +SKIP
    >>> report.rows                                                             # doctest: +SKIP
    57311
    """
    from detector.collect.limits import DEFAULT_LIMITS
    from detector.ingestion import ingest as run

    return run(paths, db, fmt=fmt, tz=tz, dayfirst=dayfirst, on_progress=on_progress,
               limits=limits or DEFAULT_LIMITS, operator=operator)


def analyze(db: str | Path, params=None, on_step=None, operator: str | None = None, **options):
    """Analyse the case at ``db`` and store the results (calls, bursts, links, campaigns) in it.

    Parameters
    ----------
    db : the case file.
    params : detector.params.Parameters, optional
        Every analysis parameter; default :data:`detector.params.DEFAULTS`.
    on_step : called with each step's name ("calls", "copies", "bursts", "campaigns").
    operator : who analyses, for the case's custody log.
    **options
        Parameters to change from ``params`` by name (``window_h=36``, ``seed=1``), validated.

    Returns
    -------
    detector.analysis.Analysis
        The derived tables and the record stored with them (parameters, period, version).

    Examples
    --------
    >>> analysis = detector.analyze("case.duckdb", window_h=36)  # doctest: +SKIP
    >>> analysis.parameters["parameters"]["window_h"]            # doctest: +SKIP
    36
    """
    from detector.analysis import analyze_case
    from detector.params import DEFAULTS

    return analyze_case(db, params=(params or DEFAULTS).replace(**options), on_step=on_step, operator=operator)


def campaigns(db: str | Path) -> list[dict]:
    """The ranked campaigns of an analysed case, as ``detector campaigns --json`` prints them.

    Each is a dict with ``id`` (stable across re-analysis), ``rank``, ``tier``, ``score``,
    ``targets``, ``start``/``end`` (ISO 8601 UTC), ``notices``, ``calls``, ``chats``, ``p_burst``,
    ``p_link`` and ``findings``.

    Examples
    --------
    >>> [(c["id"], c["tier"]) for c in detector.campaigns("case.duckdb")][:1]  # doctest: +SKIP
    [('CCBF2ED', 'strong')]
    """
    from detector.results import campaign_list
    from detector.store import Case

    with Case.open(db, read_only=True) as case:
        return campaign_list(case)


def check(db: str | Path, target: str):
    """What the case shows about one video or channel: its notices, the calls before each, the tests.

    Parameters
    ----------
    db : an analysed case file.
    target : a link, a canonical id, an 11-character video id, a ``UC…`` id or an ``@handle``.

    Returns
    -------
    detector.results.CheckResult
        ``verdict`` (one paragraph), ``details``, ``notices``, ``calls``, ``link``, ``campaign``.

    Examples
    --------
    >>> detector.check("case.duckdb", "@dalatestimony").campaign["tier"]  # doctest: +SKIP
    'strong'
    """
    from detector.results import check_target
    from detector.store import Case

    with Case.open(db, read_only=True) as case:
        return check_target(case, target)


def packet(db: str | Path, campaign_id: str, out: str | Path, redact: bool = True, allow_stale: bool = False,
           sign_key: str | Path | None = None, operator: str | None = None) -> Path:
    """Write the evidence packet of one campaign (report.html, report.pdf, CSVs, manifest) to ``out``.

    Refuses results that predate the case's latest ingest unless ``allow_stale``; private people
    are pseudonymised unless ``redact`` is False. ``sign_key``: an Ed25519 private key file
    (``detector keygen``) that signs the manifest. The manifest carries the case file's SHA-256
    and its custody log; the packet itself is recorded in that log (by ``operator``).

    Examples
    --------
    >>> detector.packet("case.duckdb", "CCBF2ED", "CCBF2ED.zip")  # doctest: +SKIP
    PosixPath('CCBF2ED.zip')
    """
    from detector.evidence.packet import build_packet

    return build_packet(db, campaign_id, out, redact=redact, allow_stale=allow_stale, sign_key=sign_key,
                        operator=operator)


def verify(packet_zip: str | Path, key: str | Path | None = None):
    """Check a packet: every file's SHA-256 against the manifest, nothing else in the ZIP, and the
    signature (made by ``key``, a public key file, when given), timestamp and custody log it carries.

    Returns
    -------
    detector.evidence.verify.VerifyResult
        ``intact``, ``manifest_sha256`` and, when not intact, what is wrong.

    Examples
    --------
    >>> detector.verify("CCBF2ED.zip").intact  # doctest: +SKIP
    True
    """
    from detector.evidence.verify import verify_packet

    return verify_packet(packet_zip, key=key)
