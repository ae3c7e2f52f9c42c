"""S3-compatible storage (AWS S3, Cloudflare R2, MinIO, SeaweedFS, …) through aiobotocore.

Uploads stream: up to one part is buffered, small objects go up in one request, larger ones
as a multipart upload that is aborted if anything fails, so a broken stream leaves neither an
object nor a dangling upload behind. Every backend failure surfaces as a `StorageError`;
the ones that mean "S3 cannot be used as configured" as `StorageUnavailable`, with one line
saying what is wrong and which setting to look at.

`backend` holds `S3Storage`; `client` makes the aiobotocore client, `upload` streams puts,
`errors` writes the messages.
"""

from plyr.storage.s3.backend import S3Storage

__all__ = ["S3Storage"]
