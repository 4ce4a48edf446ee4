"""What a phone really downloads on a first visit: Debian's Chromium, an empty cache, the
bytes the network carried for every response (Chrome DevTools Protocol: the
`encodedDataLength` of `Network.loadingFinished`, i.e. headers plus the body as sent,
compressed or not)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@dataclass
class Transfer:
    url: str
    kind: str  # Document, Stylesheet, Script, Image, Manifest, ...
    wire: int  # bytes on the wire, headers included
    encoding: str  # Content-Encoding of the answer ("" when none)


def available() -> str | None:
    """None when Chromium can be driven here; otherwise why not."""
    try:
        import playwright.sync_api  # noqa: F401  (a test dependency: pip install -e '.[test]')
    except ImportError:
        return "playwright is not installed (make install-test)"
    if not shutil.which(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


def first_visit(base_url: str, path: str = "/connexion") -> list[Transfer]:
    """Open `path` in a fresh phone-sized context (nothing cached), wait until the network is
    idle, and return what every response cost on the wire."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, dict] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="fr-FR", **PHONE)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")  # a new context starts with an empty cache

            def on_response(e):
                r = e["response"]
                headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
                seen.setdefault(e["requestId"], {}).update(
                    url=r["url"], kind=e.get("type", ""), encoding=headers.get("content-encoding", "")
                )

            def on_finished(e):
                seen.setdefault(e["requestId"], {})["wire"] = int(e.get("encodedDataLength") or 0)

            cdp.on("Network.responseReceived", on_response)
            cdp.on("Network.loadingFinished", on_finished)
            page.goto(base_url + path, wait_until="networkidle")
            page.wait_for_timeout(500)  # late requests (manifest, icons) finish too
        finally:
            browser.close()
    prefix = base_url.rstrip("/")
    return [
        Transfer(v["url"].removeprefix(prefix) or "/", v.get("kind", ""), v.get("wire", 0), v.get("encoding", ""))
        for v in seen.values()
        if "url" in v
    ]


def main() -> None:
    """`python -m benchmarks.wire http://localhost:8000 [/connexion]`: the figure alone."""
    import sys

    base = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8000"
    path = sys.argv[2] if len(sys.argv) > 2 else "/connexion"
    files = first_visit(base, path)
    for f in files:
        print(f"  {f.kind:11} {f.url:42} {f.wire / 1024:6.1f} KB  {f.encoding or '-'}")
    print(f"first visit of {path}: {sum(f.wire for f in files) / 1024:.1f} KB on the wire ({len(files)} responses)")


if __name__ == "__main__":
    main()
