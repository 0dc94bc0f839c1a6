/* attn_steps, the poet's link: the poem a reader sees, kept in the page's address (url_state.js), as the explorer's is.
 *
 * Kept: the opening typed (text), seed, temperature, top_k and the step shown, under the
 * poet's prefix (p1 for the page's first poet, p2 for the next: an explorer's are e1, e2,
 * so two widgets never share a key). Opening a link writes that poem again (the same seed
 * gives the same poem) and shows that step. Each value is checked as the poet's own boxes
 * check theirs; a bad or hand-edited one shows the usual Chinese message and leaves the
 * page's default view, never an error. The address changes only after the reader has
 * written, and only on the book's site (siteRoot, explorer_stage0.js). window.AttnPoetLink.
 */
window.AttnPoetLink = window.AttnPoetLink || (function () {
  "use strict";
  const U = window.AttnUrlState;
  const NUMBERS = ["seed", "temperature", "top_k"];

  // A number as the boxes give it (Number of the text), or the text itself, for checked() to refuse in Chinese.
  const number = (raw) => (raw.trim() !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw);

  class Link {
    constructor(poet, prefix) {
      this.poet = poet;
      this.prefix = prefix;
      this.ready = false;
      this.step = null;  // the step a link asks for, shown once its poem is written
    }

    snapshot() {
      const p = this.poet, box = (k) => p.root.querySelector(`[data-role=${k}]`).value;
      const out = { text: p.el.prefix.value.trim() };
      for (const key of NUMBERS) out[key] = box(key);
      if (p.at && p.at.which === "main") out.step = p.at.k + 1;  // as the page counts them: 第 1 步
      return out;
    }

    remember() { if (this.ready && !this.poet.root.dataset.busy) U.write(this.prefix, this.snapshot()); }

    // The poem finished: show the step the link named (then forget it), and keep the view.
    finished() {
      if (this.step !== null) { this.poet.showStep(this.step, "main"); this.step = null; }
      this.ready = true;
      this.remember();
    }

    // Checks the address's values; writes their poem, or leaves the default view with a message.
    restore() {
      const got = U.read(this.prefix), p = this.poet;
      if (!Object.keys(got).length) { this.ready = true; return Promise.resolve(false); }
      try {
        const o = {};
        for (const key of NUMBERS) o[key] = got[key] === undefined ? p.data.settings[key] : number(got[key]);
        p.checked(o);
        const text = got.text === undefined ? "" : got.text, form = p.check(text, p.data.max_prefix);
        if (form.error) throw new Error(form.error);
        let step = null;
        if (got.step !== undefined) {
          step = number(got.step);
          if (!Number.isInteger(step) || step < 1) throw new Error(`步数要是从 1 起的整数，这里是「${got.step}」。`);
        }
        p.el.prefix.value = text;
        for (const key of NUMBERS) p.root.querySelector(`[data-role=${key}]`).value = String(o[key]);
        this.step = step === null ? null : step - 1;
      } catch (err) {
        p.say(`这个链接里的设置用不了（${err.message.replace(/。$/, "")}），下面是本页默认的样子。`);
        this.ready = true;
        return Promise.resolve(false);
      }
      return p.write().then(() => { this.ready = true; return true; });
    }
  }

  // Poet k of the page (from 1) keeps its view under the prefix p<k>; only on the book's site:
  // in Jupyter the address belongs to Jupyter.
  function attach(poet) {
    if (!U || window.AttnStage0.siteRoot() === null) return null;
    const k = Array.from(document.querySelectorAll("[data-attn-poet]")).indexOf(poet.root) + 1;
    const link = new Link(poet, `p${k}`);
    poet.restored = link.restore();
    return link;
  }

  return { attach };
})();
