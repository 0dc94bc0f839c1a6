/* attn_steps explorer, its link: the view a reader sees, kept in the page's address (url_state.js).
 *
 * Kept: the typed sentence and how it is cut, seed, d_k, the weights' std (or the chosen
 * weights), whether to divide by √d_k, the temperature τ, the followed word and the stage
 * in view, under the explorer's prefix (e1 for the page's first explorer). Opening a link
 * restores them; each value is checked as the controls check it (explorer_controls.js), and a
 * bad or hand-edited one shows the usual Chinese message and leaves the page's default view,
 * never an error. The address changes only after the reader changes something, and only on
 * the book's site (siteRoot, explorer_stage0.js).
 * window.AttnExplorerLink.
 */
window.AttnExplorerLink = window.AttnExplorerLink || (function () {
  "use strict";
  const U = window.AttnUrlState, C = window.AttnControls, N = window.AttnNav;
  const SETTINGS = ["seed", "d_k", "std", "scale", "temperature", "weights"];

  // A value as the controls would give it: true/false, a number, else the text as typed (for the message).
  function value(raw) {
    if (raw === "true" || raw === "false") return raw === "true";
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }

  class Link {
    constructor(ex, prefix) {
      this.ex = ex;
      this.prefix = prefix;
      this.ready = false;
      this.defaults = { settings: Object.assign({}, ex.settings), view: ex.view };
    }

    snapshot() {
      const ex = this.ex, s = ex.settings, out = {}, typed = ex.typing && ex.typing.state;
      if (typed) Object.assign(out, { text: typed.text, cut: typed.mode });
      for (const key of SETTINGS) if (key in s) out[key] = s[key];
      out.q = ex.tokens[s.query];
      out.view = ex.view === "all" ? "all" : ex.stops[ex.view].label;
      return out;
    }

    remember() { if (this.ready) U.write(this.prefix, this.snapshot()); }

    // The view the address names, or the default one and a message; resolves once drawn.
    restore() {
      const got = U.read(this.prefix), ex = this.ex;
      if (!Object.keys(got).length) { this.ready = true; return Promise.resolve(false); }
      const typed = got.text !== undefined && ex.typing
        ? new Promise((ok) => ok(ex.typing.type(got.text, got.cut === undefined ? "book" : got.cut))) : Promise.resolve(null);
      return typed.then(() => {
        const next = Object.assign({}, ex.settings);
        const context = { fixed: ex.fixed(), max_d_k: ex.data.max_d_k, tokens: ex.tokens, weights: ex.data.weights };
        for (const key of SETTINGS) if (got[key] !== undefined) next[key] = C.check(key, value(got[key]), context);
        if (got.q !== undefined) next.query = C.check("query", got.q, context);
        const view = got.view === undefined ? ex.view : N.find(ex.stops, got.view);
        ex.settings = next;
        ex.view = view;
        ex.render();
        return true;
      }).catch((err) => {
        if (ex.typing) ex.typing.restore();
        ex.settings = Object.assign({}, this.defaults.settings);
        ex.view = this.defaults.view;
        ex.render();
        const box = ex.root.querySelector("[data-role=message]");
        box.textContent = `这个链接里的设置用不了（${err.message}），下面是本页默认的样子。`;
        box.hidden = false;
        return false;
      }).then((restored) => { this.ready = true; return restored; });
    }
  }

  // Explorer k of the page (from 1) keeps its view under the prefix e<k>; only on the book's site:
  // in Jupyter the address belongs to Jupyter, and an explorer leaves it alone.
  function attach(ex) {
    if (window.AttnStage0.siteRoot() === null) { ex.restored = Promise.resolve(false); return null; }
    const k = Array.from(document.querySelectorAll("[data-attn-explorer]")).indexOf(ex.root) + 1;
    const link = new Link(ex, `e${k}`);
    ex.restored = link.restore();
    return link;
  }

  return { attach, value };
})();
