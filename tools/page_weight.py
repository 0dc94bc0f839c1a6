"""Page weight of the built site: what a reader downloads on a first visit.

Two measures, both counting the bytes a static host sends: text files
(HTML, CSS, JS, JSON, SVG) gzip-compressed, as GitHub Pages and most static
hosts serve them; PNG, WOFF2 and other already-compressed files as they are.

- static (default, no browser): each page's HTML plus every stylesheet,
  script, image and web font it references, and when the page has math, the
  MathJax component with all of its CHTML fonts. An upper bound, since a
  browser fetches only the fonts a page draws with; tests/test_site.py
  holds it to the target.
- --browser: loads each page in a fresh headless Chromium profile (no cache;
  on a machine with no CJK font, so the CJK web font is fetched), served from
  127.0.0.1, scrolls to the end and waits for MathJax and the fonts, then
  counts every request it made (tools/browser.py, the tests' harness). Needs
  Debian's chromium + chromium-driver and selenium. Also reports requests
  that failed (a missing file).

    python -m tools.page_weight [_build/html] [--browser]     # from the repository root
"""

from __future__ import annotations

import argparse
import functools
import gzip
import html
import json
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tools import browser

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SITE = ROOT / "_build" / "html"

PAGE_LIMIT = 2_000_000  # bytes sent on a page's first load
SITE_LIMIT = 16_000_000  # bytes on disk for the whole site, uncompressed (issue 23: 16 MB with the poet's weights)

# What static hosts compress on the fly; everything else is sent as stored.
COMPRESSED_TYPES = {".html", ".css", ".js", ".json", ".svg", ".txt", ".map", ".xml", ".inv"}
MATHJAX_COMPONENT = "_static/mathjax/tex-chtml.js"
MATHJAX_FONTS = "_static/mathjax/output/chtml/fonts/woff-v2"


@functools.cache
def sent_bytes(path: Path) -> int:
    """Bytes a static host sends for this file: gzip for text, as stored otherwise."""
    data = path.read_bytes()
    if path.suffix.lower() in COMPRESSED_TYPES:
        return len(gzip.compress(data, compresslevel=6, mtime=0))
    return len(data)


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


def site_size(site: Path) -> int:
    """Bytes on disk of every file of the site, uncompressed."""
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def _local(site: Path, base: Path, ref: str) -> Path | None:
    """The site file a relative reference in `base` points to, or None for other hosts and data."""
    parts = urlsplit(html.unescape(ref))
    if parts.scheme or parts.netloc or not parts.path:
        return None
    target = (base.parent / unquote(parts.path)).resolve()
    return target if target.is_relative_to(site.resolve()) else None


_TAG = re.compile(r"<(link|script|img|source)\b([^>]*)>", re.I)
_ATTR = re.compile(r"""\b(href|src|rel)\s*=\s*["']([^"']*)["']""", re.I)
# <link> relations a browser fetches while loading the page (not next, prev, search, ...).
_FETCHED_LINKS = {"stylesheet", "preload", "modulepreload", "icon"}
_CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
_FONT_FACE_SRC = re.compile(r"@font-face\s*{[^}]*?src:([^;}]*)", re.S)


def _css_fonts(site: Path, css: Path) -> set[Path]:
    """Font files of a stylesheet's @font-face rules: the first url() of each (the one browsers take)."""
    found = set()
    for src in _FONT_FACE_SRC.findall(css.read_text(encoding="utf-8", errors="replace")):
        for ref in _CSS_URL.findall(src):
            target = _local(site, css, ref)
            if target is not None:
                found.add(target)
                break
    return found


def static_files(site: Path, page: Path) -> set[Path]:
    """The page and every local file it references, as described in the module docstring."""
    text = page.read_text(encoding="utf-8")
    files = {page}
    for tag, attrs in _TAG.findall(text):
        attr = {k.lower(): v for k, v in _ATTR.findall(attrs)}
        if tag.lower() == "link" and not _FETCHED_LINKS & set(attr.get("rel", "").lower().split()):
            continue
        ref = attr.get("href") or attr.get("src")
        target = _local(site, page, ref) if ref else None
        if target is None or not target.is_file():
            continue
        files.add(target)
        if target.suffix == ".css":
            files |= {f for f in _css_fonts(site, target) if f.is_file()}
    if 'class="math' in text and (site / MATHJAX_COMPONENT).is_file():
        files.add(site / MATHJAX_COMPONENT)
        files |= set((site / MATHJAX_FONTS).glob("*"))
    return files


def static_weight(site: Path, page: Path) -> int:
    return sum(sent_bytes(f) for f in static_files(site, page))


def browser_weight(site: Path, page_paths: list[Path]) -> dict[str, dict]:
    """Per page: bytes sent, request count, and failed requests, from a fresh Chromium profile each."""
    results = {}
    with browser.serve(site) as base:
        for page in page_paths:
            rel = page.relative_to(site).as_posix()
            with browser.chromium() as driver:
                # Longer than the tests wait: a font or script started late still counts.
                browser.open_page(driver, base + rel, linger_ms=500)
                results[rel] = _tally(site, base, browser.requests(driver))
    return results


def _tally(site: Path, base: str, requests: list[browser.Request]) -> dict:
    # Only the local server's: not the browser's own start page.
    local = [r for r in requests if r.url.startswith(base)]
    failed = [r.url for r in local if r.failed or (r.status or 200) >= 400]
    files, sent = [], 0
    for r in local:
        if r.url in failed:
            continue
        path = site / unquote(urlsplit(r.url).path.removeprefix(urlsplit(base).path))
        if path.is_file() and path not in files:
            files.append(path)
            sent += sent_bytes(path)
    return {"sent": sent, "requests": len(files), "failed": sorted(set(failed)),
            "files": sorted(str(f.relative_to(site)) for f in files)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("site", nargs="?", type=Path, default=DEFAULT_SITE)
    parser.add_argument("--browser", action="store_true", help="measure in headless Chromium")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    site = args.site.resolve()
    page_paths = pages(site)
    measured = browser_weight(site, page_paths) if args.browser else {}
    over = 0
    report = {}
    kind = "browser" if args.browser else "static"
    print(f"{'page':40} {kind + ' KB sent':>16} {'requests':>9}")
    for page in page_paths:
        rel = page.relative_to(site).as_posix()
        if args.browser:
            sent, count = measured[rel]["sent"], measured[rel]["requests"]
            for url in measured[rel]["failed"]:
                print(f"  FAILED {url}")
                over += 1
        else:
            files = static_files(site, page)
            sent, count = sum(sent_bytes(f) for f in files), len(files)
        report[rel] = {"sent": sent, "requests": count}
        flag = "" if sent <= PAGE_LIMIT else f"  over {PAGE_LIMIT / 1e6:.0f} MB"
        over += sent > PAGE_LIMIT
        print(f"{rel:40} {sent / 1000:16.0f} {count:9d}{flag}")
    total = site_size(site)
    report["site_bytes_on_disk"] = total
    flag = "" if total <= SITE_LIMIT else f"  over {SITE_LIMIT / 1e6:.0f} MB"
    over += total > SITE_LIMIT
    print(f"{'whole site on disk':40} {total / 1000:16.0f} KB{flag}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
