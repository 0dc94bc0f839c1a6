"""axe-core on every page of the built site, in the light and the dark theme: what a screen reader or a keyboard meets.

axe-core comes from npm as a test-only dependency (package.json, package-lock.json;
`npm ci` in make test), never from the network at run time, and never ships with the site.
Used by tests/test_axe_browser.py, and by hand for the counts by page and impact:

    python -m tools.axe_site [_build/html]
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
IMPACTS = ("critical", "serious", "moderate", "minor")
THEMES = ("light", "dark")
SKIPPED = ("_static", "_sources", "_images")  # the site's files, not its pages

# After the theme is switched: the theme fades its colours (CSS transitions), and axe measuring contrast mid-fade
# reports colours no reader sees once it is done; wait for every transition to end (at most 3 s).
SETTLED = """
const done = arguments[arguments.length - 1], t0 = Date.now();
const look = () => (document.getAnimations().some((a) => a.playState === "running") && Date.now() - t0 < 3000
  ? setTimeout(look, 50) : requestAnimationFrame(() => done()));
requestAnimationFrame(() => requestAnimationFrame(look));
"""

# Run once the page has settled (tools/browser.open_page) and its theme is set; the violations, each node's target.
RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ["violations"] }).then((r) => done(r.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160), impact: n.impact })) }))),
  (e) => done({ error: String(e) }));
"""


def pages(site: Path) -> list[str]:
    """Every page of the built site, as paths relative to its root."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not set(p.relative_to(site).parts) & set(SKIPPED))


def axe_source() -> str:
    if not AXE.is_file():
        raise FileNotFoundError(f"no {AXE.relative_to(ROOT)}: run `npm ci` at the repository's root (make test does)")
    return AXE.read_text(encoding="utf-8")


def set_theme(driver, theme: str) -> None:
    """pydata-sphinx-theme's switch as its button leaves it: html[data-theme] and html[data-mode]."""
    driver.execute_script("document.documentElement.dataset.theme = arguments[0];"
                          "document.documentElement.dataset.mode = arguments[0]", theme)


def check(driver, url: str, themes=THEMES, source: str | None = None) -> dict[str, list[dict]]:
    """{theme: axe's violations} of the page at url, as it opens."""
    from tools import browser

    browser.open_page(driver, url)
    return audit(driver, themes, source)


def audit(driver, themes=THEMES, source: str | None = None) -> dict[str, list[dict]]:
    """{theme: axe's violations} of the page as it is now (after a reader has used a widget, say)."""
    if not driver.execute_script("return Boolean(window.axe)"):
        driver.execute_script(source or axe_source())
    out = {}
    for theme in themes:
        set_theme(driver, theme)
        driver.execute_async_script(SETTLED)
        found = driver.execute_async_script(RUN)
        if isinstance(found, dict):
            raise RuntimeError(f"axe failed on {driver.current_url} ({theme}): {found['error']}")
        out[theme] = found
    return out


def counts(found: dict[str, dict[str, list[dict]]]) -> dict:
    """{theme: {page: {impact: nodes}}} from {page: {theme: violations}}."""
    table: dict = collections.defaultdict(dict)
    for page, by_theme in found.items():
        for theme, violations in by_theme.items():
            n = collections.Counter()
            for v in violations:
                n[v["impact"]] += len(v["nodes"])
            table[theme][page] = n
    return table


def report(found) -> str:
    lines = []
    for theme, by_page in counts(found).items():
        lines.append(f"## {theme}\n\n| page | " + " | ".join(IMPACTS) + " | rules |\n|---|" + "---|" * (len(IMPACTS) + 1))
        for page, n in by_page.items():
            rules = sorted({f"{v['id']} ({len(v['nodes'])})" for v in found[page][theme]})
            lines.append(f"| {page} | " + " | ".join(str(n.get(i, 0)) for i in IMPACTS) + f" | {', '.join(rules)} |")
        total = collections.Counter()
        for n in by_page.values():
            total.update(n)
        lines.append("| **all** | " + " | ".join(str(total.get(i, 0)) for i in IMPACTS) + " | |\n")
    return "\n".join(lines)


def main(argv=None) -> None:
    from tools import browser

    site = Path((argv or sys.argv[1:] or [ROOT / "_build" / "html"])[0]).resolve()
    source = axe_source()
    found = {}
    with browser.serve(site) as base, browser.chromium() as driver:
        for page in pages(site):
            found[page] = check(driver, base + page, source=source)
            print(page, {t: sum(len(v["nodes"]) for v in vs) for t, vs in found[page].items()}, file=sys.stderr)
    print(report(found))


if __name__ == "__main__":
    main()
