"""Chapter 9's poet as built, in headless Chromium: its link, its messages, and why a poem stopped.

If these fail, a reader who copies the page's address would send a friend to another
poem (or to a page that breaks on a hand-edited link); a refused opening would leave the
previous poem and its tiles under the red message, to be read as the answer; a poem cut
at 64 characters would stop without a word why; the timing line would say "还没量"
without saying how to measure it; or a traditional character would be refused with no hint.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tools import browser

pytestmark = [pytest.mark.browser, pytest.mark.notebook]

BUILT_PAGE = "notebooks/09_poet.html"
WINDOW = (1280, 1000)

# Fill the boxes (arguments[0]: data-role → value), press 写诗, and wait for the poem, or a message.
WRITE = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]');
for (const [role, value] of Object.entries(arguments[0])) r.querySelector(`[data-role=${role}]`).value = value;
r.querySelector('[data-role=timing]').textContent = '';
r.querySelector('[data-action=write]').click();
window.__poetSeen = Date.now();
"""
# What the poet shows once nothing is under way (a message, or a finished poem, and the step shown): waits for it.
SHOWN = """
const done = arguments[arguments.length - 1], r = document.querySelector('[data-attn-poet]'), t0 = Date.now();
const text = (role) => r.querySelector(`[data-role=${role}]`).textContent;
const look = () => {
  const m = r.querySelector('[data-role=message]'), settled = !r.dataset.busy && (!m.hidden || text('timing'));
  if (settled || Date.now() - t0 > 60000) return done({
    message: m.hidden ? null : m.textContent, timing: text('timing'), ended: text('ended'),
    poem: text('poem'), unknown: [...r.querySelectorAll('[data-role=poem] .ap-unknown')].map((e) => e.textContent),
    step: r.querySelector('[data-role=step]').hidden ? null : text('step-label'),
    tiles: r.querySelectorAll('[data-role=grid] .ap-cell').length,
    head: !r.querySelector('[data-role=head]').hidden,
    boxes: Object.fromEntries(['prefix', 'seed', 'temperature', 'top_k'].map((k) => [k, r.querySelector(`[data-role=${k}]`).value])),
    timeout: Date.now() - t0 > 60000 });
  setTimeout(look, 50);
};
setTimeout(look, 0);
"""
DEFAULTS = {"prefix": "", "seed": "0", "temperature": "0.8", "top_k": "20"}


def open_at(driver, url: str) -> None:
    driver.get("about:blank")  # a new document: only the hash differs from the page before
    browser.open_page(driver, url)


def write(driver, **boxes) -> dict:
    driver.execute_script(WRITE, boxes)
    return driver.execute_async_script(SHOWN)


@pytest.fixture
def tab(driver):
    """The module's Chromium, for a test that opens the chapter at an address of its own; a clean console after."""
    yield driver
    assert browser.console_errors(driver) == []


@pytest.fixture
def page(tab, base):
    """Chapter 9 as it opens without a link."""
    open_at(tab, base + BUILT_PAGE)
    return tab


def test_a_copied_link_opens_the_same_poem_at_the_same_step(tab, base):
    """If this broke, a link a reader copies would open another poem, or the poem at another step."""
    open_at(tab, base + BUILT_PAGE + "#e1.seed=7")  # another widget's key: kept beside the poet's
    first = write(tab, prefix="床前", seed="3", temperature="0.9", top_k="10")
    assert first["poem"].startswith("床前") and not first["message"], first
    assert tab.execute_script("return document.querySelector('[data-attn-poet]').attnPoet.step(4)")["k"] == 4
    url = tab.current_url
    kept = {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}
    assert kept == {"e1.seed": "7", "p1.text": "床前", "p1.seed": "3", "p1.temperature": "0.9", "p1.top_k": "10", "p1.step": "5"}
    open_at(tab, url)
    again = tab.execute_async_script(SHOWN)
    assert again["boxes"] == {"prefix": "床前", "seed": "3", "temperature": "0.9", "top_k": "10"}
    assert again["poem"] == first["poem"] and again["message"] is None
    assert again["step"].startswith("第 5 / ") and again["tiles"] == 16, again["step"]
    assert "e1.seed=7" in tab.current_url  # restoring rewrites only the poet's own keys


@pytest.mark.parametrize("fragment, says", [
    ("p1.temperature=abc&p1.text=床前", "温度要是大于 0 的数"),
    ("p1.top_k=0", "top-k 要是 1 到 3004"),
    ("p1.seed=1.5&p1.text=白日", "种子要是"),
    ("p1.text=床前abc", "「a」是字母"),
    ("p1.text=%E0%A4", "标点或符号"),  # a broken percent-encoding: decoded to U+FFFD
    ("p1.text=一二三四五六七八九", "最多 7 个字"),
    ("p1.text=床前&p1.step=zero", "步数要是从 1 起的整数"),
])
def test_a_hand_edited_link_gives_the_usual_message_and_the_default_view(tab, base, fragment, says):
    """If this broke, a mangled link would throw, or open a half-restored poet, instead of saying what is wrong."""
    open_at(tab, base + BUILT_PAGE + "#" + fragment)
    shown = tab.execute_async_script(SHOWN)
    assert shown["message"].startswith("这个链接里的设置用不了") and says in shown["message"], shown["message"]
    assert shown["boxes"] == DEFAULTS and shown["poem"] == "" and shown["step"] is None
    assert write(tab, prefix="春眠")["poem"].startswith("春眠")  # and the poet still writes


def test_a_plain_anchor_is_not_a_link_to_a_poem(tab, base):
    tab.get("about:blank")
    browser.requested_urls(tab)  # the earlier pages' requests, read and forgotten
    browser.open_page(tab, base + BUILT_PAGE + "#id1")
    assert tab.execute_script("return document.querySelector('[data-attn-poet] [data-role=message]').hidden")
    assert [u for u in browser.requested_urls(tab) if "attn-poet" in u] == []  # no poem asked for, no weights fetched


def test_a_refused_opening_leaves_no_earlier_poem_under_its_message(page):
    """If this broke, the red message would sit above the previous poem and its tiles, which read as its answer."""
    first = write(page, prefix="床前")
    assert first["poem"].startswith("床前") and first["step"] and first["tiles"] == 16
    page.execute_script("document.querySelector('[data-attn-poet] [data-cell=\"0,0\"]').click()")
    for boxes, says in ((dict(prefix="床前a"), "是字母"), (dict(prefix="床前", temperature="-1"), "温度要是大于 0")):
        refused = write(page, **boxes)
        assert says in refused["message"], refused
        assert refused["poem"] == "" and refused["step"] is None and not refused["head"] and refused["ended"] == ""
        assert write(page, prefix="床前", temperature="0.8")["poem"].startswith("床前")
    traditional = write(page, prefix="國破")
    assert "「國」不在小诗人认识的" in traditional["message"] and "繁体字" in traditional["message"], traditional
    assert traditional["unknown"] == ["國"] and traditional["poem"] == "國破" and traditional["step"] is None


def test_a_poem_cut_at_the_context_says_why(page):
    """If this broke, a reader at τ = 3 and top-k 3004 would see writing stop at 64 characters with no reason given."""
    full = write(page, prefix="", seed="0", temperature="3", top_k="3004")
    assert len(full["poem"]) == 64, full
    assert "写满 64 个字就停了" in full["ended"] and "block_size = 65" in full["ended"], full["ended"]
    assert "温度 3 大于 1" in full["ended"] and "top-k 3004" in full["ended"]
    assert "取消勾选「用 KV 缓存」再写一首" in full["timing"], full["timing"]  # how to measure the other
    ended = write(page, prefix="床前", seed="3", temperature="0.9", top_k="10")
    assert ended["ended"] == "" and ended["poem"].startswith("床前")  # a poem that ends itself: nothing to explain
