"""``detector verify``: recompute every hash of an evidence packet against its manifest.

A packet is intact when every file the manifest lists is present with the SHA-256 it records
and no other file was added. The manifest cannot vouch for itself: whoever receives a packet
compares the manifest's own SHA-256 (printed by ``detector verify``) with the one the sender
gave them by another channel, if they need to rule out a rewritten manifest.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from detector.errors import DetectorError
from detector.evidence.packet import MANIFEST


@dataclass
class VerifyResult:
    """What :func:`verify_packet` found. ``intact`` when nothing changed, went missing or was added."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    checked: int = 0
    manifest_sha256: str = ""
    created_at: str | None = None
    campaign_id: str | None = None

    @property
    def intact(self) -> bool:
        return not (self.changed or self.missing or self.added)

    def lines(self) -> list[str]:
        """The report as the CLI prints it: 'intact', or one line per file at fault."""
        if self.intact:
            return ["intact", f"{self.checked} files match manifest.json (its SHA-256: {self.manifest_sha256})"]
        return ([f"changed: {n}" for n in self.changed] + [f"missing: {n}" for n in self.missing]
                + [f"added: {n}" for n in self.added])


def verify_packet(path: str | Path) -> VerifyResult:
    """Recompute the SHA-256 of every file in the packet at ``path`` and compare with its manifest.

    Raises
    ------
    DetectorError
        when ``path`` is not a readable ZIP or has no readable manifest.json.
    """
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise DetectorError("no such packet", path) from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise DetectorError(f"not a readable ZIP file ({exc})", path) from None
    with zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        if MANIFEST not in names:
            raise DetectorError("the packet has no manifest.json", path, hint="was it made by detector packet?")
        try:
            raw = zf.read(MANIFEST)
            manifest = json.loads(raw)
            listed = {str(k): str(v["sha256"]).lower() for k, v in manifest["files"].items()}
        except (zipfile.BadZipFile, zlib.error, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DetectorError(f"manifest.json is unreadable ({exc.__class__.__name__})", path) from None
        result = VerifyResult(manifest_sha256=hashlib.sha256(raw).hexdigest(),
                              created_at=manifest.get("created_at"), campaign_id=manifest.get("campaign_id"))
        present = set(names) - {MANIFEST}
        for name in sorted(listed):
            if name not in present:
                result.missing.append(name)
                continue
            try:
                digest = hashlib.sha256(zf.read(name)).hexdigest()
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error):   # a damaged entry: changed
                digest = ""
            result.checked += 1
            if digest != listed[name]:
                result.changed.append(name)
        result.added = sorted(present - set(listed))
        # Duplicate names in one ZIP: a second entry would shadow the first for some readers.
        dupes = sorted({n for n in names if names.count(n) > 1})
        result.added += [n for n in dupes if n not in result.added]
    return result
