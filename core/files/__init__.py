"""Files that come from elsewhere: what kind a file is (sniff), the name it is given (names),
an image made safe to keep (images), and the pictures drawn of it (thumbnails, pages, photos).

No route, no database and no blueprint: documents, messages and restored exports share them,
and each worker's fork server imports `pages` (with PDFium and Pillow) without the app
(docs/performance.md, 94). What serves a stored file over HTTP is
`blueprints/documents/files.py`.
"""
