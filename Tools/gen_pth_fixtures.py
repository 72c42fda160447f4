#!/usr/bin/env python3
"""Writes the PyTorch checkpoint fixtures under Tests/Fixtures/pth/ with real torch.

    /path/to/torch-venv/bin/python Tools/gen_pth_fixtures.py [--dest Tests/Fixtures/pth]

Every `*.pth` except the `bad_*` ones is written by `torch.save` itself (zip format, pickle
protocol 2, the defaults); `legacy.pth` by `torch.save(..., _use_new_zipfile_serialization=False)`.
Beside each readable checkpoint, `<name>.expected.safetensors` holds the state dict's tensors
as contiguous little-endian copies (float64 narrowed to float32, as the Swift reader binds it),
written by the small writer below so no safetensors package is needed.

Derived files (not torch.save output, each a deliberate edit of one):
- `bigendian.pth`: plain.pth with `byteorder` = "big" and every storage byte-swapped, as torch
  writes on a big-endian machine.
- `compressed.pth`: plain.pth re-zipped with deflate (torch never compresses).
- `cuda_location.pth`: a valid state dict pickled as torch does, with its storage on "cuda:0".
- `os_system.pth`: a torch-layout archive whose pickle names `os.system` (in the state dict and
  at the top level) beside one tensor, as a malicious checkpoint would; it must stay opaque.
- `bad_*.pth`: archives whose data.pkl is pickled here with torch's own globals and persistent
  ids but impossible sizes, strides or storages, to test that the reader refuses them.

Running it again reproduces every file byte for byte except `legacy.pth` (the legacy format
keys storages by object address).

`dino-tiny.pth` is Tests/Fixtures/detector/dino-tiny.weights.safetensors as a detrex training
checkpoint ({"model", "optimizer", "scheduler", "iteration"}), with the shared heads stored once
as detrex does (`class_embed.N` and `transformer.decoder.class_embed.N` are one tensor).
"""
import argparse
import collections
import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL"}


class Schedule:
    """A custom class: its instances must stay opaque to the reader."""

    def __init__(self):
        self.milestones = [3, 7]


def write_safetensors(tensors, path):
    """Minimal safetensors writer: sorted names, contiguous little-endian bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous()
        if t.dtype == torch.float64:
            t = t.float()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def plain_state_dict():
    g = torch.Generator().manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    sd = module.state_dict()  # an OrderedDict with _metadata (BUILD) and a 0-d int64 buffer
    base = torch.randn(3, 4, generator=g)
    shared = torch.arange(10, dtype=torch.float32) * 0.5
    sd["f32"] = torch.randn(2, 3, generator=g)
    sd["f16"] = torch.randn(4, generator=g).half()
    sd["bf16"] = torch.randn(2, 2, generator=g).bfloat16()
    sd["f64"] = torch.randn(3, generator=g, dtype=torch.float64) / 3
    sd["i64"] = torch.tensor([-(2**40), -1, 0, 1, 2**62], dtype=torch.int64)
    sd["i32"] = torch.tensor([-7, 0, 2**31 - 1], dtype=torch.int32)
    sd["u8"] = torch.tensor([0, 1, 128, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["transposed"] = base.t()  # strides (1, 4): not contiguous
    sd["shared.all"] = shared  # two tensors on one storage
    sd["shared.slice"] = shared[3:7].view(2, 2)  # storage offset 3
    sd["shared.strided"] = shared[1::3]  # offset 1, stride 3
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    return sd


def small_state_dict():
    g = torch.Generator().manual_seed(1)
    return collections.OrderedDict(
        [("blocks.0.weight", torch.randn(4, 3, generator=g)), ("blocks.0.bias", torch.randn(4, generator=g).half()),
         ("norm.weight", torch.ones(4))])


def save(obj, path, expected=None, **kwargs):
    torch.save(obj, path, **kwargs)
    if expected is not None:
        write_safetensors(expected, path.with_name(path.stem + ".expected.safetensors"))


def storage_kinds(pth):
    """Storage key → torch storage class name, read from data.pkl without building anything."""
    kinds = {}

    class Scan(pickle.Unpickler):
        def find_class(self, module, name):
            if name.endswith("Storage"):
                return name
            return collections.OrderedDict if name == "OrderedDict" else (lambda *a, **k: None)

        def persistent_load(self, pid):
            kinds[pid[2]] = pid[1]

    with zipfile.ZipFile(pth) as z:
        name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        Scan(io.BytesIO(z.read(name))).load()
    return kinds


def write_entry(z, name, data, compression=zipfile.ZIP_STORED):
    """Adds an entry with a fixed timestamp, so the derived files are reproducible."""
    z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=compression)


def rewrite(src, dst, change, compression=zipfile.ZIP_STORED):
    """Copies the archive src to dst, passing each entry's (name, bytes) through change."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression) as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info.filename))
            if data is not None:
                write_entry(zout, info.filename, data, compression)


def big_endian(src, dst):
    sizes = {"FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "DoubleStorage": 8, "LongStorage": 8,
             "IntStorage": 4, "ByteStorage": 1, "BoolStorage": 1}
    kinds = storage_kinds(src)

    def change(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        if "/data/" in name:
            size = sizes[kinds[name.rsplit("/", 1)[1]]]
            return np.frombuffer(data, dtype=f"u{size}").byteswap().tobytes() if size > 1 else data
        return data

    rewrite(src, dst, change)


class FakeStorage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class FakeTensor:
    """Pickles exactly as a float32 tensor does, with whatever offset, size and stride."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class TorchPickler(pickle.Pickler):
    location = "cpu"

    def persistent_id(self, obj):
        if isinstance(obj, FakeStorage):
            return ("storage", torch.FloatStorage, obj.key, self.location, obj.numel)
        return None


def crafted(path, state, storages, location="cpu"):
    """A torch-layout archive whose data.pkl pickles `state` (FakeTensors) over `storages`;
    `state` given as bytes is the pickle itself."""
    if isinstance(state, bytes):
        pkl = state
    else:
        buf = io.BytesIO()
        pickler = TorchPickler(buf, protocol=2)
        pickler.location = location
        pickler.dump(state)
        pkl = buf.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        write_entry(z, "archive/data.pkl", pkl)
        write_entry(z, "archive/byteorder", b"little")
        for key, data in storages.items():
            write_entry(z, f"archive/data/{key}", data)
        write_entry(z, "archive/version", b"3\n")


def bad_fixtures(dest):
    six = np.arange(6, dtype=np.float32).tobytes()
    s = FakeStorage("0", 6)
    crafted(dest / "bad_stride.pth", {"w": FakeTensor(s, 0, (2, 3), (3, 2))}, {"0": six})
    crafted(dest / "bad_offset.pth", {"w": FakeTensor(s, 5, (2,), (1,))}, {"0": six})
    crafted(dest / "bad_dims.pth", {"w": FakeTensor(s, 0, (2**40, 2**40), (0, 0))}, {"0": six})
    crafted(dest / "bad_numel.pth", {"w": FakeTensor(FakeStorage("0", 600), 0, (2, 3), (3, 1))}, {"0": six})
    crafted(dest / "bad_storage_key.pth", {"w": FakeTensor(FakeStorage("7", 6), 0, (2, 3), (3, 1))}, {"0": six})
    crafted(dest / "bad_negative_stride.pth", {"w": FakeTensor(s, 5, (2,), (-1,))}, {"0": six})
    # A checkpoint saved from a GPU (detectron2 saves the model where it trained): only the
    # storage location differs; this machine has no GPU to torch.save one.
    crafted(dest / "cuda_location.pth", {"w": FakeTensor(s, 0, (2, 3), (3, 1))}, {"0": six}, location="cuda:0")
    crafted(dest / "bad_huge.pth", {"w": FakeTensor(s, 0, (2**20, 2**21), (0, 0))}, {"0": six})
    # Raw pickles (protocol 2 header, then the defect), opcodes as in Python's pickletools.
    crafted(dest / "bad_opcode.pth", b"\x80\x02}q\x00\xff.", {})  # 0xff is no opcode
    crafted(dest / "bad_memo.pth", b"\x80\x02}q\x00h\x05.", {})  # BINGET 5, only 0 stored
    crafted(dest / "bad_truncated_pickle.pth", b"\x80\x02}q\x00(X\x05\x00\x00\x00ab", {})
    crafted(dest / "bad_nesting.pth", b"\x80\x02" + b"(" * 300 + b".", {})  # 300 open MARKs


class Hook:
    """Pickles as a call of a placeholder global; `os_system` renames that global to os.system."""

    def __reduce__(self):
        return (Hook, ("touch /tmp/vitexport-pwned",))


def os_system(dest):
    """`os_system.pth`: a state dict beside values that name os.system (as a malicious pickle
    would, to run a command when loaded), in the state dict and under the top level."""
    six = np.arange(6, dtype=np.float32).tobytes()
    state = {"model": {"w": FakeTensor(FakeStorage("0", 6), 0, (2, 3), (3, 1)), "hook": Hook()},
             "callbacks": [Hook()]}
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(state)
    placeholder = f"c{Hook.__module__}\n{Hook.__qualname__}\n".encode()
    pkl = buf.getvalue()
    assert placeholder in pkl
    crafted(dest / "os_system.pth", pkl.replace(placeholder, b"cos\nsystem\n"), {"0": six})


def dino_tiny(dest):
    src = ROOT / "Tests/Fixtures/detector/dino-tiny.weights.safetensors"
    raw = src.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    np_dtypes = {"F32": np.float32, "F16": np.float16}
    sd = collections.OrderedDict()
    for key in sorted(k for k in header if k != "__metadata__"):
        e = header[key]
        b, end = e["data_offsets"]
        array = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=np_dtypes[e["dtype"]]).reshape(e["shape"])
        sd[key] = torch.from_numpy(array.copy())
    for key in list(sd):
        twin = key.removeprefix("transformer.decoder.")
        if twin != key and twin in sd:
            assert torch.equal(sd[key], sd[twin])
            sd[key] = sd[twin]  # one module, two names: one storage in the archive
    first = next(iter(sd.values()))
    checkpoint = {"model": sd, "optimizer": {"state": {0: {"momentum_buffer": torch.zeros_like(first)}},
                                             "param_groups": [{"lr": 1e-4, "params": [0]}]},
                  "scheduler": {"schedule": Schedule(), "last_epoch": 5}, "iteration": 5}
    save(checkpoint, dest / "dino-tiny.pth")


def dinov2_release_tiny():
    """A state dict in the DINOv2 release layout (mask_token, register_tokens) shaped like the
    Swift tests' tinyDINOv2(regTokens: 4): dim 8, depth 2, MLP 16, patch 4, 4×4 grid."""
    g = torch.Generator().manual_seed(3)
    shapes = {"cls_token": [1, 1, 8], "pos_embed": [1, 17, 8], "register_tokens": [1, 4, 8], "mask_token": [1, 8],
              "patch_embed.proj.weight": [8, 3, 4, 4], "patch_embed.proj.bias": [8], "norm.weight": [8], "norm.bias": [8]}
    for b in range(2):
        for name, shape in [("norm1.weight", [8]), ("norm1.bias", [8]), ("attn.qkv.weight", [24, 8]), ("attn.qkv.bias", [24]),
                            ("attn.proj.weight", [8, 8]), ("attn.proj.bias", [8]), ("ls1.gamma", [8]), ("norm2.weight", [8]),
                            ("norm2.bias", [8]), ("mlp.fc1.weight", [16, 8]), ("mlp.fc1.bias", [16]),
                            ("mlp.fc2.weight", [8, 16]), ("mlp.fc2.bias", [8]), ("ls2.gamma", [8])]:
            shapes[f"blocks.{b}.{name}"] = shape
    return collections.OrderedDict((k, torch.randn(*v, generator=g) * 0.3) for k, v in shapes.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "Tests/Fixtures/pth")
    dest = parser.parse_args().dest
    dest.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    plain = plain_state_dict()
    save(plain, dest / "plain.pth", plain)
    small = small_state_dict()
    g = torch.Generator().manual_seed(2)
    optimizer = {"state": {0: {"step": torch.tensor(5.0), "exp_avg": torch.randn(4, 3, generator=g)}},
                 "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1, 2]}]}
    save({"model": small, "optimizer": optimizer, "scheduler": Schedule(), "iteration": 5},
         dest / "detectron2.pth", small)
    save({"state_dict": small, "epoch": 3}, dest / "state_dict.pth", small)
    for protocol in (4, 5):  # FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE instead of protocol 2's opcodes
        save(plain, dest / f"protocol{protocol}.pth", pickle_protocol=protocol)  # values: plain.expected
    save({"teacher": small, "student": {"x": torch.zeros(1)}}, dest / "teacher.pth", small)
    params = collections.OrderedDict((k, torch.nn.Parameter(v.float())) for k, v in small.items())
    save(params, dest / "parameter.pth", params)
    save({"weight": torch.ones(2), "bias": Schedule(), "u16": torch.tensor([1, 2], dtype=torch.uint16),
          "i8": torch.tensor([1, -1], dtype=torch.int8)},
         dest / "opaque_value.pth")
    save(small, dest / "legacy.pth", _use_new_zipfile_serialization=False)
    save(torch.nn.Linear(2, 2), dest / "module.pth")  # a whole module, not a state dict
    big_endian(dest / "plain.pth", dest / "bigendian.pth")
    rewrite(dest / "plain.pth", dest / "compressed.pth", lambda n, d: d, zipfile.ZIP_DEFLATED)
    bad_fixtures(dest)
    os_system(dest)
    dino_tiny(dest)
    release = dinov2_release_tiny()
    save(release, dest / "dinov2-release-tiny.pth", release)  # as dinov2_vits14_pretrain.pth
    teacher = collections.OrderedDict((f"backbone.{k}", v.half()) for k, v in release.items())
    teacher["dino_head.last_layer.weight"] = torch.zeros(4, 8)
    save({"teacher": teacher}, dest / "dinov2-teacher-tiny.pth", teacher)  # as a DINOv2 training run's
    (dest / "VERSIONS.txt").write_text(f"torch {torch.__version__}\nnumpy {np.__version__}\npython {sys.version.split()[0]}\n")


if __name__ == "__main__":
    main()
