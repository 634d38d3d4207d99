"""Packets and custody: the case hash and log in the manifest, nothing hidden outside the manifest,
Ed25519 signatures, RFC 3161 timestamps (real TSA answers as fixtures, openssl as a local TSA)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import tsp
from click.testing import CliRunner

from detector import custody
from detector.analysis import analyze_case
from detector.cli import main
from detector.errors import DetectorError
from detector.evidence.packet import MANIFEST, build_packet, rewrite_packet
from detector.evidence.signing import SIGNATURE
from detector.evidence.timestamp import TIMESTAMP, check_response, timestamp_packet, timestamp_request
from detector.evidence.verify import verify_packet
from detector.ingestion import ingest
from detector.params import DEFAULTS
from detector.results import campaign_list
from detector.simulate import simulate_case
from detector.store import Case

FIXTURES = Path(__file__).parent / "fixtures" / "tsa"
QUICK = DEFAULTS.replace(campaign_replicates=99, stream_replicates=99, target_replicates=19)


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> tuple[Path, str]:
    """A simulated campaign case (seed 1), ingested by one operator and analysed by another."""
    root = tmp_path_factory.mktemp("custody-case")
    simulate_case(root / "files", seed=1, scenario="campaign")
    db = root / "case.duckdb"
    ingest([root / "files"], db, operator="Analyst A")
    analyze_case(db, params=QUICK, operator="Analyst B")
    with Case.open(db, read_only=True) as case:
        return db, campaign_list(case)[0]["id"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("keys") / "sender"
    result = run("keygen", out)
    assert result.exit_code == 0, result.output
    fp = result.output.split("fingerprint ")[1].split()[0]
    return out, out.with_name("sender.pub"), fp


@pytest.fixture(scope="module")
def signed(analysed, keys, tmp_path_factory) -> Path:
    db, cid = analysed
    out = tmp_path_factory.mktemp("signed") / "signed.zip"
    result = run("packet", cid, "-o", out, "--db", db, "--sign-key", keys[0], "--operator", "Analyst C")
    assert result.exit_code == 0, result.output
    return out


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


def _verify(path: Path, *extra):
    result = run("verify", path, *extra)
    return result.exit_code, result.output.splitlines()


# -- the custody record ----------------------------------------------------------------------------
def test_the_packet_carries_the_case_file_hash_and_the_log_and_is_logged_itself(analysed, signed, keys, tmp_path):
    db, cid = analysed
    case_sha_before = hashlib.sha256(db.read_bytes()).hexdigest()     # the case as the packet will read it
    out = build_packet(db, cid, tmp_path / "p.zip", operator="Analyst D")
    manifest_raw = _files(out)[MANIFEST]
    record = json.loads(manifest_raw)["custody"]
    assert record["case_sha256"] == case_sha_before
    assert [e["action"] for e in record["log"]] == ["ingest", "analyze", "packet"]      # the signed packet's
    assert [e["operator"] for e in record["log"]] == ["Analyst A", "Analyst B", "Analyst C"]
    assert record["log"][1]["record"]["parameters"]["campaign_replicates"] == 99
    assert record["log_head"] == {"seq": 3, "entry_hash": record["log"][-1]["entry_hash"]}
    assert record["log"][2]["record"]["manifest_sha256"] == hashlib.sha256(_files(signed)[MANIFEST]).hexdigest()
    assert record["log"][2]["record"]["signed_by"] == keys[2]
    with Case.open(db, read_only=True) as case:
        last = custody.read_log(case)[-1]
    assert last.action == "packet" and last.operator == "Analyst D" and last.prev_hash == record["log_head"]["entry_hash"]
    assert last.record["manifest_sha256"] == hashlib.sha256(manifest_raw).hexdigest()
    assert last.record["case_sha256"] == case_sha_before and last.record["campaign_id"] == cid
    code, lines = _verify(out)
    assert code == 0 and "custody log in the packet: 3 entries, chain intact" in " ".join(lines)
    assert f"case file SHA-256 when the packet was made: {case_sha_before}" in lines


def test_a_redacted_packet_withholds_the_files_it_does_not_cite_and_names_none(analysed, signed):
    files = _files(signed)
    manifest = json.loads(files[MANIFEST])
    cited = {s["sha256"] for s in json.loads(files["sources.json"]) if s["cited_in_packet"]}
    items = manifest["custody"]["log"][0]["record"]["files"]
    shown = {i["sha256"] for i in items if "sha256" in i}
    assert shown == cited and any(set(i) == {"withheld"} for i in items)
    for name in ("notices.csv", "result.json", "WhatsApp", "views.csv"):
        assert name not in json.dumps(manifest["custody"])


def test_a_forged_log_entry_in_the_manifest_is_named(signed, tmp_path):
    files = _files(signed)
    manifest = json.loads(files[MANIFEST])
    manifest["custody"]["log"][0]["operator"] = "Someone Else"
    files[MANIFEST] = json.dumps(manifest).encode()
    files.pop(SIGNATURE)
    bad = tmp_path / "forged.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    code, lines = _verify(bad)
    assert code == 1 and lines[0] == "NOT INTACT"
    assert any("CHAIN BROKEN (entry #1 does not hash" in line for line in lines)


# -- nothing outside the manifest ------------------------------------------------------------------
def _with_directory_entry(raw: bytes, data: bytes) -> bytes:
    buf = io.BytesIO(raw)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(zipfile.ZipInfo("hidden/", date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _with_comment(raw: bytes) -> bytes:
    buf = io.BytesIO(raw)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.comment = b"instructions for the recipient"
    return buf.getvalue()


def _rebuilt(raw: bytes, between: bytes = b"", entry_comment: bytes = b"", extra: bytes = b"") -> bytes:
    """The same entries, written again, with junk between the first two, or a comment or extra field on one."""
    files = {i.filename: (i, zipfile.ZipFile(io.BytesIO(raw)).read(i.filename))
             for i in zipfile.ZipFile(io.BytesIO(raw)).infolist()}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for n, (name, (info, body)) in enumerate(files.items()):
            new = zipfile.ZipInfo(name, date_time=info.date_time)
            new.compress_type = zipfile.ZIP_DEFLATED
            if n == 1:
                new.comment, new.extra = entry_comment, extra
            zf.writestr(new, body)
            if n == 0 and between:
                zf.fp.write(between)
                zf.start_dir = zf.fp.tell()       # the next entry starts after the junk: a gap, not damage
    return buf.getvalue()


TAMPERS = {
    "directory entry carrying data": (lambda raw: _with_directory_entry(raw, b"a hidden message"),
                                      "a directory entry 'hidden/' carrying"),
    "empty directory entry": (lambda raw: _with_directory_entry(raw, b""), "a directory entry 'hidden/'"),
    "prepended bytes": (lambda raw: b"MZ\x90\x00 a self-extractor stub" + raw, "26 bytes before the first entry"),
    "appended bytes": (lambda raw: raw + b"appended after the end", "22 bytes appended after the end of the ZIP"),
    "zip comment": (_with_comment, "a ZIP comment (30 bytes)"),
    "bytes between entries": (lambda raw: _rebuilt(raw, between=b"x" * 40), "40 bytes before"),
    "entry comment": (lambda raw: _rebuilt(raw, entry_comment=b"psst"), "a comment on entry"),
    "extra field": (lambda raw: _rebuilt(raw, extra=b"\x99\x99\x04\x00data"), "extra fields in the"),
}


@pytest.mark.parametrize("kind", list(TAMPERS))
def test_content_outside_the_manifest_is_rejected_and_the_manifest_hash_still_printed(signed, tmp_path, kind):
    tamper, phrase = TAMPERS[kind]
    bad = tmp_path / "bad.zip"
    bad.write_bytes(tamper(signed.read_bytes()))
    assert _files(bad)[MANIFEST] == _files(signed)[MANIFEST]          # every listed file is untouched
    code, lines = _verify(bad)
    assert code == 1 and lines[0] == "NOT INTACT", lines
    assert any(line.startswith("outside the manifest: ") and phrase in line for line in lines), lines
    manifest_sha = hashlib.sha256(_files(signed)[MANIFEST]).hexdigest()
    assert f"manifest.json SHA-256: {manifest_sha}" in lines


def test_the_untampered_packet_has_nothing_outside_its_manifest(signed):
    code, lines = _verify(signed)
    assert code == 0 and lines[0] == "intact" and not any("outside" in line for line in lines)


# -- signatures ------------------------------------------------------------------------------------
def test_keygen_writes_a_private_key_only_its_owner_can_read_and_never_overwrites(keys):
    private, public, fp = keys
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and public.read_text().startswith("-----BEGIN PUBLIC KEY")
    assert len(fp) == 64
    again = run("keygen", private)
    assert again.exit_code == 2 and "never overwritten" in again.output


def test_a_signed_packet_verifies_with_the_senders_key(signed, keys):
    code, lines = _verify(signed, "--key", keys[1])
    assert code == 0 and f"signature: signed by {keys[2]}, signature valid" in lines


def _resigned(src: Path, dst: Path, change: bool = True, key: Path | None = None, drop_signature: bool = False) -> Path:
    """notices.csv changed and the manifest rewritten to match; the old signature kept unless told."""
    from detector.evidence.signing import load_private_key, signature_file

    files = _files(src)
    manifest = json.loads(files[MANIFEST])
    if change:
        files["notices.csv"] += b"forged,row\n"
        manifest["files"]["notices.csv"] = {"sha256": hashlib.sha256(files["notices.csv"]).hexdigest(),
                                            "bytes": len(files["notices.csv"])}
    files[MANIFEST] = (json.dumps(manifest, indent=1) + "\n").encode()
    if drop_signature:
        files.pop(SIGNATURE)
    if key is not None:
        files[SIGNATURE] = signature_file(files[MANIFEST], load_private_key(key))
    from detector.evidence.packet import zip_bytes

    dst.write_bytes(zip_bytes(files))
    return dst


def test_a_rewritten_manifest_under_a_signature_is_not_intact(signed, tmp_path):
    code, lines = _verify(_resigned(signed, tmp_path / "rewritten.zip"))
    assert code == 1 and lines[0] == "NOT INTACT"
    assert any("signature INVALID (manifest.json is not what was signed)" in line for line in lines)
    assert any(line.startswith("manifest.json SHA-256: ") for line in lines)


def test_a_stripped_signature_fails_against_the_senders_key(signed, keys, tmp_path):
    bad = _resigned(signed, tmp_path / "stripped.zip", drop_signature=True)
    code, lines = _verify(bad)
    assert code == 0 and "signature: unsigned" in lines            # a limit the README states
    code, lines = _verify(bad, "--key", keys[1])
    assert code == 1 and any("unsigned, but a key was given" in line for line in lines)


def test_a_packet_resigned_by_another_key_shows_that_key_and_fails_with_the_senders(signed, keys, tmp_path):
    other = tmp_path / "other"
    assert run("keygen", other).exit_code == 0
    bad = _resigned(signed, tmp_path / "resigned.zip", key=other)
    code, lines = _verify(bad)
    assert code == 0 and not any(keys[2] in line for line in lines)      # a valid signature, by someone else
    code, lines = _verify(bad, "--key", keys[1])
    assert code == 1 and any(f"signed by another key than the one given ({keys[2]})" in line for line in lines)


def test_a_signature_file_carrying_anything_else_is_not_intact(signed, tmp_path):
    files = _files(signed)
    body = json.loads(files[SIGNATURE])
    files[SIGNATURE] = (json.dumps({**body, "note": "a message riding along"}, indent=1) + "\n").encode()
    bad = tmp_path / "riding.zip"
    from detector.evidence.packet import zip_bytes

    bad.write_bytes(zip_bytes(files))
    code, lines = _verify(bad)
    assert code == 1 and any("signature.json holds more than the signature" in line for line in lines)


def test_a_packet_for_a_missing_case_creates_no_case_file(tmp_path):
    result = run("packet", "C000000", "-o", tmp_path / "x.zip", "--db", tmp_path / "none.duckdb")
    assert result.exit_code == 2 and "no case at none.duckdb" in result.output
    assert not (tmp_path / "none.duckdb").exists()


def test_an_encrypted_key_needs_its_passphrase(analysed, tmp_path):
    db, cid = analysed
    key = tmp_path / "locked"
    assert run("keygen", key, env={"DETECTOR_KEY_PASSPHRASE": "correct horse"}).exit_code == 0
    assert b"ENCRYPTED" in key.read_bytes()
    result = run("packet", cid, "-o", tmp_path / "x.zip", "--db", db, "--sign-key", key,
                 env={"DETECTOR_KEY_PASSPHRASE": ""})
    assert result.exit_code == 2 and "encrypted" in result.output and not (tmp_path / "x.zip").exists()


# -- RFC 3161 timestamps ---------------------------------------------------------------------------
@pytest.mark.parametrize("fixture, algorithm, tsa", [
    ("identrust-sha512.tsr", "sha512", "TrustID Timestamp Authority"),
    ("sigstage-sha256.tsr", "sha256", "sigstore-tsa"),
])
def test_real_tsa_answers_parse_and_check(fixture, algorithm, tsa):
    der = (FIXTURES / fixture).read_bytes()
    good = check_response(der, b"hello")
    assert good.ok and good.status == "granted" and good.imprint_algorithm == algorithm
    assert good.signature == "valid" and tsa in good.signer and good.gen_time.startswith("2025-")
    assert not check_response(der, b"hello!").imprint_matches
    flipped = bytearray(der)
    flipped[-5] ^= 0x01          # inside the SignerInfo's signature, the DER's last field
    assert check_response(bytes(flipped), b"hello").signature == "invalid"


def test_damaged_tsa_answers_are_reported_never_raised():
    der = (FIXTURES / "identrust-sha512.tsr").read_bytes()
    variants = [der[:n] for n in range(0, len(der), 97)] + [b"", b"\x30\x80" * 40, der + b"trailing"]
    for i in range(0, len(der), 53):
        flipped = bytearray(der)
        flipped[i] ^= 0xFF
        variants.append(bytes(flipped))
    results = [check_response(v, b"hello") for v in variants]
    assert not any(r.ok for r in results[:len(der) // 97 + 4])           # truncated, empty, junk, trailing bytes
    assert all(isinstance(r.line(), str) for r in results)


def test_the_request_asks_for_the_manifest_hash_with_a_nonce_and_the_tsa_certificate(signed, tmp_path):
    req = tmp_path / "req.tsq"
    result = run("timestamp", signed, "--request-out", req)
    assert result.exit_code == 0, result.output
    parsed = tsp.TimeStampReq.load(req.read_bytes())
    assert parsed["version"].native == "v1" and parsed["cert_req"].native is True
    assert parsed["nonce"].native is not None
    imprint = parsed["message_imprint"]
    assert imprint["hash_algorithm"]["algorithm"].native == "sha256"
    assert imprint["hashed_message"].native == hashlib.sha256(_files(signed)[MANIFEST]).digest()


@pytest.fixture(scope="module")
def local_tsa(tmp_path_factory):
    """A TSA made here: a self-signed EC certificate for time stamping, answering with openssl ts."""
    if shutil.which("openssl") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is missing under CI=true")
        pytest.skip("openssl is not installed")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    root = tmp_path_factory.mktemp("tsa")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA (local, not trusted)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    (root / "tsa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    (root / "tsa.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "serial").write_text("01\n")
    (root / "tsa.cnf").write_text(f"""[ tsa ]
default_tsa = local
[ local ]
serial = {root}/serial
crypto_device = builtin
signer_cert = {root}/tsa.crt
signer_key = {root}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_alg = sha256
""")

    def post(url: str, request: bytes) -> bytes:
        (root / "req.tsq").write_bytes(request)
        subprocess.run(["openssl", "ts", "-reply", "-config", str(root / "tsa.cnf"), "-queryfile",
                        str(root / "req.tsq"), "-out", str(root / "resp.tsr")], check=True, capture_output=True)
        return (root / "resp.tsr").read_bytes()

    return post


def test_a_packet_timestamped_by_a_tsa_verifies_with_the_timestamp(signed, local_tsa, tmp_path):
    packet = shutil.copy(signed, tmp_path / "stamped.zip")
    asked = []
    check = timestamp_packet(packet, tsa_url="https://tsa.example", post=lambda u, r: asked.append(u) or local_tsa(u, r))
    assert asked == ["https://tsa.example"] and check.ok and "Test TSA" in check.tsa
    before, after = _files(signed), _files(packet)
    assert set(after) == set(before) | {TIMESTAMP} and all(after[n] == before[n] for n in before)
    code, lines = _verify(Path(packet))
    assert code == 0, lines
    stamp = next(line for line in lines if line.startswith("timestamp: "))
    assert "imprint matches manifest.json" in stamp and "token signature valid" in stamp


def test_an_answer_obtained_elsewhere_is_stored_with_response(signed, local_tsa, tmp_path):
    packet = shutil.copy(signed, tmp_path / "p.zip")
    reply = tmp_path / "reply.tsr"
    reply.write_bytes(local_tsa("", timestamp_request(_files(signed)[MANIFEST])))
    result = run("timestamp", packet, "--response", reply)
    assert result.exit_code == 0 and "imprint matches" in result.output
    assert verify_packet(packet).intact


def test_a_replayed_answer_or_one_for_other_bytes_is_refused(signed, local_tsa, tmp_path):
    packet = shutil.copy(signed, tmp_path / "p.zip")
    replayed = local_tsa("", timestamp_request(_files(signed)[MANIFEST], nonce=1))
    with pytest.raises(DetectorError, match="nonce is not the request's"):
        timestamp_packet(packet, tsa_url="https://tsa.example", post=lambda u, r: replayed)
    other = tmp_path / "other.tsr"
    other.write_bytes((FIXTURES / "sigstage-sha256.tsr").read_bytes())
    result = run("timestamp", packet, "--response", other)
    assert result.exit_code == 2 and "imprint DOES NOT MATCH" in result.output
    assert TIMESTAMP not in _files(Path(packet))


def test_a_timestamp_for_another_manifest_makes_the_packet_not_intact(signed, tmp_path):
    packet = shutil.copy(signed, tmp_path / "p.zip")
    rewrite_packet(packet, {TIMESTAMP: (FIXTURES / "identrust-sha512.tsr").read_bytes()})
    code, lines = _verify(Path(packet))
    assert code == 1 and any("imprint DOES NOT MATCH manifest.json" in line for line in lines)


def test_a_packet_that_is_not_intact_is_not_timestamped(signed, tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(signed.read_bytes() + b"trailer")
    result = run("timestamp", bad, "--tsa", "https://tsa.example")
    assert result.exit_code == 2 and "not intact" in result.output
