"""Where an uploaded file's bytes wait between the request and the encrypted blob: small files in
memory, larger ones in an encrypted spool file, so no plaintext of an upload ever touches the disk.

`EncryptedUploadHandler` replaces Django's two default handlers (FILE_UPLOAD_HANDLERS).

Why a memory budget per request and not per file: the UI and the API take many files in one
request and every one of them is held until the request ends (all are checked before any is
stored). Django decides once per request (Content-Length ≤ FILE_UPLOAD_MAX_MEMORY_SIZE: all in
memory, else all to disk). Here each file starts in memory while the request's files together stay
within FILE_UPLOAD_MAX_MEMORY_SIZE (Django's default, 2.5 MB); the file that would go past it is
moved, with what it holds so far, into an `EncryptedSpoolFile` in FILE_UPLOAD_TEMP_DIR and the rest of
it streams there. So a request costs at most about 2.5 MB of memory for its small files plus 128 KiB
per spooled file (the unfinished chunk and one decrypted chunk), whatever the number and size of its
files, and nothing but ciphertext reaches the disk. Keeping a whole 50 MB file in memory (as the
settings did before) would multiply by the number of files and of concurrent uploads.

The spooled upload (`EncryptedUploadedFile`) reads, seeks and tells like any uploaded file and
decrypts as it is read, so the upload checks (`qiyue.documents.uploads`: content sniffing, zipfile, pypdf),
the hash and the final encryption in `blobs.py` work on it unchanged. It deliberately has no
`temporary_file_path()`: the file behind it holds only ciphertext. Its temporary file is removed when
the file is closed: when the request ends (Django closes request.FILES), when the upload is refused
while streaming (Django closes the skipped file) or when the upload breaks off.

A file larger than QIYUE_MAX_UPLOAD_MB is never spooled whole, even on a view that did not install
a size-limit handler that reports it (the documents app's `SizeLimitUploadHandler`, file_too_large):
it is dropped as it streams, so no request can fill the disk with more than the limit per file.

The web server is the other place an upload could wait: waitress (`qiyue serve`) reads a whole
request body before Django sees it and keeps any body over 512 KB (inbuf_overflow) in a plaintext
temporary file in the system temp dir. It does the same with response bytes the client has not taken
yet once they pass 1 MB (outbuf_overflow): a rendered preview page, or a download whenever the
response does not go through wsgi.file_wrapper. `encrypt_waitress_buffers()` makes all of those
buffers anonymous `EncryptedSpoolFile`s in FILE_UPLOAD_TEMP_DIR; `qiyue serve` calls it before
`waitress.serve`. (A FileResponse goes through waitress's wsgi.file_wrapper, which reads the
response's own file as it sends and copies nothing to a buffer; that file is `blobs.blob_read`'s
encrypted spool.)
"""

from io import BytesIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopFutureHandlers

from .spool import EncryptedSpoolFile


def max_upload_bytes() -> int:
    """QIYUE_MAX_UPLOAD_MB in bytes: no uploaded file may be larger."""
    return int(settings.QIYUE_MAX_UPLOAD_MB) * 1024 * 1024


class EncryptedUploadedFile(UploadedFile):
    """An uploaded file kept in an EncryptedSpoolFile: read/seek/tell/chunks() give the plaintext;
    closing it removes the ciphertext from the disk."""

    def open(self, mode=None):
        self.file.seek(0)  # the spool cannot be reopened by name: there is no plaintext file
        return self


class EncryptedUploadHandler(FileUploadHandler):
    """The last (and only configured) upload handler: takes every file, in memory or encrypted."""

    def __init__(self, request=None):
        super().__init__(request)
        self.memory_budget = int(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        self.in_memory = 0  # bytes of this request's completed in-memory files
        self.limit = max_upload_bytes()
        self.file = None
        self.completed = True

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.file = BytesIO()
        self.completed = False
        raise StopFutureHandlers  # this handler keeps every file

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self._discard()
            raise SkipFile
        if isinstance(self.file, BytesIO) and self.in_memory + start + len(raw_data) > self.memory_budget:
            self._spool()
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.completed = True
        if isinstance(self.file, BytesIO):
            self.in_memory += file_size
            self.file.seek(0)
            return InMemoryUploadedFile(file=self.file, field_name=self.field_name, name=self.file_name,
                                        content_type=self.content_type, size=file_size, charset=self.charset,
                                        content_type_extra=self.content_type_extra)
        self.file.seek(0)
        return EncryptedUploadedFile(file=self.file, name=self.file_name, content_type=self.content_type,
                                     size=file_size, charset=self.charset, content_type_extra=self.content_type_extra)

    def upload_interrupted(self):
        if not self.completed:
            self._discard()

    def _spool(self) -> None:
        spool = EncryptedSpoolFile(dir=settings.FILE_UPLOAD_TEMP_DIR, prefix="qiyue-upload-")
        try:
            with self.file.getbuffer() as held:
                spool.write(held)
        except BaseException:
            spool.close()
            raise
        self.file.close()
        self.file = spool

    def _discard(self) -> None:
        if self.file is not None:
            self.file.close()


def _encrypted_newfile(self):
    """waitress.buffers.TempfileBasedBuffer.newfile, encrypted (see encrypt_waitress_buffers)."""
    return EncryptedSpoolFile(dir=settings.FILE_UPLOAD_TEMP_DIR, named=False, prefix="qiyue-waitress-")


def encrypt_waitress_buffers() -> None:
    """Make waitress spill request and response bodies that outgrow its memory buffers into
    anonymous encrypted spool files in FILE_UPLOAD_TEMP_DIR instead of plaintext temporary files.

    waitress (3.0.2, pinned) has no setting for this. Every buffer it spills, the request body
    (parser.py) and pending output (channel.py) alike, is an `OverflowableBuffer` that switches to a
    `TempfileBasedBuffer`, which calls `newfile()` for every temporary file it needs and then only
    appends, reads, seeks and tells, which the spool file supports. So replacing that one method
    covers both directions.

    Replacing a method of another package's class is fragile: a waitress release could rename it
    or spill some other way, and the server would quietly go back to plaintext temporary files.
    So after patching, this checks that the channel and the parser still use that buffer class, and
    makes a buffer overflow for real to see that it lands in an EncryptedSpoolFile and reads back;
    if anything differs it raises ImproperlyConfigured and `qiyue serve` does not start.
    """
    from waitress import buffers

    tempfile_buffer = getattr(buffers, "TempfileBasedBuffer", None)
    if not callable(vars(tempfile_buffer).get("newfile") if tempfile_buffer is not None else None):
        raise ImproperlyConfigured("waitress.buffers.TempfileBasedBuffer.newfile is missing: this waitress "
                                   "cannot be made to encrypt its temporary files (waitress 3.0.2 can).")
    tempfile_buffer.newfile = _encrypted_newfile
    check_waitress_buffers()


def check_waitress_buffers() -> None:
    """Raise ImproperlyConfigured unless waitress's request and response buffers spill into
    encrypted spool files (see encrypt_waitress_buffers)."""
    from waitress import buffers, channel, parser

    problems = []
    overflowable = getattr(buffers, "OverflowableBuffer", None)
    for module in (channel, parser):
        if overflowable is None or getattr(module, "OverflowableBuffer", None) is not overflowable:
            problems.append(f"{module.__name__} no longer buffers with waitress.buffers.OverflowableBuffer")
    if overflowable is not None:
        payload = bytes(range(256)) * 64  # 16 KiB: past waitress's in-memory string buffer (8 KiB)
        probe = None
        try:
            probe = overflowable(1)  # spill anything over 1 byte, as a body over inbuf_overflow would
            probe.append(payload)
            spilled = probe.getfile()
            if not isinstance(spilled, EncryptedSpoolFile):
                problems.append(f"an overflowing buffer spills into {type(spilled).__module__}."
                                f"{type(spilled).__qualname__}, not into an EncryptedSpoolFile")
            elif probe.get(len(payload)) != payload:
                problems.append("an overflowing buffer does not read back what was written")
        except Exception as exc:  # noqa: BLE001 - any change of waitress's internals is reported below
            problems.append(f"an overflowing buffer fails: {type(exc).__name__}: {exc}")
        finally:
            if probe is not None:
                probe.close()
    if problems:
        raise ImproperlyConfigured("waitress would write request or response bodies to plaintext temporary "
                                   "files: " + "; ".join(problems) + ". Qiyue is tested with waitress 3.0.2.")
