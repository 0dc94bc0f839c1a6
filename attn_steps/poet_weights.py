"""The poet's stored weights: how weights.npz holds the parameters, and how they are read back.

A matrix is stored in one of three forms, chosen by name when it is written:

- int8: NAME.q, int8 rows (symmetric, −127..127) with NAME.scale, one float32
  per row (the row's largest magnitude / 127). One byte a number.
- packed integers of b bits (9 to 16): the same, with levels −(2^(b−1) − 1) ..
  2^(b−1) − 1 and the scale the row's largest magnitude / (2^(b−1) − 1); each
  number n + 2^(b−1) written in b bits, least significant first, one after the
  other into NAME.packed (uint8), with NAME.bits (b) and NAME.shape (rows, cols).
  b/8 bytes a number, and a rounding error 2^(b−8) times smaller than int8's.
- float16: NAME as float16. Two bytes a number, and about 1/2000 of relative error.

Every vector (biases, LayerNorm gains) is float32. `lm_head.weight` is not
stored: it is `transformer.wte.weight` (tied). `dequantise` gives float64;
the browser (attn_steps/web/poet_math.js) decodes the same bytes to the same
float64 numbers.

On the wire (the site's poet.bin, or the kernel's reply in Jupyter) the stored arrays
travel as they are: each at an offset that is a multiple of 4, little-endian, of one of
the KINDS; `to_wire` lays them out with a list of {name, shape, kind, offset, bytes},
`from_wire` reads them back to float64 as poet_math.js's fromFiles does.
"""

from __future__ import annotations

import fnmatch

import numpy as np

TIED = "lm_head.weight"
# The number kinds weights.npz stores, as the wire names them (poet_math.js decodes each).
KINDS = {"int8": np.dtype("i1"), "uint8": np.dtype("u1"), "int32": np.dtype("<i4"), "float16": np.dtype("<f2"),
         "float32": np.dtype("<f4")}
SIDE = (".scale", ".bits", ".shape")  # what goes with a matrix's integers; not parameters of their own
# Bits per number of the matrices tools/train_poet.py stores with more than 8 (patterns as fnmatch reads them):
# the token embedding, which is also the output matrix (every logit is a row of it times the last hidden state),
# and the first layer, whose rounding every later layer carries on. Chosen on the shipped model's float weights
# as the cheapest mix that keeps the top-1 next character on ≥ 99% of the test positions (tools/train_poet.py
# measures it and writes it to model.json); every other matrix is int8.
BITS = {"transformer.wte.weight": 10, "transformer.h.0.*": 12}


def bits_for(params: dict, bits: dict) -> dict[str, int]:
    """{matrix name: bits} for every matrix in params: the first pattern of `bits` it matches, else 8."""
    out = {}
    for name, w in params.items():
        if np.ndim(w) == 2 and name != TIED:
            out[name] = next((b for pattern, b in bits.items() if fnmatch.fnmatchcase(name, pattern)), 8)
    return out


def quantise(params: dict, float16=(), bits: dict | None = None) -> dict[str, np.ndarray]:
    """Parameters → the arrays weights.npz stores: matrices named in `float16` as float16; the others as integer
    rows with one float32 scale per row, of the bits `bits` gives them (patterns → 8..16; default 8, int8 as NAME.q,
    more bits packed as NAME.packed); vectors as float32 (NAME)."""
    unknown = set(float16) - set(params)
    if unknown:
        raise KeyError(f"float16 names parameters that are not there: {sorted(unknown)}")
    widths = bits_for(params, bits or {})
    bad = {n: b for n, b in widths.items() if not (isinstance(b, int) and 8 <= b <= 16)}
    if bad:
        raise ValueError(f"bits must be whole numbers from 8 to 16: {bad}")
    out = {}
    for name, w in params.items():
        if name == TIED:
            continue
        w = np.asarray(w, dtype=np.float64)
        if w.ndim == 2 and name in float16:
            if np.abs(w).max() >= 65504:
                raise ValueError(f"{name} holds numbers beyond float16's range (±65504)")
            out[name] = w.astype(np.float16)
        elif w.ndim == 2:
            b = widths[name]
            levels = 2 ** (b - 1) - 1
            scale = (np.abs(w).max(axis=1) / levels).astype(np.float32)
            scale[scale == 0] = 1.0
            q = np.clip(np.round(w / scale.astype(np.float64)[:, None]), -levels, levels).astype(np.int64)
            if b == 8:
                out[name + ".q"] = q.astype(np.int8)
            else:
                out[name + ".packed"] = pack(q + 2 ** (b - 1), b)
                out[name + ".bits"] = np.array([b], dtype=np.uint8)
                out[name + ".shape"] = np.array(w.shape, dtype=np.int32)
            out[name + ".scale"] = scale
        else:
            out[name] = w.astype(np.float32)
    return out


def pack(values: np.ndarray, bits: int) -> np.ndarray:
    """Non-negative integers < 2**bits, row by row, each in `bits` bits, least significant first, into bytes."""
    v = np.asarray(values, dtype=np.int64).ravel()
    if v.size and (v.min() < 0 or v.max() >= 2 ** bits):
        raise ValueError(f"values must lie in 0..{2 ** bits - 1} to be packed in {bits} bits")
    stream = ((v[:, None] >> np.arange(bits)) & 1).astype(np.uint8).ravel()
    return np.packbits(stream, bitorder="little")


def unpack(data: np.ndarray, bits: int, count: int) -> np.ndarray:
    """The first `count` integers of `bits` bits each that `pack` wrote into data (int64)."""
    stream = np.unpackbits(np.asarray(data, dtype=np.uint8), bitorder="little")[:count * bits]
    if stream.size < count * bits:
        raise ValueError(f"{data.size} bytes hold fewer than {count} numbers of {bits} bits")
    return stream.reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits, dtype=np.int64))


def dequantise(arrays: dict) -> dict[str, np.ndarray]:
    """Stored arrays → float64 parameters: integer rows (NAME.q int8, or NAME.packed of NAME.bits bits) × NAME.scale
    (one per row); NAME as float16 or float32."""
    params = {}
    for key, a in arrays.items():
        if key.endswith(".q"):
            params[key[:-2]] = a.astype(np.float64) * arrays[key[:-2] + ".scale"].astype(np.float64)[:, None]
        elif key.endswith(".packed"):
            name = key[:-len(".packed")]
            b, shape = int(arrays[name + ".bits"][0]), tuple(int(n) for n in arrays[name + ".shape"])
            q = unpack(a, b, shape[0] * shape[1]).reshape(shape) - 2 ** (b - 1)
            params[name] = q.astype(np.float64) * arrays[name + ".scale"].astype(np.float64)[:, None]
        elif not key.endswith(SIDE):
            params[key] = a.astype(np.float64)
    return params


def storage(arrays: dict) -> dict[str, str]:
    """How each parameter is stored: {name: 'int8' | 'int10' | … | 'float16' | 'float32'}."""
    kinds = {}
    for key, a in arrays.items():
        if key.endswith(".q"):
            kinds[key[:-2]] = "int8"
        elif key.endswith(".packed"):
            name = key[:-len(".packed")]
            kinds[name] = f"int{int(arrays[name + '.bits'][0])}"
        elif not key.endswith(SIDE):
            kinds[key] = str(a.dtype)
    return kinds


def read_weights(path) -> dict[str, np.ndarray]:
    """weights.npz → float64 parameters (see `dequantise`)."""
    with np.load(path) as z:
        return dequantise({k: z[k] for k in z.files})


def to_wire(arrays: dict[str, np.ndarray]) -> tuple[list[dict], bytes]:
    """Stored arrays → (each one's {name, shape, kind, offset, bytes}, the bytes): in name order, each at an
    offset that is a multiple of 4, as stored (KINDS), little-endian."""
    tensors, chunks, offset = [], [], 0
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        kind = next((k for k, d in KINDS.items() if d == a.dtype.newbyteorder("<")), None)
        if kind is None:
            raise ValueError(f"weights.npz holds {name} as {a.dtype}: only " + ", ".join(KINDS) + " are exported")
        raw = a.astype(KINDS[kind]).tobytes()
        tensors.append({"name": name, "shape": list(a.shape), "kind": kind, "offset": offset, "bytes": len(raw)})
        pad = -len(raw) % 4
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    return tensors, b"".join(chunks)


def from_wire(tensors: list[dict], binary: bytes) -> dict[str, np.ndarray]:
    """`to_wire`'s list and bytes → float64 parameters (see `dequantise`)."""
    raw = {}
    for t in tensors:
        count = int(np.prod(t["shape"]))
        raw[t["name"]] = np.frombuffer(binary, dtype=KINDS[t["kind"]], count=count, offset=t["offset"]).reshape(t["shape"])
    return dequantise(raw)
