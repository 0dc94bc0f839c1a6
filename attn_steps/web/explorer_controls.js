/* attn_steps explorer, its controls: each setting checked (a Chinese message saying what to
 * type when it is wrong, shown under the controls), and playback one stage at a time. window.AttnControls.
 */
window.AttnControls = window.AttnControls || (function () {
  "use strict";

  // The value to store for one setting, or an Error in Chinese. ex: { fixed, max_d_k, tokens, weights }.
  function check(key, v, ex) {
    const number = (x) => typeof x === "number" && x > 0 && Number.isFinite(x);
    if (key === "seed") {
      if (ex.fixed) throw new Error("种子 (seed) 在这里不能改：权重是从 Python 给定的，请在「权重」里选");
      if (!Number.isInteger(v) || v < 0) throw new Error(`种子 (seed) 要是 0 或更大的整数，例如 0、1、42；现在是 ${v}`);
    } else if (key === "d_k") {
      if (ex.fixed) throw new Error("d_k 在这里由给定的权重决定，不能改");
      if (!Number.isInteger(v) || v < 1 || v > ex.max_d_k) throw new Error(`d_k 要是 1 到 ${ex.max_d_k} 之间的整数；现在是 ${v}`);
    } else if (key === "temperature") {
      if (!number(v)) throw new Error(`温度 τ (temperature) 要是大于 0 的数，例如 0.5、1、2；现在是 ${v}`);
    } else if (key === "std") {
      if (ex.fixed) throw new Error("权重的标准差 (std) 在这里不能改：权重是从 Python 给定的");
      if (!number(v)) throw new Error(`权重的标准差 (std) 要是大于 0 的数；现在是 ${v}`);
    } else if (key === "scale") {
      if (typeof v !== "boolean") throw new Error(`是否除以 √d_k (scale) 要是 true 或 false；现在是 ${v}`);
    } else if (key === "query") {
      const i = typeof v === "string" ? ex.tokens.indexOf(v) : v;
      if (!Number.isInteger(i) || i < 0 || i >= ex.tokens.length) throw new Error(`跟随的词 (query) 要是句中的一个词，或它的序号 0 到 ${ex.tokens.length - 1}；现在是 ${v}`);
      return i;
    } else if (key === "weights") {
      if (!ex.weights || !(v in ex.weights)) throw new Error(`权重 (weights) 要选 ${Object.keys(ex.weights || {}).join("、") || "（这里没有可选的权重）"} 之一；现在是 ${v}`);
    } else {
      throw new Error(`没有 ${key} 这个设置；可以改的有 seed、d_k、std、scale、temperature、query、weights`);
    }
    return v;
  }

  // What to type into an empty box.
  function hint(key, maxDk) {
    return { seed: "种子要是 0 或更大的整数，例如 0", d_k: `d_k 要是 1 到 ${maxDk} 之间的整数`,
      temperature: "温度要是大于 0 的数，例如 1" }[key] || "请填一个数";
  }

  // A message under root's controls for the box el (null: the value is valid, the message goes).
  function message(root, el, text) {
    const box = root.querySelector("[data-role=message]");
    if (text === null) {
      el.removeAttribute("aria-invalid");
      if (!root.querySelector("[aria-invalid=true]")) { box.hidden = true; box.textContent = ""; }
      return;
    }
    el.setAttribute("aria-invalid", "true");
    box.textContent = text;
    box.hidden = false;
  }

  // Playback over `count` stages: step −1 is "not playing"; onStep(k) draws stage k.
  class Player {
    constructor(button, intervalMs, onStep) {
      this.button = button; this.intervalMs = intervalMs; this.onStep = onStep;
      this.count = 0; this.step = -1; this.timer = null;
    }

    play(what) {
      if (what === "toggle") {
        if (this.timer) return this.stop();
        if (this.step >= this.count - 1) this.step = -1;
        this.advance(1);
        this.timer = setInterval(() => (this.step >= this.count - 1 ? this.stop() : this.advance(1)), this.intervalMs);
        this.button.innerHTML = '<span aria-hidden="true">❙❙</span> 暂停';  // its name is its word
        return undefined;
      }
      this.stop();
      return this.advance(what === "next" ? 1 : -1);
    }

    stop() {
      clearInterval(this.timer); this.timer = null;
      this.button.innerHTML = '<span aria-hidden="true">▶</span> 播放';
    }

    reset(count) { this.stop(); this.count = count; this.step = -1; }

    advance(d) {
      this.step = Math.max(0, Math.min(this.count - 1, this.step + d));
      this.onStep(this.step);
    }
  }

  return { check, hint, message, Player };
})();
