"""Transmitted images: recognised by content, bounded in bytes and pixels, stored by sha256."""

from __future__ import annotations

import hashlib
import io
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import simplejpeg
from PIL import Image, UnidentifiedImageError

from service.domain.errors import ImageRejected, ImageTooLarge, NotFound
from service.domain.files import written_atomically
from service.settings import ImageLimits

ACCEPTED_FORMATS = ("JPEG", "PNG", "TIFF")
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "TIFF": "image/tiff"}


@dataclass(frozen=True)
class ImageInfo:
    sha256: str
    format: str
    mode: str
    width: int
    height: int
    size_bytes: int


def inspect(part: str, data: bytes, limits: ImageLimits) -> ImageInfo:
    """Check that `data` is a whole JPEG, PNG or TIFF within the limits, and describe it."""
    if not data:
        raise ImageRejected(part, "the part is empty")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(part, f"{len(data):,} bytes is over the limit of {limits.max_bytes:,} bytes")
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its bomb threshold; treat the warning as the refusal it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, mode, (width, height) = image.format or "", image.mode, image.size
                if fmt not in ACCEPTED_FORMATS:
                    raise ImageRejected(part, f"{fmt or 'this'} images are not accepted; send JPEG, PNG or TIFF")
                if (frames := getattr(image, "n_frames", 1)) > 1:
                    # Which page would be matched is a guess the filer should not leave to us.
                    raise ImageRejected(part, f"the {fmt} holds {frames} images (pages); send one image per part")
                if width * height > limits.max_pixels:
                    raise ImageTooLarge(
                        part,
                        f"{width}x{height} is {width * height:,} pixels, over the limit of "
                        f"{limits.max_pixels:,} pixels",
                    )
                image.load()  # decode it all: a truncated or corrupt file fails here, not later
                if fmt == "JPEG":
                    _jpeg_whole(data, mode)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise ImageTooLarge(part, f"too many pixels to decode safely ({error})") from None
    except UnidentifiedImageError:
        raise ImageRejected(part, "the content is not a JPEG, PNG or TIFF image") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageRejected(part, f"the {fmt} image is corrupt or truncated ({error})") from None
    return ImageInfo(
        sha256=hashlib.sha256(data).hexdigest(),
        format=fmt,
        mode=mode,
        width=width,
        height=height,
        size_bytes=len(data),
    )


def _jpeg_whole(data: bytes, mode: str) -> None:
    """Raise ValueError unless the JPEG's compressed data runs whole to its end.

    libjpeg recovers from a JPEG cut short (or whose scan ends at an early EOI) by padding it with grey,
    and Pillow cannot tell: a 6.8 kB file then passes as a 6000x6000 image. libjpeg-turbo in strict mode
    refuses such data; the 1/8-scale output still decodes every coefficient, at 1/64 of the memory.
    """
    colorspace = {"L": "gray", "CMYK": "cmyk"}.get(mode, "rgb")
    simplejpeg.decode_jpeg(data, colorspace=colorspace, min_factor=8, strict=True)


class ImageStore:
    """Original bytes on local disk, content-addressed, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        path = self.path_for(sha256)
        if path.exists():
            return path
        with written_atomically(path) as handle:
            handle.write(data)
        return path

    def read(self, sha256: str) -> bytes:
        path = self.path_for(sha256)
        if not path.is_file():
            raise NotFound(f"image {sha256} is recorded but its file is missing from {self.root}")
        return path.read_bytes()

    def delete(self, sha256: str) -> bool:
        """Remove an image's file (the retention policy's purge); whether there was one."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        for folder in (path.parent, path.parent.parent):  # drop the fan-out folders it leaves empty
            try:
                folder.rmdir()
            except OSError:
                break
        return True

    def stored(self, *, older_than_s: float = 0.0) -> Iterator[str]:
        """The sha256 of every image file written at least `older_than_s` seconds ago."""
        if not self.root.is_dir():
            return
        before = time.time() - older_than_s
        for path in self.root.glob("??/??/*"):
            if len(path.name) == 64 and not path.name.startswith(".") and path.stat().st_mtime <= before:
                yield path.name

    def writable(self) -> bool:
        self.root.mkdir(parents=True, exist_ok=True)
        return os.access(self.root, os.W_OK)
