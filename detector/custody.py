"""The case's custody log: who did what to the evidence, when, with which software, hash-chained.

Every ingest (and live collection run), analysis and packet appends one entry, in the same
transaction as the rows it wrote. This code never updates or deletes an entry. Each entry carries
the SHA-256 of the one before it, so an entry changed, removed or inserted afterwards breaks the
chain at that point (:func:`check_chain`). A rewrite of the whole chain from the tampered entry
on is caught only against a copy of its head held elsewhere: every packet carries the head.

File names are private (a chat export is often named after a person), so an entry commits to
each file's name by a salted SHA-256; the salt and the names stay in the case, outside the hashed
part. The hash of an entry covers each file item through the item's own digest, so a packet can
withhold a whole item (keeping only its digest) and its entries still check.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

TABLE = "custody_log"
GENESIS = "0" * 64
OPERATOR_ENV = "DETECTOR_OPERATOR"
_COLUMNS = {"seq": "BIGINT", "at": "VARCHAR", "action": "VARCHAR", "operator": "VARCHAR",
            "software_version": "VARCHAR", "record": "VARCHAR", "prev_hash": "VARCHAR", "entry_hash": "VARCHAR",
            "salt": "VARCHAR", "names": "VARCHAR"}


def software_version() -> str:
    try:
        return version("mass-report-detector")
    except PackageNotFoundError:
        return "0+unknown"


def operator_name(explicit: str | None = None, environ: dict | None = None) -> str:
    """Who is acting: ``explicit`` (``--operator``), else ``DETECTOR_OPERATOR``, else the OS user name."""
    env = os.environ if environ is None else environ
    for name in (explicit, env.get(OPERATOR_ENV)):
        if name and name.strip():
            return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):          # a container user with no passwd entry
        return "unknown"


def canonical(obj) -> bytes:
    """The one byte form every hash here is computed over: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def item_digest(item: dict) -> str:
    """The digest an entry's hash covers for one file item (a withheld item carries it as is)."""
    return item["withheld"] if set(item) == {"withheld"} else sha256_hex(canonical(item))


def name_digest(salt: str, name: str) -> str:
    return sha256_hex(bytes.fromhex(salt) + name.encode("utf-8"))


def _committed(record: dict) -> dict:
    """``record`` as the entry hash sees it: file items replaced by their digests."""
    if "files" not in record:
        return record
    return {**record, "files": [item_digest(item) for item in record["files"]]}


@dataclass(frozen=True)
class Entry:
    """One custody log entry. ``names`` (file SHA-256 -> name) and ``salt`` are not hashed: the
    record's ``name_sha256`` fields commit to the names."""

    seq: int
    at: str                    # ISO 8601 UTC, microseconds
    action: str                # ingest, collect, analyze, packet
    operator: str
    software_version: str
    record: dict
    prev_hash: str
    entry_hash: str
    names: dict = field(default_factory=dict)
    salt: str = ""

    def hashed_part(self) -> dict:
        return {"seq": self.seq, "at": self.at, "action": self.action, "operator": self.operator,
                "software_version": self.software_version, "record": _committed(self.record),
                "prev_hash": self.prev_hash}

    def computed_hash(self) -> str:
        return sha256_hex(canonical(self.hashed_part()))

    def as_json(self, keep_file=None) -> dict:
        """The entry as a packet or ``detector log --json`` shows it, without names or salt.

        ``keep_file(sha256) -> bool`` chooses the file items shown; the others are withheld
        (their digest only), which leaves the entry's hash checkable.
        """
        record = self.record
        if keep_file is not None and "files" in record:
            record = {**record, "files": [item if "withheld" in item or keep_file(item.get("sha256"))
                                          else {"withheld": item_digest(item)} for item in record["files"]]}
        return {"seq": self.seq, "at": self.at, "action": self.action, "operator": self.operator,
                "software_version": self.software_version, "record": record, "prev_hash": self.prev_hash,
                "entry_hash": self.entry_hash}

    @classmethod
    def from_json(cls, raw: dict) -> Entry:
        """An entry as :meth:`as_json` wrote it (KeyError or TypeError when a field is missing)."""
        return cls(seq=int(raw["seq"]), at=str(raw["at"]), action=str(raw["action"]),
                   operator=str(raw["operator"]), software_version=str(raw["software_version"]),
                   record=dict(raw["record"]), prev_hash=str(raw["prev_hash"]), entry_hash=str(raw["entry_hash"]))


# -- the table -----------------------------------------------------------------------------------
def _has_log(case) -> bool:
    return case.has_table(TABLE)


def _ensure_log(case) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in _COLUMNS.items())
    case.con.execute(f'CREATE TABLE IF NOT EXISTS "{TABLE}" ({cols})').fetchall()


def read_log(case) -> list[Entry]:
    """Every entry, in order (empty for a case made before the log existed)."""
    if not _has_log(case):
        return []
    cols = ", ".join(f'"{c}"' for c in _COLUMNS)
    rows = case.con.execute(f'SELECT {cols} FROM "{TABLE}" ORDER BY seq').fetchall()
    out = []
    for seq, at, action, operator, ver, record, prev, entry_hash, salt, names in rows:
        out.append(Entry(seq=int(seq), at=at, action=action, operator=operator, software_version=ver,
                         record=json.loads(record), prev_hash=prev, entry_hash=entry_hash,
                         names=json.loads(names) if names else {}, salt=salt or ""))
    return out


def append(case, action: str, record: dict, operator: str | None = None,
           names: dict[str, str] | None = None) -> Entry:
    """Append one entry after the last; the caller's transaction makes it atomic with its rows.

    ``record["files"]``, when given, is a list of dicts with a ``sha256``; ``names`` maps those
    hashes to file names, committed into each item as ``name_sha256`` (salted).
    """
    _ensure_log(case)
    last = case.con.execute(f'SELECT seq, entry_hash FROM "{TABLE}" ORDER BY seq DESC LIMIT 1').fetchall()
    seq, prev = (int(last[0][0]) + 1, last[0][1]) if last else (1, GENESIS)
    salt = secrets.token_hex(16)
    names = dict(names or {})
    if "files" in record:
        record = {**record, "files": [{**item, **({"name_sha256": name_digest(salt, names[item["sha256"]])}
                                                   if item.get("sha256") in names else {})}
                                      for item in record["files"]]}
    # Round-trip through JSON now, so the hash is over exactly what is stored and read back.
    record = json.loads(canonical(record))
    entry = Entry(seq=seq, at=datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
                  action=action, operator=operator_name(operator), software_version=software_version(),
                  record=record, prev_hash=prev, entry_hash="", names=names, salt=salt)
    entry = replace(entry, entry_hash=entry.computed_hash())
    case.con.execute(f'INSERT INTO "{TABLE}" VALUES ({", ".join("?" * len(_COLUMNS))})',
                     [entry.seq, entry.at, entry.action, entry.operator, entry.software_version,
                      canonical(entry.record).decode("utf-8"), entry.prev_hash, entry.entry_hash, entry.salt,
                      json.dumps(entry.names, ensure_ascii=False, sort_keys=True)]).fetchall()
    return entry


# -- checking ------------------------------------------------------------------------------------
@dataclass
class ChainCheck:
    """What :func:`check_chain` found: ``ok`` when every entry hashes to itself and links to the one before."""

    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        state = "chain intact" if self.ok else f"CHAIN BROKEN ({'; '.join(self.problems[:3])})"
        if not self.entries:
            return "custody log: no entries" + ("" if self.ok else f", {state}")
        return f"custody log: {self.entries} entries, {state}; head #{self.head_seq} {self.head_hash[:16]}"


def check_chain(entries: list[Entry], contiguous_from: int | None = 1) -> ChainCheck:
    """Recompute every entry's hash and its link to the one before.

    ``contiguous_from``: the first entry's expected ``seq`` (1 for a whole log; None when the
    entries are a packet's copy that may begin later). Names are checked against their salted
    digests when the entries carry them (entries read from the case).
    """
    check = ChainCheck(entries=len(entries))
    prev: Entry | None = None
    for entry in entries:
        where = f"entry #{entry.seq}"
        if entry.computed_hash() != entry.entry_hash:
            check.problems.append(f"{where} does not hash to its recorded hash (changed after it was written)")
        if prev is None:
            if contiguous_from is not None and entry.seq != contiguous_from:
                check.problems.append(f"the log starts at #{entry.seq}, not #{contiguous_from} (entries removed)")
            if entry.seq == 1 and entry.prev_hash != GENESIS:
                check.problems.append(f"{where} is the first but points to an earlier entry")
        else:
            if entry.seq != prev.seq + 1:
                check.problems.append(f"entries #{prev.seq + 1}..#{entry.seq - 1} are missing")
            elif entry.prev_hash != prev.entry_hash:
                check.problems.append(f"{where} does not link to #{prev.seq} (an entry was changed or replaced)")
        for item in entry.record.get("files", []) if entry.names else []:
            name = entry.names.get(item.get("sha256"))
            if name is not None and item.get("name_sha256") != name_digest(entry.salt, name):
                check.problems.append(f"{where}: the name kept for file {str(item.get('sha256'))[:12]} was changed")
        prev = entry
    if prev is not None:
        check.head_seq, check.head_hash = prev.seq, prev.entry_hash
    return check


def case_file_sha256(case) -> str:
    """The SHA-256 of the case file as it stands, after a checkpoint folds the write-ahead log in.

    ``case`` must be open for writing: its connection holds DuckDB's lock, so no other process
    changes the file while it is read.
    """
    case.con.execute("CHECKPOINT").fetchall()
    h = hashlib.sha256()
    with open(Path(case.path), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# -- showing -------------------------------------------------------------------------------------
def describe(entry: Entry, limit: int = 5) -> str:
    """One line about what an entry records (file names from the case when it keeps them)."""
    r = entry.record
    if "files" in r:
        shown = []
        for item in r["files"][:limit]:
            if "withheld" in item:
                shown.append("a file withheld")
                continue
            name = entry.names.get(item.get("sha256"), "")
            rows = f", {item['rows_added']} rows added" if item.get("rows_added") else ""
            shown.append(f"{name} ({item.get('kind')}, {item.get('status')}{rows}, sha256 {str(item.get('sha256'))[:12]})")
        more = len(r["files"]) - limit
        pages = f"; {len(r['pages_kept'])} web pages kept" if r.get("pages_kept") else ""
        return "; ".join(shown) + (f"; and {more} more" if more > 0 else "") + pages
    if entry.action == "analyze":
        camps = ", ".join(f"{c['id']} {c['tier']}" for c in r.get("campaigns", [])[:limit]) or "none"
        more = len(r.get("campaigns", [])) - limit
        return (f"{r.get('sources')} sources, parameters {str(r.get('parameters_sha256'))[:12]}; campaigns: {camps}"
                + (f" and {more} more" if more > 0 else ""))
    if entry.action == "packet":
        signed = f"signed by {r['signed_by'][:16]}" if r.get("signed_by") else "unsigned"
        return (f"campaign {r.get('campaign_id')}, manifest.json {str(r.get('manifest_sha256'))[:16]}, "
                f"{'redacted' if r.get('redacted') else 'not redacted'}, {signed}")
    return canonical(r).decode("utf-8")[:200]


def unlogged_sources(case, entries: list[Entry]) -> int:
    """How many of the case's sources no log entry records (ingested before the log existed)."""
    logged = {item.get("sha256") for e in entries for item in e.record.get("files", [])}
    known = {row[0] for row in case.con.execute("SELECT sha256 FROM sources").fetchall()}
    return len(known - logged)
