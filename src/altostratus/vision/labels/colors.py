"""Naming colours: the nearest CSS3 named colour and the nearest of twelve simplified colours, in CIE Lab.

The CSS names come from Pillow's table of them (ImageColor.colormap, CSS3's 147 and rebeccapurple); where names
share a value ("grey"/"gray" spellings, aqua/cyan, fuchsia/magenta) one is kept: the "gray" spelling, else the
first alphabetically.
Rekognition says SimplifiedColor is "one of 12 simplified color names" without listing them; ours are the
eleven basic colour terms of Berlin and Kay (black, white, gray... as below) and teal. Distances are taken in
CIE Lab (OpenCV's 8-bit conversion), where equal steps look about equally different, rather than in RGB.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import ImageColor

SIMPLIFIED = {
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "gray": (128, 128, 128),
    "red": (220, 20, 30),
    "orange": (255, 140, 0),
    "yellow": (255, 230, 0),
    "green": (40, 160, 40),
    "blue": (30, 80, 220),
    "purple": (128, 40, 160),
    "pink": (255, 150, 190),
    "brown": (140, 80, 30),
    "teal": (0, 128, 128),
}


def hex_code(rgb: tuple[int, int, int]) -> str:
    """The colour as #rrggbb."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _lab(colours: NDArray[np.uint8]) -> NDArray[np.float32]:
    """N x 3 RGB (uint8) as N x 3 CIE Lab (float32)."""
    return cv2.cvtColor(colours.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)


@functools.cache
def _palette(name: str) -> tuple[tuple[str, ...], NDArray[np.float32]]:
    if name == "css":
        by_value: dict[str, str] = {}
        for colour, value in sorted(ImageColor.colormap.items()):
            if isinstance(value, str) and "grey" not in colour:
                by_value.setdefault(value.lower(), colour)
        names = tuple(by_value.values())
        rgb = np.array([ImageColor.getrgb(value) for value in by_value], dtype=np.uint8)
    else:
        names = tuple(SIMPLIFIED)
        rgb = np.array(list(SIMPLIFIED.values()), dtype=np.uint8)
    return names, _lab(rgb)


def _nearest(palette: str, rgb: tuple[int, int, int]) -> str:
    names, lab = _palette(palette)
    here = _lab(np.array([rgb], dtype=np.uint8))[0]
    return names[int(np.argmin(((lab - here) ** 2).sum(axis=1)))]


def css_name(rgb: tuple[int, int, int]) -> str:
    """The nearest CSS3 named colour."""
    return _nearest("css", rgb)


def simplified_name(rgb: tuple[int, int, int]) -> str:
    """The nearest of the twelve simplified colours."""
    return _nearest("simplified", rgb)
