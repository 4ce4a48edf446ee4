"""Serving a document's bytes, to its holder or to a professional on the record: sandboxed,
never sniffed, never cached, named safely (RFC 6266 / 5987); a PDF only as a download."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Response, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.wsgi import FileWrapper

from core.files import names, sniff

# What a served file may do: nothing. The preview may be framed by our own page only.
CSP_DOWNLOAD = "sandbox; default-src 'none'; frame-ancestors 'none'"
CSP_PREVIEW = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'"
CANONICAL = {"pdf": "pdf", "jpeg": "jpg", "png": "png", "tiff": "tiff", "text": "txt"}


def download_name(doc) -> str:
    name = names.safe_filename(doc.original_name or doc.title)
    ext = sniff.extension(name)
    if ext is None or ext not in sniff.ACCEPTED_EXTENSIONS.get(doc.kind, ()):
        name = f"{name}.{CANONICAL[doc.kind]}"
    return name


def disposition(kind: str, name: str) -> str:
    """An ASCII fallback and the UTF-8 name, both inert."""
    fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    fallback = "".join(ch for ch in fallback if 32 <= ord(ch) < 127 and ch not in '"\\;') or "document"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def serve(content, doc, *, inline: bool, mime: str | None = None, name: str | None = None) -> Response:
    """A document's bytes (an image made from it: serve_image()). The document's own bytes come as
    a seekable file (`BlobStore.open_seekable`) and are served as `send_file(conditional=True)`
    would: a `Range` request gets its part (206), a range past the end 416. A PDF is never served
    inline: a browser's PDF viewer would run its scripts (pages.py shows PDFs as images)."""
    if inline and (mime or doc.mime).split(";")[0].strip().lower() == "application/pdf":
        raise ValueError("a PDF is only ever served as an attachment")
    if mime is None:
        mime = "text/plain; charset=utf-8" if doc.kind == "text" and "charset" not in doc.mime else doc.mime
    seekable = hasattr(content, "seek")
    # werkzeug's own FileWrapper, not the server's wsgi.file_wrapper: that one may sendfile()
    # the descriptor underneath, which holds the encrypted file.
    body = FileWrapper(content) if seekable else content
    resp = Response(body, mimetype=None, content_type=mime, direct_passthrough=True)
    if seekable:
        resp.content_length = content.size
    elif name is None:
        resp.content_length = doc.size
    if seekable:
        resp.set_etag(doc.sha256)  # a resumed download (If-Range) continues the same file only
        try:
            resp.make_conditional(request.environ, accept_ranges=True, complete_length=content.size)
        except RequestedRangeNotSatisfiable as exc:  # for a download client: "bytes */size", no page
            content.close()
            resp = exc.get_response(request.environ)
    csp = CSP_PREVIEW if inline and name is None else CSP_DOWNLOAD
    return _sealed(resp, "inline" if inline else "attachment", name or download_name(doc), csp)


def serve_image(chunks, mime: str, name: str) -> Response:
    """An image made from a document (its preview, a PDF page as a picture), shown inline, with
    the headers of serve(). Only ever an image: a PDF inline would run in the browser's viewer."""
    if not mime.startswith("image/"):
        raise ValueError(f"serve_image() serves images, not {mime}")
    resp = Response(chunks, mimetype=None, content_type=mime, direct_passthrough=True)
    return _sealed(resp, "inline", name, CSP_DOWNLOAD)


def serve_drawing(chunks, mime: str, stem: str) -> Response:
    """A page or a photo drawn as an image (a JPEG or a PNG), named after what it shows."""
    return serve_image(chunks, mime, f"{stem}.{'png' if mime == 'image/png' else 'jpg'}")


def _sealed(resp: Response, kind: str, name: str, csp: str) -> Response:
    resp.headers["Content-Disposition"] = disposition(kind, name)
    resp.headers["Content-Security-Policy"] = csp
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return resp
