"""Encryption at rest: master keys, chunked AES-GCM, encrypted blobs in storage, the encrypted spool
file and the upload handler that keeps uploads in it. Knows no app: callers pass what it needs."""
