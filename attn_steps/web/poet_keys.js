/* attn_steps, the poet by keyboard alone: where the focus goes when what it was on changes.
 *
 * Every control of the poet is a native button or box, so Tab reaches each and Enter or
 * Space uses it; the poem's characters are one Tab stop with ← → between them (poet_view.js).
 * Here: ← → ↑ ↓ across the head tiles (and across the switches), the focus taken to a head
 * when it opens and back to its tile when it closes, and never dropped on a button that a
 * step has just disabled. window.AttnPoetKeys.
 */
window.AttnPoetKeys = window.AttnPoetKeys || (function () {
  "use strict";

  // In the grid of layers × heads: ← → to the next head, ↑ ↓ to the same head of the next layer; tile to tile,
  // switch to switch.
  function gridKey(e, grid, nHead) {
    const b = e.target.closest(".ap-open, .ap-switch");
    const by = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -nHead, ArrowDown: nHead }[e.key];
    if (!b || !by) return;
    e.preventDefault();
    const same = [...grid.querySelectorAll(b.classList.contains("ap-open") ? ".ap-open" : ".ap-switch")];
    const next = same[same.indexOf(b) + by];
    if (next) next.focus();
  }

  // Disable (or enable) a button; if the keyboard was on it, it moves to the other one.
  function disable(button, off, other) {
    const had = document.activeElement === button;
    button.disabled = off;
    if (off && had) other.focus();
  }

  // A part just opened (a head): scrolled to, and the focus on its title (tabindex -1), which a screen reader reads.
  function arrive(box, title) {
    box.scrollIntoView({ block: "nearest" });
    const t = box.querySelector(title);
    if (t) t.focus({ preventScroll: true });
  }

  // The head closed (page: poet_view.js's PoetPage), the focus back on the tile that opened it.
  function closeHead(page) {
    const was = page.head;
    page.el.head.hidden = true; page.head = null;
    const tile = was && page.el.grid.querySelector(`[data-cell="${was.layer},${was.head}"]`);
    if (tile) tile.focus();
  }

  return { gridKey, disable, arrive, closeHead };
})();
