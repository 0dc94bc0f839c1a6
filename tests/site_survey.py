"""Every page of the built site visited once per window width, every site-wide check read from that visit.

The site-wide browser tests (tests/test_browser.py, tests/test_axe_browser.py) each walked all pages
for themselves: thirteen walks of 16 pages, most of make test's browser time spent loading the same
pages again. Here one walk per width loads each page once and runs, in order, every probe its tests
read: first what leaves the page as it opened (load problems, screenshots, formulas, figure widths,
the notes' contrast, the exercises, axe-core) in the light theme then the dark, last the widget contrast, which
puts each widget through its views. A probe that raises is kept as its error and raised again in
the test that reads it, so one broken probe fails its own test, not the walk.
"""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By

from tools import axe_site, browser

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
WIDGETS = "[data-attn-explorer], [data-attn-tiles], [data-attn-poet]"
FIGURES = "article .cell_output img, article figure img"

# Every element of a widget or note that shows text or is a control: its text colour against the
# background it is drawn on (ancestors' backgrounds composited; a hatched cell against each of
# its stripes), as WCAG 2 computes contrast. Hidden elements are skipped: a reader cannot see them.
CONTRAST = r"""
const root = arguments[0];
const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
  const v = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
const over = (top, under) => { const a = top[3]; return [0, 1, 2].map((i) => top[i] * a + under[i] * (1 - a)).concat([1]); };
const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
function backgrounds(el) {
  // the stack of backgrounds from el up to the page, composited from the bottom
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.push(e);
  let base = [[255, 255, 255, 1]];
  for (const e of chain.reverse()) {
    const cs = getComputedStyle(e);
    const stripes = (cs.backgroundImage.match(/rgba?\([^)]+\)/g) || []).map(parse);
    const bg = parse(cs.backgroundColor);
    if (stripes.length) base = stripes.map((s) => over(s, base[0]));
    else if (bg && bg[3] > 0) base = base.map((b) => over(bg, b));
  }
  return base;
}
const out = [];
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
for (const el of root.querySelectorAll("*")) {
  if (!shown(el) || ["SCRIPT", "STYLE"].includes(el.tagName)) continue;
  const control = ["INPUT", "SELECT", "BUTTON"].includes(el.tagName);
  const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (!control && !ownText) continue;
  let alpha = 1;
  for (let e = el; e; e = e.parentElement) alpha *= Number(getComputedStyle(e).opacity);
  const fg = parse(getComputedStyle(el).color);
  for (const bg of backgrounds(el)) {
    const text = over([fg[0], fg[1], fg[2], fg[3] * alpha], bg);
    out.push({ tag: el.tagName, cls: el.className, text: (el.textContent || el.value || "").trim().slice(0, 30), ratio: ratio(text, bg),
               disabled: el.matches(":disabled") });
  }
}
return out;
"""

MATH_STATE = """
const done = arguments[arguments.length - 1];
const formulas = () => [...document.querySelectorAll('article .math')];
if (!window.MathJax || !MathJax.startup) return done({loaded: false, formulas: formulas().length});
MathJax.startup.promise.then(
  () => done({loaded: true, formulas: formulas().length,
              untypeset: formulas().filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent.slice(0, 40)),
              errors: [...document.querySelectorAll('mjx-merror')].map((e) => e.getAttribute('data-mjx-error') || e.textContent)}),
  (e) => done({loaded: true, failed: String(e)}));
"""


def site_pages() -> list[str]:
    """Every page of the built site (the chapters, the book's pages, the index and search), relative to its root."""
    return axe_site.pages(SITE)


# The theme fades its colours over a fraction of a second when it switches, and every check here reads colours
# or pictures of the end state; with the fade off, a switch is done at the next frame instead of after the fade,
# which the walk used to wait out on every page and theme (17 s of the 1280 px walk's 68). No widget waits for a
# transition's end (no transitionend listener in attn_steps/web/).
NO_FADE = """
const style = document.createElement('style');
style.textContent = '*, *::before, *::after { transition: none !important; }';
document.head.append(style);
"""


def set_theme(driver, theme: str) -> None:
    """pydata-sphinx-theme's switch as its button leaves it, once any fade has ended."""
    axe_site.set_theme(driver, theme)
    driver.execute_async_script(axe_site.SETTLED)


# ---- the probes: each reads one thing off the page as it is, under the theme just set --------------

def load_problems(driver, page, theme, width):
    return {k: v for k, v in {"console errors": browser.console_errors(driver),
                              "requests off 127.0.0.1": browser.foreign(browser.requested_urls(driver)),
                              "images not decoded": browser.undecoded_images(driver)}.items() if v}


def screenshot(driver, page, theme, width):
    """Saved to _build/screenshots/pages/ for a person to look at; the explorer's own view when the page has one."""
    out = SCREENSHOTS / "pages"
    out.mkdir(parents=True, exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    name = page.replace("/", "_").removesuffix(".html")
    saved = [out / f"{name}-{width}-{theme}.png"]
    driver.save_screenshot(str(saved[0]))
    roots = driver.find_elements(By.CSS_SELECTOR, "[data-attn-explorer]")
    if roots:
        driver.execute_script("arguments[0].scrollIntoView({block: 'start', behavior: 'instant'})", roots[0])
        saved.append(out / f"{name}-explorer-{width}-{theme}.png")
        driver.save_screenshot(str(saved[-1]))
        driver.execute_script("window.scrollTo(0, 0)")
    return saved


def scroll_width(driver, page, theme, width):
    return driver.execute_script("return document.documentElement.scrollWidth")


def formulas(driver, page, theme, width):
    return driver.execute_async_script(MATH_STATE)


def figure_widths(driver, page, theme, width):
    return driver.execute_script(f"return [...document.querySelectorAll('{FIGURES}')].map((im) => im.clientWidth)")


def note_contrast(driver, page, theme, width):
    """[the contrast of each text in each box a cell prints]"""
    return [driver.execute_script(CONTRAST, root)
            for root in driver.find_elements(By.CSS_SELECTOR, "article .cell_output .admonition")]


def exercises(driver, page, theme, width):
    """The page's h2 headings, and for the last section's dropdowns whether each answer shows."""
    return driver.execute_script("""
        const sections = [...document.querySelectorAll('section')].filter((s) => s.querySelector(':scope > h2'));
        const shows = (el) => !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
        const last = sections[sections.length - 1];
        return {headings: sections.map((s) => s.querySelector(':scope > h2').innerText.trim()),
                answers_shown: last ? [...last.querySelectorAll('.admonition.dropdown')]
                  .map((a) => shows(a.querySelector('.admonition-title ~ *'))) : []};""")


def axe(driver, page, theme, width):
    return axe_site.audit(driver, themes=(theme,))[theme]


def widget_views(driver, root) -> list[str]:
    """Put the widget through the views a reader meets; return their names."""
    if root.get_attribute("data-attn-poet") is not None:
        return ["as loaded"]
    if root.get_attribute("data-attn-tiles") is not None:
        total = driver.execute_script("return arguments[0].attnTiles.go(1).total", root)
        views = ["tile 1"]
        if total > 2:
            driver.execute_script("arguments[0].attnTiles.go(arguments[1])", root, total - 1)
            views.append(f"tile {total - 1}")
        return views
    for view in ("weights", "all"):
        driver.execute_script("arguments[0].attnExplorer.show(arguments[1])", root, view)
    return ["weights", "all"]


def widget_contrast(driver, page, theme, width):
    """{(widget's index on the page, view): the contrast of each of its texts and controls} after each view."""
    seen = {}
    for i, root in enumerate(driver.find_elements(By.CSS_SELECTOR, WIDGETS)):
        for view in widget_views(driver, root):
            seen[(i, view)] = driver.execute_script(CONTRAST, root)
    return seen


# Per width, the probes in the order they run on each page, each under its theme. What changes the page
# (widget_contrast: each widget put through its views) comes last.
PLAN = {
    1280: [("light", load_problems), ("light", screenshot), ("light", formulas), ("light", figure_widths),
           ("light", note_contrast), ("light", exercises), ("light", axe),
           ("dark", screenshot), ("dark", note_contrast), ("dark", axe),
           ("light", widget_contrast), ("dark", widget_contrast)],
    500: [("light", scroll_width), ("light", screenshot), ("dark", screenshot)],
    375: [("light", scroll_width), ("light", figure_widths)],
}


class ProbeFailed(Exception):
    pass


class Survey:
    """The site walked once per width, on first use: survey.read(width, theme, probe) = {page: what it found}."""

    def __init__(self, base: str):
        self.base, self.walks = base, {}

    def read(self, width: int, theme: str, probe) -> dict:
        if width not in self.walks:
            self.walks[width] = self._walk(width)
        found = {page: got[(theme, probe.__name__)] for page, got in self.walks[width].items()}
        for page, value in found.items():
            if isinstance(value, BaseException):
                raise ProbeFailed(f"{probe.__name__} ({theme}, {width} px) on {page}: {value!r}") from value
        return found

    def _walk(self, width: int) -> dict:
        found = {}
        with browser.chromium(width=width, height=900) as d:
            for page in site_pages():
                d.get_log("performance")
                browser.open_page(d, self.base + page)
                d.execute_script(NO_FADE)
                got, theme = {}, None
                for want, probe in PLAN[width]:
                    try:
                        if want != theme:
                            set_theme(d, want)
                            theme = want
                        got[(want, probe.__name__)] = probe(d, page, want, width)
                    except Exception as error:  # kept for the test that reads it
                        got[(want, probe.__name__)] = error
                found[page] = got
        return found
