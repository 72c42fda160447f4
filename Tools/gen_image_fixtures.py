#!/usr/bin/env python3
"""Writes Tests/Fixtures/images: small sample photos and Pillow's reading of them.

Run outside CI with Pillow (and numpy) installed, e.g. in the torch virtualenv:

    /tmp/torchenv/bin/pip install pillow
    /tmp/torchenv/bin/python Tools/gen_image_fixtures.py

Images (40x30 pixels, a few KB each, an asymmetric pattern so every orientation differs):
  plain.jpg, gray.jpg                  RGB and grayscale JPEGs
  progressive.jpg, yuv444.jpg          progressive; no chroma subsampling
  cmyk.jpg                             CMYK (refused: no reference)
  orient-2.jpg ... orient-8.jpg        the same pixels stored for EXIF orientations 2-8
  orient-6.png                         a PNG whose eXIf chunk says orientation 6
  orient-8-late.png                    orientation 8 in an eXIf chunk after the image data
  gray8.png gray1.png palette.png      8-bit gray, 1-bit gray, palette with transparency
  rgb16.png gray16.png rgba16.png      16 bits per sample (written by hand: Pillow cannot)
  interlaced.png                       Adam7 interlacing (written by hand too)
  rgba.png graya.png                   with alpha
  huge-header.png huge-header.jpg      headers claiming 100000x100000 and 60000x60000 pixels

References (uint8 .npy, height x width x 3), as detectron2's read_image(path, "RGB") sees
each file: Pillow's ImageOps.exif_transpose, then convert("RGB"):
  <file>.rgb.npy
except gray16.png, whose reference is each sample's high byte (vitexport's deliberate choice;
Pillow's convert("RGB") clips the 16-bit value to 255). Resizes of plain.jpg's reference with
Image.resize(size, BILINEAR), detectron2's T.Resize (Pillow 13 picks the order of the two
passes by the sizes; see Sources/VitImage/Resize.swift):
  resize-<W>x<H>.npy
and letterbox-<W>x<H>.npy: resized to the largest size that fits with the aspect kept (sides
rounded), pasted at the top-left of zeros.
"""
import io
import pathlib
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "images"
W, H = 40, 30


def pattern():
    """An RGB image with gradients, a block and a diagonal: no symmetry."""
    y, x = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = (x * 255 // (W - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // (H - 1)).astype(np.uint8)
    img[..., 2] = ((x + 2 * y) * 3 % 256).astype(np.uint8)
    img[3:10, 4:16] = (250, 20, 30)
    img[(x - y) == 5] = (10, 10, 200)
    return img


def inverse_orientation(img, orientation):
    """The stored pixels whose EXIF `orientation` displays as `img` (exif_transpose undoes it)."""
    inverse = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
               6: Image.ROTATE_90, 7: Image.TRANSVERSE, 8: Image.ROTATE_270}[orientation]
    return img.transpose(inverse)


def exif_bytes(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(width, height, bit_depth, color_type, rows):
    """A PNG from raw scanlines (filter type 0)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"".join(b"\x00" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(data)) + png_chunk(b"IEND", b"")


def adam7_png(img):
    """An 8-bit RGB PNG with Adam7 interlacing (Pillow reads these but cannot write them)."""
    h, w, _ = img.shape
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    data = b""
    for x0, y0, dx, dy in passes:
        sub = img[y0::dy, x0::dx]
        if sub.size:
            data += b"".join(b"\x00" + sub[r].tobytes() for r in range(sub.shape[0]))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(data)) + png_chunk(b"IEND", b"")


def exif_after_image_data(img, exif):
    """A PNG whose eXIf chunk follows the image data (the PNG spec allows it; Pillow reads it)."""
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = buf.getvalue()
    end = data.index(b"IEND") - 4
    chunk = png_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\x00\x00") else exif)
    return data[:end] + chunk + data[end:]


def reference(path):
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    base = Image.fromarray(pattern())
    base.save(OUT / "plain.jpg", quality=90)
    base.convert("L").save(OUT / "gray.jpg", quality=90)
    base.save(OUT / "progressive.jpg", quality=90, progressive=True)
    base.save(OUT / "yuv444.jpg", quality=90, subsampling=0)
    base.convert("CMYK").save(OUT / "cmyk.jpg", quality=90)
    for o in range(2, 9):
        inverse_orientation(base, o).save(OUT / f"orient-{o}.jpg", quality=90, exif=exif_bytes(o))
    inverse_orientation(base, 6).save(OUT / "orient-6.png", exif=exif_bytes(6))
    (OUT / "orient-8-late.png").write_bytes(exif_after_image_data(inverse_orientation(base, 8), exif_bytes(8)))
    base.convert("L").save(OUT / "gray8.png")
    base.convert("1").save(OUT / "gray1.png")
    pal = base.convert("P", palette=Image.ADAPTIVE, colors=16)
    pal.info["transparency"] = 3
    pal.save(OUT / "palette.png", transparency=3)
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.fromarray((np.arange(W * H) % 256).astype(np.uint8).reshape(H, W)))
    rgba.save(OUT / "rgba.png")
    la = base.convert("LA")
    la.putalpha(128)
    la.save(OUT / "graya.png")

    # 16 bits per sample, big-endian, low bytes varying so a decoder that rounds differs.
    p16 = pattern().astype(np.uint16) * 257 + np.uint16(0x5A)
    p16 = np.minimum(p16, 65535).astype(">u2")
    (OUT / "rgb16.png").write_bytes(raw_png(W, H, 16, 2, [p16[r].tobytes() for r in range(H)]))
    g16 = (p16[..., 1].astype(np.uint32) * 3 // 4).astype(">u2")
    (OUT / "gray16.png").write_bytes(raw_png(W, H, 16, 0, [g16[r].tobytes() for r in range(H)]))
    a16 = np.concatenate([p16, (np.arange(W * H, dtype=np.uint32).reshape(H, W, 1) * 50).astype(">u2")], axis=2)
    (OUT / "rgba16.png").write_bytes(raw_png(W, H, 16, 6, [a16[r].tobytes() for r in range(H)]))
    (OUT / "interlaced.png").write_bytes(adam7_png(pattern()))

    # Headers only: a valid IHDR for 100000 x 100000 (no image data), and a JPEG SOF0 for
    # 60000 x 60000 (no scan). A reader must refuse them before allocating.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    (OUT / "huge-header.png").write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr))
    jpeg = io.BytesIO()
    base.save(jpeg, "JPEG", quality=50)
    data = bytearray(jpeg.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    (OUT / "huge-header.jpg").write_bytes(bytes(data))

    refs = {}
    for path in sorted(OUT.glob("*")):
        if path.suffix in (".jpg", ".png") and not path.name.startswith("huge-") and path.name != "cmyk.jpg":
            refs[path.name] = reference(path)
    refs["gray16.png"] = np.repeat((g16.astype(np.uint16) >> 8).astype(np.uint8)[..., None], 3, axis=2)
    for name, arr in refs.items():
        np.save(OUT / f"{name}.rgb.npy", np.ascontiguousarray(arr, dtype=np.uint8))
    # Every orientation reads back upright: the same pixels as orient-1's plain.jpg would, up
    # to JPEG's loss (checked loosely here; the Swift tests compare against each reference).
    for o in range(2, 9):
        assert refs[f"orient-{o}.jpg"].shape == (H, W, 3), o

    src = Image.fromarray(refs["plain.jpg"])
    # (38, 25) and (56, 20) take Pillow 13's vertical pass first, (37, 25) the horizontal.
    for size in [(24, 18), (64, 48), (7, 5), (56, 20), (40, 30), (38, 25), (37, 25)]:
        np.save(OUT / f"resize-{size[0]}x{size[1]}.npy", np.asarray(src.resize(size, Image.BILINEAR)))
    for box in [(32, 32), (30, 50)]:
        scale = min(box[0] / W, box[1] / H)
        size = (min(box[0], max(1, int(W * scale + 0.5))), min(box[1], max(1, int(H * scale + 0.5))))
        canvas = np.zeros((box[1], box[0], 3), np.uint8)
        canvas[:size[1], :size[0]] = np.asarray(src.resize(size, Image.BILINEAR))
        np.save(OUT / f"letterbox-{box[0]}x{box[1]}.npy", canvas)


if __name__ == "__main__":
    main()
