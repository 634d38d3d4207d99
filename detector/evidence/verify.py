"""``detector verify``: check an evidence packet byte by byte against its manifest.

A packet is intact when

- every file the manifest lists is present with the SHA-256 it records, and nothing else is in
  the ZIP but the manifest, its signature and its timestamp: no added or duplicate entry, no
  directory entry, no byte before, between or after the entries, no comment, no extra field
  (:mod:`detector.evidence.ziplayout`);
- a signature, when there is one, verifies over the manifest (and was made by the key given with
  ``--key``, which then must be there);
- a timestamp, when there is one, was granted over the manifest's SHA-256 and its token's
  signature verifies;
- the custody log the manifest carries hashes entry by entry and links up to its stated head.

The manifest's own SHA-256 is always printed, intact or not. Without a signature the manifest
cannot vouch for itself: a recipient compares that hash with the one the sender gave by another
channel, or verifies with the sender's public key.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from detector import custody
from detector.errors import DetectorError
from detector.evidence.packet import MANIFEST
from detector.evidence.signing import SIGNATURE, SignatureCheck, check_signature, load_public_key
from detector.evidence.timestamp import TIMESTAMP, TimestampCheck, check_response
from detector.evidence.ziplayout import stray_content

ATTACHED = (SIGNATURE, TIMESTAMP)     # files about the manifest, outside its list by necessity


@dataclass
class VerifyResult:
    """What :func:`verify_packet` found. ``intact`` when nothing changed, went missing, was added or
    hides outside the entries, and every signature, timestamp and custody chain present checks."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)       # bytes of the ZIP that no entry accounts for
    unreadable: str | None = None                          # why the manifest could not be read
    checked: int = 0
    manifest_sha256: str = ""
    created_at: str | None = None
    campaign_id: str | None = None
    signature: SignatureCheck = field(default_factory=SignatureCheck)
    key_required: bool = False
    timestamp: TimestampCheck | None = None
    custody: custody.ChainCheck | None = None
    case_sha256: str | None = None

    @property
    def intact(self) -> bool:
        files_ok = not (self.changed or self.missing or self.added or self.outside or self.unreadable)
        signature_ok = self.signature.valid or not (self.signature.signed or self.key_required)
        timestamp_ok = self.timestamp is None or self.timestamp.ok
        custody_ok = self.custody is None or self.custody.ok
        return files_ok and signature_ok and timestamp_ok and custody_ok

    def lines(self) -> list[str]:
        """The report as the CLI prints it: 'intact' or 'NOT INTACT', what is at fault, then the
        manifest's SHA-256, the signature, the timestamp and the custody record."""
        out = ["intact" if self.intact else "NOT INTACT"]
        out += ([f"changed: {n}" for n in self.changed] + [f"missing: {n}" for n in self.missing]
                + [f"added: {n}" for n in self.added] + [f"outside the manifest: {p}" for p in self.outside])
        if self.unreadable:
            out.append(f"manifest.json is unreadable ({self.unreadable})")
        elif not (self.changed or self.missing):
            out.append(f"{self.checked} files match manifest.json")
        out.append(f"manifest.json SHA-256: {self.manifest_sha256}")
        out.append(self.signature.line())
        out.append(self.timestamp.line() if self.timestamp else "timestamp: none")
        if self.custody is not None:
            out.append(self.custody.summary().replace("custody log:", "custody log in the packet:"))
        if self.case_sha256:
            out.append(f"case file SHA-256 when the packet was made: {self.case_sha256}")
        return out


def verify_packet(path: str | Path, key: str | Path | None = None) -> VerifyResult:
    """Check the packet at ``path`` (see the module's docstring); ``key``: a public key file that
    must have signed it.

    Raises
    ------
    DetectorError
        when ``path`` is not a readable ZIP or has no manifest.json.
    """
    path = Path(path)
    expected = load_public_key(key) if key is not None else None
    try:
        raw = path.read_bytes()
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except FileNotFoundError:
        raise DetectorError("no such packet", path) from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DetectorError(f"not a readable ZIP file ({exc})", path) from None
    with zf:
        names = [i.filename for i in zf.infolist()]
        if MANIFEST not in names:
            raise DetectorError("the packet has no manifest.json", path, hint="was it made by detector packet?")
        result = VerifyResult(outside=stray_content(raw, zf), key_required=expected is not None)
        manifest_raw = _read(zf, MANIFEST) or b""
        result.manifest_sha256 = hashlib.sha256(manifest_raw).hexdigest()
        manifest = _manifest(manifest_raw, result)
        listed = _listed(manifest, result)
        files = [n for n in names if not n.endswith(("/", "\\"))]     # directory entries are in `outside`
        present = set(files) - {MANIFEST, *ATTACHED}
        for name in sorted(listed):
            if name not in present:
                result.missing.append(name)
                continue
            body = _read(zf, name)
            result.checked += 1
            if body is None or hashlib.sha256(body).hexdigest() != listed[name]:
                result.changed.append(name)
        result.added = sorted(present - set(listed))
        # Duplicate names in one ZIP: a second entry would shadow the first for some readers.
        dupes = sorted({n for n in names if names.count(n) > 1})
        result.added += [n for n in dupes if n not in result.added]
        signature = _read(zf, SIGNATURE) if SIGNATURE in names else None
        result.signature = check_signature(manifest_raw, signature, expected)
        if SIGNATURE in names and signature is None:
            result.signature.problem = f"{SIGNATURE} is damaged"
        if TIMESTAMP in names:
            response = _read(zf, TIMESTAMP)
            result.timestamp = check_response(response or b"", manifest_raw)
        _check_custody(manifest, result)
    return result


def _read(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError):
        return None        # a damaged, encrypted or oddly compressed entry: counted as changed


def _manifest(raw: bytes, result: VerifyResult) -> dict:
    try:
        manifest = json.loads(raw)
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        result.unreadable = exc.__class__.__name__ if raw else "damaged entry"
        return {}
    result.created_at, result.campaign_id = manifest.get("created_at"), manifest.get("campaign_id")
    return manifest


def _listed(manifest: dict, result: VerifyResult) -> dict[str, str]:
    if result.unreadable:
        return {}
    try:
        return {str(k): str(v["sha256"]).lower() for k, v in manifest["files"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        result.unreadable = f"no file list ({exc.__class__.__name__})"
        return {}


def _check_custody(manifest: dict, result: VerifyResult) -> None:
    """The custody record's log: each entry hashes to itself, links to the one before, and the last
    is the head the record states."""
    record = manifest.get("custody")
    if record is None:
        return
    try:
        entries = [custody.Entry.from_json(e) for e in record["log"]]
        head = record["log_head"]
        result.case_sha256 = str(record["case_sha256"])
        check = custody.check_chain(entries, contiguous_from=1)
        if (check.head_seq, check.head_hash) != (int(head["seq"]), str(head["entry_hash"])):
            check.problems.append("the log does not end at the head it states")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        check = custody.ChainCheck(problems=[f"unreadable ({exc.__class__.__name__})"])
    result.custody = check
