"""Draws media/icon.png (128x128): a lightning bolt on a rounded violet square.

Standard library only. Run: python3 scripts/make-icon.py
"""
import os
import struct
import zlib

SIZE = 128
SAMPLES = 4  # per axis, for anti-aliasing
BACKGROUND = (0x2b, 0x24, 0x5c)
BOLT = (0xff, 0xd1, 0x4a)
CORNER_RADIUS = 26
# A lightning bolt, clockwise, in pixel coordinates.
BOLT_POLYGON = [(74, 14), (34, 72), (60, 72), (50, 114), (94, 52), (67, 52), (80, 14)]


def inside_rounded_square(x, y):
    r = CORNER_RADIUS
    cx = min(max(x, r), SIZE - r)
    cy = min(max(y, r), SIZE - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def inside_polygon(x, y, polygon):
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def pixel(px, py):
    bg = bolt = 0
    for sy in range(SAMPLES):
        for sx in range(SAMPLES):
            x, y = px + (sx + 0.5) / SAMPLES, py + (sy + 0.5) / SAMPLES
            if inside_rounded_square(x, y):
                if inside_polygon(x, y, BOLT_POLYGON):
                    bolt += 1
                else:
                    bg += 1
    n = SAMPLES * SAMPLES
    covered = bg + bolt
    if covered == 0:
        return (0, 0, 0, 0)
    rgb = tuple(round((b * bg + f * bolt) / covered) for b, f in zip(BACKGROUND, BOLT))
    return rgb + (round(255 * covered / n),)


def png(rows):
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    raw = b''.join(b'\x00' + bytes(v for p in row for v in p) for row in rows)
    header = struct.pack('>IIBBBBB', SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')


if __name__ == '__main__':
    out = os.path.join(os.path.dirname(__file__), '..', 'media', 'icon.png')
    with open(out, 'wb') as f:
        f.write(png([[pixel(x, y) for x in range(SIZE)] for y in range(SIZE)]))
