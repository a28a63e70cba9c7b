#!/usr/bin/env python3
"""Checks ember's safetensors files against Python's view of the format (run by test_nn_checkpoint).

Reads and writes with the reference library (`safetensors`) when it is importable, otherwise
with the small reader and writer below, written from the format's specification alone.

  check FILE WRITER   FILE holds the fixture and __metadata__ {"source": WRITER}
  write FILE          writes the fixture with __metadata__ {"source": "python"}
  model CKPT IO       a PyTorch MLP of the same architecture takes CKPT's weights by their
                      names and maps IO's "input" to its "output" (needs torch)

Exit status: 0 passed, 1 failed, 77 skipped (a needed package is missing).
"""
import json
import struct
import sys

SKIP = 77

# The fixture, also spelled out in test_checkpoint.cpp: name -> (dtype, shape, row-major values).
FIXTURE = {
    "f32": ("F32", [2, 3], [k * 0.25 - 0.5 for k in range(6)]),
    "f64": ("F64", [3], [(k + 1) / 3.0 for k in range(3)]),
    "bf16": ("BF16", [2, 2], [k * 0.5 - 1.0 for k in range(4)]),
    "i64": ("I64", [4], [-2, 0, 2**40, 7]),
    "mask": ("BOOL", [3], [True, False, True]),
    "scalar": ("F32", [], [3.5]),
    "empty": ("F32", [0, 2], []),
}

# dtype -> (struct format of one element, its size in bytes); BF16 is the high half of an F32.
FORMATS = {"F32": ("<f", 4), "F64": ("<d", 8), "I64": ("<q", 8), "BOOL": ("<?", 1), "BF16": ("<H", 2)}


def decode(dtype, raw):
    fmt, size = FORMATS[dtype]
    values = [struct.unpack_from(fmt, raw, i)[0] for i in range(0, len(raw), size)]
    if dtype == "BF16":
        values = [struct.unpack("<f", struct.pack("<I", v << 16))[0] for v in values]
    return values


def encode(dtype, values):
    if dtype == "BF16":
        return b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16) for v in values)
    return b"".join(struct.pack(FORMATS[dtype][0], v) for v in values)


def spec_load(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8 : 8 + n])
    data = blob[8 + n :]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], decode(info["dtype"], data[begin:end]))
    return tensors, metadata


def spec_save(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, (dtype, shape, values) in tensors.items():
        raw = encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def reference():
    """The reference library's torch functions and the dtype names, or None."""
    try:
        import torch
        from safetensors import safe_open
        from safetensors.torch import save_file
    except ImportError:
        return None
    names = {torch.float32: "F32", torch.float64: "F64", torch.bfloat16: "BF16", torch.int64: "I64", torch.bool: "BOOL"}
    return torch, safe_open, save_file, names


def load(path):
    ref = reference()
    if ref is None:
        return spec_load(path)
    torch, safe_open, _, names = ref
    with safe_open(path, "pt") as f:
        tensors = {}
        for name in f.keys():
            t = f.get_tensor(name)
            values = t.float() if t.dtype == torch.bfloat16 else t
            tensors[name] = (names[t.dtype], list(t.shape), values.flatten().tolist())
        return tensors, f.metadata() or {}


def save(path, tensors, metadata):
    ref = reference()
    if ref is None:
        return spec_save(path, tensors, metadata)
    torch, _, save_file, names = ref
    dtypes = {v: k for k, v in names.items()}
    save_file({n: torch.tensor(v, dtype=dtypes[d]).reshape(s) for n, (d, s, v) in tensors.items()}, path, metadata)


def check(path, writer):
    tensors, metadata = load(path)
    ok = True
    if metadata != {"source": writer}:
        print(f"metadata {metadata} != {{'source': {writer!r}}}")
        ok = False
    if sorted(tensors) != sorted(FIXTURE):
        print(f"names {sorted(tensors)} != {sorted(FIXTURE)}")
        return False
    for name, expected in FIXTURE.items():
        if tensors[name] != expected:
            print(f"{name}: read {tensors[name]}, expected {expected}")
            ok = False
    return ok


def model(ckpt, io):
    try:
        import torch
    except ImportError:
        print("skipped: torch is not importable")
        sys.exit(SKIP)
    tensors, _ = load(ckpt)
    as_torch = lambda entry: torch.tensor(entry[2], dtype=torch.float32).reshape(entry[1])
    weights = {n: as_torch(e) for n, e in tensors.items() if not n.startswith("optim.")}
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(8, 3))
    net.load_state_dict(weights)  # strict: every name must be PyTorch's
    net.eval()
    io_tensors, _ = load(io)
    with torch.no_grad():
        out = net(as_torch(io_tensors["input"]))
    error = (out - as_torch(io_tensors["output"])).abs().max().item()
    print(f"max |torch - ember| = {error:.3g}")
    return error < 1e-5


def main():
    ref = reference()
    print("reader/writer:", "reference safetensors library" if ref else "spec-only (safetensors is not importable)")
    command, args = sys.argv[1], sys.argv[2:]
    if command == "check":
        ok = check(*args)
    elif command == "write":
        save(args[0], FIXTURE, {"source": "python"})
        ok = True
    elif command == "model":
        ok = model(*args)
    else:
        print(__doc__)
        ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
