"""Uploaded files kept byte for byte.

Werkzeug's multipart decoder (3.1.9, and 3.1.3 before it) adds a stray CR to the last part of
a form when one of its reads ends just inside the closing delimiter (`CRLF--boundary-`): its
window for a partial delimiter is the length of the opening one, two bytes shorter
(pallets/werkzeug#3285). It reads the body 64 KiB at a time, so one file size in every 65,536
came back a byte longer than the person's file, its checksum with it. The parser is given the
same body, in reads that never end inside a delimiter: nothing else changes.
"""

from __future__ import annotations

from htmx_flask.requests import HtmxAwareRequest
from werkzeug.formparser import FormDataParser


class _WholeDelimiters:
    """The body, read so that no read ends with the beginning of the closing delimiter (every
    delimiter begins as it does): such a read goes on until it ends elsewhere, or the body does."""

    def __init__(self, stream, closing: bytes):
        self._read = stream.read
        self._closing = closing

    def _ends_inside(self, data: bytes) -> bool:
        tail = data[-(len(self._closing) - 1) :]
        return any(self._closing.startswith(tail[i:]) for i in range(len(tail)))

    def read(self, size: int = -1) -> bytes:
        data = self._read(size)
        while data and self._ends_inside(data):
            more = self._read(len(self._closing))
            if not more:
                break
            data += more
        return data


class WholeDelimitersParser(FormDataParser):
    def parse(self, stream, mimetype, content_length, options=None):
        boundary = (options or {}).get("boundary", "")
        if mimetype == "multipart/form-data" and boundary.isascii() and boundary:
            _wrapped, form, files = super().parse(
                _WholeDelimiters(stream, b"\r\n--" + boundary.encode("ascii") + b"--"),
                mimetype,
                content_length,
                options,
            )
            return stream, form, files
        return super().parse(stream, mimetype, content_length, options)


class CarnetRequest(HtmxAwareRequest):
    """The request htmx-flask gives the app (`request.htmx`), its forms read by the parser
    above. Set after htmx-flask's init_app(), which sets its own."""

    form_data_parser_class = WholeDelimitersParser
