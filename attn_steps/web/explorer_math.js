/* attn_steps explorer, the math: the stages of attn_steps/attention.py as pure functions over plain arrays.
 *
 * Name for name the Python: project, scores, scale, mask, softmax, attend,
 * selfAttention (self_attention), initWeights (init_weights). Matrices are
 * arrays of rows, float64 as in numpy. Random weights are numpy's:
 * default_rng(seed).standard_normal, reproduced below (SeedSequence, PCG64,
 * ziggurat), so seed 1 here is seed 1 in Python. No DOM here: the view
 * (explorer_view.js) calls these through window.AttnMath.
 */
window.AttnMath = window.AttnMath || (function () {
  "use strict";

  // ---- numpy's default_rng(seed).standard_normal() ----------------------------

  // SeedSequence(seed).generate_state(4, uint64), as eight uint32 words (low word first).
  function seedState(seed) {
    const words = [];
    for (let s = BigInt(seed); words.length === 0 || s > 0n; s >>= 32n) words.push(Number(s & 0xffffffffn));
    let h = 0x43b0d7e5;
    const hashmix = (v) => {
      v = (v ^ h) >>> 0; h = Math.imul(h, 0x931e8875) >>> 0;
      v = Math.imul(v, h) >>> 0; return (v ^ (v >>> 16)) >>> 0;
    };
    const mix = (x, y) => {
      const r = (Math.imul(0xca01f9dd, x) - Math.imul(0x4973f715, y)) >>> 0;
      return (r ^ (r >>> 16)) >>> 0;
    };
    const pool = [0, 1, 2, 3].map((i) => hashmix(i < words.length ? words[i] : 0));
    for (let s = 0; s < 4; s++) for (let d = 0; d < 4; d++) if (s !== d) pool[d] = mix(pool[d], hashmix(pool[s]));
    for (let s = 4; s < words.length; s++) for (let d = 0; d < 4; d++) pool[d] = mix(pool[d], hashmix(words[s]));
    let hb = 0x8b51f9dd;
    return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => {
      let v = (pool[i % 4] ^ hb) >>> 0; hb = Math.imul(hb, 0x58f38ded) >>> 0;
      v = Math.imul(v, hb) >>> 0; return (v ^ (v >>> 16)) >>> 0;
    });
  }

  const M64 = (1n << 64n) - 1n, M128 = (1n << 128n) - 1n;
  const MULT = 0x2360ed051fc65da44385df649fccf645n;

  // PCG64 (XSL-RR 128/64) seeded as numpy seeds it; returns next_uint64 as a BigInt.
  function pcg64(seed) {
    const w = seedState(seed).map(BigInt);
    const u = (k) => w[2 * k] | (w[2 * k + 1] << 32n);
    const initState = (u(0) << 64n) | u(1), inc = (((u(2) << 64n) | u(3)) << 1n | 1n) & M128;
    let state = 0n;
    const step = () => { state = (state * MULT + inc) & M128; };
    step(); state = (state + initState) & M128; step();
    return () => {
      step();
      const x = ((state >> 64n) ^ state) & M64, rot = state >> 122n;
      return ((x >> rot) | (x << ((64n - rot) & 63n))) & M64;
    };
  }

  // The ziggurat tables of numpy's random_standard_normal (256 layers, r, v), in float64.
  const ZIG_R = 3.6541528853610088, ZIG_V = 0.0049286732339746549;
  const ZIG = (function () {
    const m = 2 ** 52, ki = new Array(256), wi = new Array(256), fi = new Array(256);
    let dn = ZIG_R, tn = dn;
    const q = ZIG_V / Math.exp(-0.5 * dn * dn);
    ki[0] = Math.floor((dn / q) * m); ki[1] = 0;
    wi[0] = q / m; wi[255] = dn / m;
    fi[0] = 1; fi[255] = Math.exp(-0.5 * dn * dn);
    for (let i = 254; i >= 1; i--) {
      dn = Math.sqrt(-2 * Math.log(ZIG_V / dn + Math.exp(-0.5 * dn * dn)));
      ki[i + 1] = Math.floor((dn / tn) * m);
      tn = dn; fi[i] = Math.exp(-0.5 * dn * dn); wi[i] = dn / m;
    }
    return { ki, wi, fi };
  })();

  function normals(seed) {
    const next = pcg64(seed), out = [];
    const uniform = () => Number(next() >> 11n) * 2 ** -53;
    function draw() {
      for (;;) {
        let r = next();
        const idx = Number(r & 0xffn); r >>= 8n;
        const rabs = Number((r >> 1n) & 0xfffffffffffffn);
        let x = rabs * ZIG.wi[idx];
        if (r & 1n) x = -x;
        if (rabs < ZIG.ki[idx]) return x;
        if (idx === 0) {
          for (;;) {
            const xx = -(1 / ZIG_R) * Math.log1p(-uniform()), yy = -Math.log1p(-uniform());
            if (yy + yy > xx * xx) return (rabs >> 8) & 1 ? -(ZIG_R + xx) : ZIG_R + xx;
          }
        } else if ((ZIG.fi[idx - 1] - ZIG.fi[idx]) * uniform() + ZIG.fi[idx] < Math.exp(-0.5 * x * x)) {
          return x;
        }
      }
    }
    return (n) => { while (out.length < n) out.push(draw()); return out; };
  }

  const streams = new Map();
  // ats.init_weights(d, d_k, seed, std=std): Wq, Wk, Wv from one stream, row-major.
  function initWeights(d, dk, seed, std) {
    if (!streams.has(seed)) streams.set(seed, normals(seed));
    const z = streams.get(seed)(3 * d * dk);
    const take = (k) => Array.from({ length: d }, (_, i) => Array.from({ length: dk }, (_, c) => std * z[k * d * dk + i * dk + c]));
    return { Wq: take(0), Wk: take(1), Wv: take(2) };
  }

  // ---- the stages -------------------------------------------------------------

  function matmul(A, B) {
    const n = A.length, m = B.length, p = B[0].length, C = [];
    for (let i = 0; i < n; i++) {
      const row = new Array(p).fill(0);
      for (let k = 0; k < m; k++) { const a = A[i][k], b = B[k]; for (let j = 0; j < p; j++) row[j] += a * b[j]; }
      C.push(row);
    }
    return C;
  }
  const transpose = (A) => A[0].map((_, j) => A.map((row) => row[j]));

  // Q = X·Wq, K = X·Wk, V = X·Wv: (n, d_model) @ (d_model, d) -> (n, d)
  const project = (X, W) => matmul(X, W);
  // Q·Kᵀ: (n, d_k) @ (d_k, m) -> (n, m); row = query, column = key
  const scores = (Q, K) => matmul(Q, transpose(K));
  // Q·Kᵀ / √d_k / τ; unscaled, d_k = 1 leaves the scores as they are. (n, m) -> (n, m)
  const scale = (S, dk, temperature) => S.map((row) => row.map((v) => v / Math.sqrt(dk) / temperature));
  // S + M: −∞ where the mask (booleans, true = may attend) blocks a key. (n, m) -> (n, m)
  const mask = (S, M) => S.map((row, i) => row.map((v, j) => (M[i][j] ? v : -Infinity)));

  // One row of the stable softmax, its parts kept for the derivation panel:
  // exp(s − max) over their sum; a blocked key (−∞) gets exp(−∞) = 0.
  function softmaxRow(row) {
    const max = Math.max(...row);
    const e = row.map((s) => Math.exp(s - max));
    const sum = e.reduce((a, b) => a + b, 0);
    return { max, e, sum, w: e.map((v) => v / sum) };
  }
  const softmax = (S) => S.map((row) => softmaxRow(row).w);
  // weights · V: (n, m) @ (m, d_v) -> (n, d_v)
  const attend = (weights, V) => matmul(weights, V);

  // Every stage, as ats.self_attention(X, W, scale, mask=M, temperature=τ) keeps them; masked only with a mask.
  function selfAttention(X, W, options, M) {
    const Q = project(X, W.Wq), K = project(X, W.Wk), V = project(X, W.Wv);
    const S = scores(Q, K);
    const scaled = scale(S, options.scale ? Q[0].length : 1, options.temperature);
    const masked = M ? mask(scaled, M) : null;
    const weights = softmax(masked || scaled);
    const stages = { X, Q, K, V, scores: S, scaled, weights, output: attend(weights, V) };
    if (masked) stages.masked = masked;
    return stages;
  }

  return { normals: (seed, n) => normals(seed)(n).slice(0, n), initWeights, project, scores, scale, mask,
           softmaxRow, softmax, attend, selfAttention };
})();
