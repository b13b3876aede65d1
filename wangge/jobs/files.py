"""Job files at rest: encrypted, always (uploads, rejected rows, exports hold ID numbers and phones).

Every file under settings.JOBS_ROOT is written through here: a header, then chunks of at most 1 MiB,
each a Fernet token (AES-128-CBC + HMAC-SHA256, key from settings.PII_KEY, as the registers'
columns) of [last-chunk flag, chunk index, bytes], so a file cannot be cut short, reordered or
altered without the reading failing. The import framework (core.tabular) reads and writes paths,
so a run gets a clear copy in a private temporary folder that is removed when the run ends
(clear_copy, clear_output); downloads are decrypted as they stream.
"""

import os
import shutil
import struct
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.conf import settings

from wangge.core import pii

MAGIC = b"WGJOBENC1\n"
CHUNK = 1 << 20
_LENGTH = struct.Struct(">I")
_HEAD = struct.Struct(">?Q")  # last chunk?, chunk index


class CorruptFile(Exception):
    pass


def _fernet():
    return pii.fernet()


def write_encrypted(chunks: Iterable[bytes], path: str | Path) -> int:
    """The bytes of chunks, encrypted, to path (written beside it, then moved: never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    fernet, size, index = _fernet(), 0, 0
    with open(tmp, "wb") as out:
        out.write(MAGIC)
        pending = b""
        for data in _rechunk(chunks):
            if pending:
                _write_chunk(out, fernet, index, False, pending)
                index += 1
            pending = data
            size += len(data)
        _write_chunk(out, fernet, index, True, pending)
    os.replace(tmp, path)
    return size


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for data in chunks:
        buffer += data
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


def _write_chunk(out, fernet, index: int, last: bool, data: bytes) -> None:
    token = fernet.encrypt(_HEAD.pack(last, index) + data)
    out.write(_LENGTH.pack(len(token)) + token)


def encrypt_file(clear: str | Path, path: str | Path) -> int:
    with open(clear, "rb") as source:
        return write_encrypted(iter(lambda: source.read(CHUNK), b""), path)


def read_decrypted(path: str | Path) -> Iterator[bytes]:
    """The clear bytes of an encrypted job file, chunk by chunk. CorruptFile when it was altered or
    cut short."""
    fernet = _fernet()
    with open(path, "rb") as source:
        if source.read(len(MAGIC)) != MAGIC:  # written before job files were encrypted: gone in
            source.seek(0)  # settings.JOBS_KEEP_DAYS
            yield from iter(lambda: source.read(CHUNK), b"")
            return
        index = 0
        while True:
            length = source.read(_LENGTH.size)
            if len(length) != _LENGTH.size:
                raise CorruptFile("the file ends before its last chunk")
            token = source.read(_LENGTH.unpack(length)[0])
            try:
                plain = fernet.decrypt(token)
            except InvalidToken:
                raise CorruptFile("a chunk does not decrypt with the configured key") from None
            last, at = _HEAD.unpack(plain[: _HEAD.size])
            if at != index:
                raise CorruptFile("chunks out of order")
            yield plain[_HEAD.size :]
            if last:
                return
            index += 1


def save_upload(upload, path: str | Path) -> int:
    """An uploaded (or open) file, encrypted to path."""
    if hasattr(upload, "chunks"):
        return write_encrypted(upload.chunks(CHUNK), path)
    upload.seek(0)
    return write_encrypted(iter(lambda: upload.read(CHUNK), b""), path)


def _private_dir() -> str:
    """A folder only this user can read, in memory when the system has /dev/shm."""
    base = settings.JOBS_CLEAR_TMP or ("/dev/shm" if os.path.isdir("/dev/shm") else None)
    return tempfile.mkdtemp(prefix="wangge-job-", dir=base)  # mode 0700


@contextmanager
def clear_copy(path: str | Path, filename: str) -> Iterator[Path]:
    """A clear copy of an encrypted job file (named like filename, for its type), for as long as
    the block runs; then it is removed."""
    folder = _private_dir()
    try:
        clear = Path(folder) / ("input" + Path(filename).suffix.lower()[:8])
        with open(clear, "wb") as out:
            for data in read_decrypted(path):
                out.write(data)
        yield clear
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def clear_output(path: str | Path) -> Iterator[Path]:
    """A clear temporary path to write a job file to; on leaving the block without an error, its
    content is encrypted to path (when it was written) and the clear file removed."""
    folder = _private_dir()
    try:
        clear = Path(folder) / Path(path).name
        yield clear
        if clear.exists():
            encrypt_file(clear, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# The import columns that hold personal data (the registers' and the watch lists' keys) and their
# masks: the preview kept on the job row shows them masked, as every list does.
_PREVIEW_MASKS = {
    "id_number": pii.mask_id_number,
    "passport": pii.mask_id_number,
    "phone": pii.mask_phone,
    "contact_phone": pii.mask_phone,
    "landlord_phone": pii.mask_phone,
}


def mask_preview(spec, result: dict) -> dict:
    """The import outcome with the preview's personal-data cells masked (the job row keeps it for
    settings.JOBS_KEEP_DAYS; the owner's clear values are in their own file)."""
    masks = [_PREVIEW_MASKS.get(column.key) for column in spec.columns]
    for row in result.get("preview", []):
        row["values"] = [
            mask(str(value)) if mask and value else value for mask, value in zip(masks, row["values"], strict=False)
        ]
    return result
