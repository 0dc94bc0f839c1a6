/* attn_steps, the poet's math: attn_steps/gpt.py and poet.py function for function, over plain arrays.
 *
 * normalise, ln, gelu, linear, mlp, headWeights; one Transformer block (block) whose
 * attention path is a parameter: every position at once (headSteps: each head through
 * explorer_math.js's selfAttention with the causal mask, as poet.run) or one new token
 * over a KV cache (Cache); the model with the cache (step) and without (forward, run);
 * knock-outs (knockTable, knocked: heads whose output is replaced by its mean or by
 * zeros, in block only); and the sampler (mulberry32 + draw), so a seed writes the same
 * poem here as poet.generate in Python. The weights come from the site's files
 * (attn_steps/poet_web.py): fromFiles(manifest, bytes) decodes integer rows × scale and
 * float16 to float64, the numbers poet_weights.read_weights gives. A model is
 * { config, vocab, p, heads, headMeans }: p[name] a Float64Array (matrices row by row,
 * stored (out, in) as torch.nn.Linear; the output matrix is wte); headMeans[layer][head]
 * each head's mean output (poet.head_means), or null. No DOM here. window.AttnPoetMath.
 */
window.AttnPoetMath = window.AttnPoetMath || (function () {
  "use strict";
  const M = window.AttnMath;
  const PAD_ID = 0, START = 1, END = 2, UNK = 3, NEVER_SAMPLED = [PAD_ID, START, UNK];

  // ---- the weights ----------------------------------------------------------------

  // An IEEE half-precision number from its 16 bits, exactly (every float16 is a float64).
  function float16(bits) {
    const sign = bits & 0x8000 ? -1 : 1, e = (bits >> 10) & 0x1f, f = bits & 0x3ff;
    if (e === 0) return sign * f * 2 ** -24;
    if (e === 31) return f ? NaN : sign * Infinity;
    return sign * (1 + f / 1024) * 2 ** (e - 15);
  }
  const READ = {
    int8: (view, at, k) => view.getInt8(at + k),
    uint8: (view, at, k) => view.getUint8(at + k),
    int32: (view, at, k) => view.getInt32(at + 4 * k, true),
    float16: (view, at, k) => float16(view.getUint16(at + 2 * k, true)),
    float32: (view, at, k) => view.getFloat32(at + 4 * k, true),
  };

  // count integers of `bits` bits (≤ 16), least significant bit first, one after the other from bytes[0]
  // (poet_weights.pack), each less 2^(bits−1): the signed levels (poet_weights.unpack gives them unsigned; read_weights
  // subtracts the half), hence its own name.
  function unpackSigned(bytes, bits, count) {
    const out = new Float64Array(count), mask = (1 << bits) - 1, half = 1 << (bits - 1);
    let acc = 0, have = 0, at = 0;
    for (let k = 0; k < count; k++) {
      while (have < bits) { acc |= bytes[at++] << have; have += 8; }
      out[k] = (acc & mask) - half;
      acc >>>= bits;
      have -= bits;
    }
    return out;
  }

  // The manifest's tensors out of one ArrayBuffer, as attn_steps/poet_weights.py stores them: integer rows
  // (NAME.q int8, or NAME.packed of NAME.bits bits and NAME.shape) × NAME.scale (float32, one per row);
  // NAME as float16 or float32.
  function fromFiles(manifest, buffer) {
    const view = new DataView(buffer), raw = {};
    manifest.tensors.forEach((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1), read = READ[t.kind];
      if (!read) throw new Error("poet.bin holds " + t.name + " as " + t.kind + ": this page reads " + Object.keys(READ).join(", "));
      const a = t.kind === "uint8" ? new Uint8Array(buffer, t.offset, n) : new Float64Array(n);
      if (t.kind !== "uint8") for (let k = 0; k < n; k++) a[k] = read(view, t.offset, k);
      raw[t.name] = { a, shape: t.shape };
    });
    const p = {}, SIDE = [".scale", ".bits", ".shape"];
    Object.keys(raw).forEach((key) => {
      if (SIDE.some((end) => key.endsWith(end))) return;
      const packed = key.endsWith(".packed");
      if (!packed && !key.endsWith(".q")) { p[key] = raw[key].a; return; }
      const name = key.slice(0, packed ? -7 : -2), s = raw[name + ".scale"].a;
      const shape = packed ? Array.from(raw[name + ".shape"].a) : raw[key].shape, cols = shape[1];
      const q = packed ? unpackSigned(raw[key].a, raw[name + ".bits"].a[0], shape[0] * cols) : raw[key].a;
      const w = new Float64Array(q.length);
      for (let k = 0; k < q.length; k++) w[k] = q[k] * s[Math.floor(k / cols)];
      p[name] = w;
    });
    const model = { config: manifest.config, vocab: manifest.vocab, p, id: manifest.model_id, headMeans: manifest.head_means || null };
    model.heads = Array.from({ length: model.config.n_layer }, (_, l) =>
      Array.from({ length: model.config.n_head }, (_, j) => headWeights(model, l, j)));
    return model;
  }

  // ---- the parts ------------------------------------------------------------------

  // erf to ~1e-14: its Taylor series near 0, the continued fraction of erfc beyond (Python's math.erf is exact).
  function erf(x) {
    const ax = Math.abs(x);
    if (ax < 2.5) {
      let term = ax, sum = ax;
      for (let n = 1; n < 80 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
        term *= -ax * ax / n;
        sum += term / (2 * n + 1);
      }
      return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
    }
    let f = 0;  // erfc(x) = exp(−x²)/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …))))
    for (let n = 60; n >= 1; n--) f = (n / 2) / (ax + f);
    return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f));
  }

  // (x − mean)/√(var + eps) for one row, population variance: LayerNorm's core, as layers.normalise.
  function normalise(x, eps = 1e-5) {
    const n = x.length;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i] - mean) ** 2;
    const sd = Math.sqrt(v / n + eps);
    return x.map((xi) => (xi - mean) / sd);
  }

  // Exact GELU, x/2·(1 + erf(x/√2)), as torch.nn.GELU().
  const gelu = (x) => x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));

  // x·Wᵀ + b for one row, W stored (out, in) row by row as torch.nn.Linear.
  function linear(x, W, b) {
    const n = x.length, out = b.length, y = new Array(out);
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0, r = o * n; i < n; i++) s += x[i] * W[r + i];
      y[o] = s + b[o];
    }
    return y;
  }
  const lin = (x, p, name) => linear(x, p[name + ".weight"], p[name + ".bias"]);
  const mlp = (x, p, pre) => lin(gelu(lin(x, p, pre + ".mlp.c_fc")), p, pre + ".mlp.c_proj");
  const add = (a, b) => a.map((v, i) => v + b[i]);
  // The LayerNorm stored under name (gpt.ln): normalised, then its learned gain (name.weight) and bias (name.bias).
  const ln = (x, p, name) => normalise(x).map((v, i) => v * p[name + ".weight"][i] + p[name + ".bias"][i]);

  // One head's Wq, Wk, Wv as explorer_math.js takes them: (C + 1) × head_size, the bias as the last row
  // (the weight of a constant 1, as poet.head_weights).
  function headWeights(model, layer, head) {
    const C = model.config.n_embd, hs = C / model.config.n_head, p = model.p;
    const W = p[`transformer.h.${layer}.attn.c_attn.weight`], b = p[`transformer.h.${layer}.attn.c_attn.bias`];
    const part = (k) => Array.from({ length: C + 1 }, (_, i) => Array.from({ length: hs }, (_, c) => {
      const o = k * C + head * hs + c;
      return i < C ? W[o * C + i] : b[o];
    }));
    return { Wq: part(0), Wk: part(1), Wv: part(2) };
  }

  function embed(model, id, t) {
    const C = model.config.n_embd, wte = model.p["transformer.wte.weight"], wpe = model.p["transformer.wpe.weight"];
    return Array.from({ length: C }, (_, i) => wte[id * C + i] + wpe[t * C + i]);
  }

  // The final LayerNorm, then the tied output matrix: x·wteᵀ, one logit per token of the vocabulary.
  function logitsOf(model, x) {
    const C = model.config.n_embd, wte = model.p["transformer.wte.weight"], f = ln(x, model.p, "transformer.ln_f");
    const logits = new Array(model.config.vocab_size);
    for (let v = 0; v < logits.length; v++) {
      let s = 0;
      for (let i = 0, r = v * C; i < C; i++) s += f[i] * wte[r + i];
      logits[v] = s;
    }
    return logits;
  }

  // ---- the model, as attn_steps/gpt.py ---------------------------------------------

  // Checked knock-outs as knocked reads them (poet.Poet.knock_table): { layer: { head: the vector that replaces its
  // output } }, its mean output (mode "mean", model.headMeans) or zeros ("zero"). knock: [[layer, head], …].
  // Anything else throws a message naming what is allowed, before anything is computed.
  function knockTable(model, knock, mode) {
    const { n_layer: L, n_head: H } = model.config, range = `层 0–${L - 1}，头 0–${H - 1}`;
    mode = mode == null ? "mean" : mode;
    if (mode !== "mean" && mode !== "zero") throw new Error(`knock_mode 只能是 "mean"（换成这个头的平均输出）或 "zero"（换成 0），不是 ${JSON.stringify(mode)}。`);
    const pairs = knock == null ? [] : knock;
    if (!Array.isArray(pairs)) throw new Error(`knock 要是 [层, 头] 的数组，例如 [[3, 3]]（${range}）。`);
    const table = {};
    pairs.forEach((pair) => {
      const ok = Array.isArray(pair) && pair.length === 2 && pair.every(Number.isInteger);
      if (!ok || pair[0] < 0 || pair[0] >= L || pair[1] < 0 || pair[1] >= H) {
        throw new Error(`knock 里的 ${JSON.stringify(pair)} 不是一个头：每一项是 [层, 头] 两个整数，${range}。`);
      }
      const [l, j] = pair;
      if (table[l] && table[l][j]) throw new Error(`knock 里第 ${l} 层 · 头 ${j} 出现了两次：每个头只能去掉一次。`);
      if (mode === "mean" && !model.headMeans) {
        throw new Error("这份权重没有各个头的平均输出（head_means），不能用 \"mean\" 去掉头：请用 knock_mode \"zero\"。");
      }
      (table[l] = table[l] || {})[j] = mode === "mean" ? model.headMeans[l][j] : new Array(model.config.n_embd / H).fill(0);
    });
    return table;
  }

  // y (n_head rows of head_size: one position's head outputs) with the heads the table removes from layer i replaced.
  function knocked(y, i, table) {
    const gone = table && table[i];
    return gone ? y.map((row, j) => (gone[j] ? gone[j] : row)) : y;
  }

  // ---- the attention paths: LN₁(x) of layer i (rows) → { y: each position's head outputs, seen: what the path keeps }

  // Every position at once (poet.run's path): each head's stages from AttnMath.selfAttention with the causal mask, on
  // X = [h, 1] (the 1 carries c_attn's bias). seen: per head { X, Q, K, V, scores, scaled, masked, weights, output }.
  function headSteps(model) {
    return (h, i) => {
      const X = h.map((r) => r.concat([1])), T = X.length;  // (T, C + 1)
      const causal = Array.from({ length: T }, (_, a) => Array.from({ length: T }, (_, b) => b <= a));
      const seen = model.heads[i].map((W) => M.selfAttention(X, W, { scale: true, temperature: 1 }, causal));
      return { y: X.map((_, t) => seen.map((s) => s.output[t])), seen };
    };
  }

  // A KV cache (gpt.Cache): per layer and head, the rows of X, K and V so far and each token's attention row (w, for the
  // page); attend runs only the new token: q, k, v of its row (AttnMath.project), then scores, scale, softmax, attend
  // over everything cached. seen: per head { weights (1, t + 1) }.
  class Cache {
    constructor(model) {
      this.model = model;
      this.heads = Array.from({ length: model.config.n_layer }, () =>
        Array.from({ length: model.config.n_head }, () => ({ X: [], K: [], V: [], w: [] })));
    }

    get length() { return this.heads[0][0].K.length; }

    attend(h, i) {
      const X = [h[0].concat([1])], hs = this.model.config.n_embd / this.model.config.n_head;  // (1, C + 1)
      const seen = this.model.heads[i].map((W, j) => {
        const c = this.heads[i][j];
        c.X.push(X[0]);
        c.K.push(M.project(X, W.Wk)[0]);
        c.V.push(M.project(X, W.Wv)[0]);
        const w = M.softmax(M.scale(M.scores(M.project(X, W.Wq), c.K), hs, 1));
        c.w.push(w[0]);
        return { weights: w, output: M.attend(w, c.V) };
      });
      return { y: [seen.map((s) => s.output[0])], seen };
    }
  }

  // ---- one block, whatever the path -------------------------------------------------

  // x + c_proj(knocked(attend(LN₁(x)))), then + MLP(LN₂(x)), row by row; and what attend kept (gpt.block).
  function block(model, x, i, attend, table) {
    const p = model.p, pre = `transformer.h.${i}`;
    const { y, seen } = attend(x.map((r) => ln(r, p, pre + ".ln_1")), i);
    const out = x.map((r, t) => {
      const r1 = add(r, lin([].concat(...knocked(y[t], i, table)), p, pre + ".attn.c_proj"));  // heads side by side: (C,)
      return add(r1, mlp(ln(r1, p, pre + ".ln_2"), p, pre));
    });
    return { x: out, seen };
  }

  // One new token through every layer, its K and V appended to the cache; the logits of what comes next.
  function step(model, cache, id, table) {
    let x = [embed(model, id, cache.length)];
    const attend = (h, i) => cache.attend(h, i);
    for (let i = 0; i < model.config.n_layer; i++) x = block(model, x, i, attend, table).x;
    return logitsOf(model, x[0]);
  }

  // Every position of ids at once, no cache: every head's stages, and the logits of every position (all)
  // or of the last one only (what generation without a cache needs).
  function forward(model, ids, all, table) {
    let x = ids.map((id, t) => embed(model, id, t));
    const heads = [], attend = headSteps(model);
    for (let i = 0; i < model.config.n_layer; i++) {
      const b = block(model, x, i, attend, table);
      heads.push(b.seen);
      x = b.x;
    }
    return { heads, logits: (all ? x : x.slice(-1)).map((r) => logitsOf(model, r)) };
  }

  // poet.run: every head's stages and every position's next-token probabilities. opts: knock, knock_mode.
  function run(model, ids, opts = {}) {
    const { heads, logits } = forward(model, ids, true, knockTable(model, opts.knock, opts.knock_mode));
    return { heads, probs: logits.map((l) => M.softmaxRow(l).w) };
  }

  // ---- sampling: poet.py's mulberry32 and draw -----------------------------------

  function mulberry32(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // One id: special tokens masked, ÷ temperature, the top_k largest kept (ties: the lower id), exp(z − max),
  // then the first id (in id order) whose running sum exceeds u · total (poet.draw).
  function draw(logits, u, temperature, topK) {
    const z = logits.map((v) => v / temperature);
    NEVER_SAMPLED.forEach((i) => { z[i] = -Infinity; });
    let keep = z.map((_, i) => i).sort((a, b) => (z[b] - z[a]) || (a - b));
    if (topK) keep = keep.slice(0, topK);
    keep = keep.sort((a, b) => a - b).filter((i) => Number.isFinite(z[i]));
    const max = Math.max(...keep.map((i) => z[i]));
    let sum = 0;
    const running = keep.map((i) => (sum += Math.exp(z[i] - max)));
    const k = running.findIndex((r) => r > u * sum);
    return keep[k < 0 ? keep.length - 1 : k];
  }

  // poet.generate one character at a time: next() draws one id from the logits of the last token read and
  // returns { id, logits, rows } (rows[layer][head]: that token's attention row), or null once </s> was
  // drawn or the context is full. opts: seed, temperature, top_k (null: all), cache (false: rerun everything),
  // knock ([[layer, head], …]) and knock_mode ("mean" or "zero"), checked before anything is computed.
  function writer(model, prefixIds, opts) {
    const knock = knockTable(model, opts.knock, opts.knock_mode);
    const rng = mulberry32(opts.seed), ids = prefixIds.slice(), cache = new Cache(model);
    const topK = opts.top_k == null ? null : opts.top_k;
    let logits = null, rows = null, done = false;
    function read(news) {
      if (opts.cache) {
        news.forEach((id) => { logits = step(model, cache, id, knock); });
        rows = cache.heads.map((layer) => layer.map((c) => c.w[c.w.length - 1]));
      } else {
        const f = forward(model, ids, false, knock);
        logits = f.logits[0];
        rows = f.heads.map((layer) => layer.map((s) => s.weights[ids.length - 1]));
      }
    }
    return {
      ids, cache, knock,
      next() {
        if (done) return null;
        if (logits === null) read(ids);
        const out = { id: draw(logits, rng(), opts.temperature, topK), logits, rows };
        if (out.id === END) { done = true; return out; }
        ids.push(out.id);
        if (ids.length >= model.config.block_size) done = true;
        else read([out.id]);
        return out;
      },
    };
  }

  return { PAD_ID, START, END, UNK, fromFiles, float16, unpackSigned, erf, normalise, ln, gelu, linear, mlp, headWeights, knockTable, knocked,
           headSteps, Cache, block, step, forward, run, mulberry32, draw, writer };
})();
