"""W&B's media types but ``Table``, offline: ``Image``, ``Histogram``, ``Html``, ``Audio``, ``Video``.

``compat/media.py`` is their public module, with ``Table`` (``compat/table.py``, whose cells may
hold these), so neither of the two imports the other.

Each checks its arguments when made (a bad one raises, naming it) and, when logged with
``run.log({"key": obj})``, writes itself as files under the store's files folder
(``media_files.to_history_values``); the history row keeps a small JSON reference to them.
Heavy imports (numpy, PIL, pandas, matplotlib) happen inside the functions that need them.
"""

from __future__ import annotations

import io
import json
import numbers
import os
import shutil
import wave
from pathlib import Path
from typing import Any

IMAGE_FILE_TYPES = ("png", "jpg", "jpeg")
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a")
VIDEO_SUFFIXES = (".gif", ".mp4", ".webm", ".ogg", ".mov")
MAX_BINS = 512  # W&B's limit for a histogram's bins


class Media:
    """A value logged as files: subclasses write themselves and say what the reference holds."""

    _type = "media"

    def write(self, folder: Path, stem: str) -> dict:
        """Write the files as ``folder/stem.<ext>`` (and siblings); return the reference, its
        ``path`` the main file's name (the caller makes it relative to the store's files folder).
        """
        raise NotImplementedError


def _as_array(value: Any, who: str, arg: str):
    """numpy array of a numpy array, a list, or a tensor (torch's ``detach().cpu()`` first)."""
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "cpu"):
        value = value.cpu()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{who}: {arg} cannot be read as an array: {err}") from None


def _existing_file(path: Any, who: str, arg: str) -> Path:
    file = Path(os.fspath(path)).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"{who}: {arg} {str(file)!r} is not a file")
    return file


# ---------------------------------------------------------------------------------------------
# Image
# ---------------------------------------------------------------------------------------------


class Image(Media):
    """An image, logged as a PNG (or JPEG with ``file_type="jpg"``).

    ``data_or_path``: a numpy array (HxW, HxWxC with C in 1, 3, 4, or CxHxW as from torch;
    floats in 0-1 or uint8 0-255), a PIL image, a matplotlib Figure, or an image file's path.

    >>> img = Image(np.zeros((8, 8, 3)), caption="black")  # doctest: +SKIP
    >>> sweepnb.log({"samples": img})  # doctest: +SKIP
    """

    _type = "image-file"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Any = None,
        boxes: dict | None = None,
        masks: dict | None = None,
        file_type: str | None = None,
    ):
        if caption is not None and not isinstance(caption, str):
            caption = str(caption)  # W&B accepts any caption and shows its text
        if boxes is not None and not isinstance(boxes, dict):
            raise TypeError(
                f"Image: boxes must be a dict of box groups, not {type(boxes).__name__}"
            )
        if masks is not None and not isinstance(masks, dict):
            raise TypeError(f"Image: masks must be a dict of masks, not {type(masks).__name__}")
        file_type = (file_type or "png").lower().lstrip(".")
        if file_type not in IMAGE_FILE_TYPES:
            raise ValueError(f"Image: file_type {file_type!r} is not one of {IMAGE_FILE_TYPES}")
        self.file_type = "jpg" if file_type == "jpeg" else file_type
        self.caption = caption
        self.grouping = grouping
        self.classes = classes
        self.boxes = boxes
        self.masks = masks
        self.image = _to_pil(data_or_path, mode, "Image", "data_or_path")

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height

    def write(self, folder: Path, stem: str) -> dict:
        file = folder / f"{stem}.{self.file_type}"
        image = self.image
        if self.file_type == "jpg" and image.mode not in ("RGB", "L"):
            image = image.convert("RGB")  # JPEG has no alpha channel
        image.save(file)
        ref: dict[str, Any] = {
            "_type": self._type,
            "path": file.name,
            "format": self.file_type,
            "width": image.width,
            "height": image.height,
        }
        if self.caption is not None:
            ref["caption"] = self.caption
        if self.grouping is not None:
            ref["grouping"] = self.grouping
        if self.boxes is not None:  # can be long: a sibling file, its name in the reference
            boxes = folder / f"{stem}.boxes.json"
            boxes.write_text(json.dumps(_json_safe(self.boxes)))
            ref["boxes"] = boxes.name
        if self.classes is not None:
            ref["classes"] = _json_safe(self.classes)
        if self.masks:
            ref["masks"] = {}
            for name, mask in self.masks.items():
                ref["masks"][str(name)] = _write_mask(mask, folder, f"{stem}-mask-{name}")
        return ref


def _to_pil(data: Any, mode: str | None, who: str, arg: str):
    from PIL import Image as PILImage

    if isinstance(data, Image):
        image = data.image
    elif isinstance(data, PILImage.Image):
        image = data.copy()
    elif isinstance(data, (str, os.PathLike)):
        file = _existing_file(data, who, arg)
        try:
            with PILImage.open(file) as opened:
                opened.load()
                image = opened.copy()
        except OSError as err:
            raise ValueError(f"{who}: {arg} {str(file)!r} is not an image: {err}") from None
    elif _is_figure(data):
        buffer = io.BytesIO()
        data.savefig(buffer, format="png")
        buffer.seek(0)
        image = PILImage.open(buffer)
        image.load()
    else:
        image = PILImage.fromarray(_image_array(data, who, arg))
    if mode is not None:
        try:
            image = image.convert(mode)
        except ValueError as err:
            raise ValueError(f"{who}: mode {mode!r}: {err}") from None
    return image


def _is_figure(value: Any) -> bool:
    return type(value).__name__ == "Figure" and hasattr(value, "savefig")


def _image_array(data: Any, who: str, arg: str):
    import numpy as np

    # issue 24: W&B reads a torch tensor as channels first (CxHxW) whatever its last dimension
    channels_first = hasattr(data, "detach") and getattr(data, "ndim", 0) == 3
    array = _as_array(data, who, arg)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{who}: {arg} has dtype {array.dtype}, expected numbers")
    if (
        array.ndim == 3
        and array.shape[0] in (1, 3, 4)
        and (channels_first or array.shape[-1] not in (1, 3, 4))
    ):
        array = np.transpose(array, (1, 2, 0))  # channels first (torch) to channels last
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))):
        raise ValueError(
            f"{who}: {arg} has shape {tuple(np.shape(data))}, expected HxW or HxWxC (C = 1, 3, 4)"
        )
    if array.size == 0:
        raise ValueError(f"{who}: {arg} is empty (shape {tuple(array.shape)})")
    if array.dtype == np.uint8:
        return array
    array = array.astype(float)
    if not np.isfinite(array).all():
        raise ValueError(f"{who}: {arg} holds NaN or infinite values")
    if array.min() >= 0 and array.max() <= 1:  # floats in 0-1, as W&B reads them
        array = array * 255
    return np.clip(np.round(array), 0, 255).astype(np.uint8)


def _write_mask(mask: Any, folder: Path, stem: str) -> dict:
    """A segmentation mask (W&B's ``{"mask_data": array, "class_labels": {...}}``) as a PNG."""
    import numpy as np
    from PIL import Image as PILImage

    if not isinstance(mask, dict) or "mask_data" not in mask:
        raise TypeError('Image: masks values must be dicts with "mask_data" (and "class_labels")')
    data = _as_array(mask["mask_data"], "Image", "masks mask_data")
    if data.ndim != 2:
        raise ValueError(f"Image: masks mask_data has shape {data.shape}, expected HxW")
    file = folder / f"{stem}.png"
    PILImage.fromarray(data.astype(np.uint8)).save(file)
    return {"path": file.name, "class_labels": _json_safe(mask.get("class_labels") or {})}


def _json_safe(value: Any) -> Any:
    """JSON-able copy of plain nested data (numpy scalars and arrays to Python)."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    return str(value)


# ---------------------------------------------------------------------------------------------
# Histogram, Html, Audio, Video
# ---------------------------------------------------------------------------------------------


class Histogram(Media):
    """A histogram of values (or a ready ``np.histogram`` result), logged as JSON.

    >>> Histogram([1, 2, 2, 3], num_bins=3).values  # doctest: +SKIP
    [1, 2, 1]
    """

    _type = "histogram"

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64):
        import numpy as np

        if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral):
            raise TypeError(f"Histogram: num_bins must be an integer, not {num_bins!r}")
        if not 1 <= num_bins <= MAX_BINS:
            raise ValueError(f"Histogram: num_bins {num_bins} is not in 1..{MAX_BINS}")
        if (sequence is None) == (np_histogram is None):
            raise ValueError("Histogram: pass exactly one of sequence and np_histogram")
        if np_histogram is not None:
            if not isinstance(np_histogram, (tuple, list)) or len(np_histogram) != 2:
                raise TypeError("Histogram: np_histogram must be (values, bin_edges)")
            values = _as_array(np_histogram[0], "Histogram", "np_histogram")
            edges = _as_array(np_histogram[1], "Histogram", "np_histogram")
            if values.ndim != 1 or edges.shape != (len(values) + 1,):
                raise ValueError(
                    f"Histogram: np_histogram has {values.size} values and {edges.size} bin "
                    "edges; expected one more edge than values"
                )
        else:
            data = _as_array(sequence, "Histogram", "sequence").astype(float).ravel()
            data = data[np.isfinite(data)]
            if data.size == 0:
                raise ValueError("Histogram: sequence has no finite values")
            values, edges = np.histogram(data, bins=int(num_bins))
        self.values = values.tolist()
        self.bins = edges.tolist()

    def write(self, folder: Path, stem: str) -> dict:
        file = folder / f"{stem}.histogram.json"
        file.write_text(json.dumps({"values": self.values, "bins": self.bins}))
        return {"_type": self._type, "path": file.name, "num_bins": len(self.values)}


class Html(Media):
    """An HTML page (a string, a file path or an open file), logged as an ``.html`` file.

    ``inject`` is accepted; offline, nothing is injected (W&B adds its web stylesheet).

    >>> Html("<h1>Report</h1>")  # doctest: +SKIP
    """

    _type = "html-file"

    def __init__(self, data: Any, inject: bool = True):
        if hasattr(data, "read"):
            data = data.read()
        elif isinstance(data, os.PathLike) or (
            isinstance(data, str) and "<" not in data and Path(data).is_file()
        ):
            data = _existing_file(data, "Html", "data").read_text(encoding="utf-8")
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        if not isinstance(data, str):
            raise TypeError(
                f"Html: data must be a string, a path or a file, not {type(data).__name__}"
            )
        self.html = data
        self.inject = inject

    def write(self, folder: Path, stem: str) -> dict:
        file = folder / f"{stem}.html"
        file.write_text(self.html, encoding="utf-8")
        return {"_type": self._type, "path": file.name}


class _FileMedia(Media):
    """Audio and video: a file copied as is, or numpy data written in a format we can write."""

    def write(self, folder: Path, stem: str) -> dict:
        file = folder / f"{stem}{self.source.suffix.lower()}"
        shutil.copyfile(self.source, file)
        ref: dict[str, Any] = {"_type": self._type, "path": file.name}
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref


class Audio(_FileMedia):
    """Audio from a file (copied as is) or a numpy array with ``sample_rate`` (written as WAV).

    >>> Audio("speech.wav", caption="sample")  # doctest: +SKIP
    >>> Audio(np.sin(np.linspace(0, 440 * 6.28, 8000)), sample_rate=8000)  # doctest: +SKIP
    """

    _type = "audio-file"

    def __init__(
        self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None
    ):
        self.caption = None if caption is None else str(caption)
        self.sample_rate = sample_rate
        if isinstance(data_or_path, (str, os.PathLike)):
            self.source = _existing_file(data_or_path, "Audio", "data_or_path")
            self._samples = None
            return
        if sample_rate is None:
            raise ValueError("Audio: sample_rate is required when data_or_path is an array")
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral):
            raise TypeError(f"Audio: sample_rate must be an integer, not {sample_rate!r}")
        samples = _as_array(data_or_path, "Audio", "data_or_path").astype(float)
        if samples.ndim not in (1, 2) or samples.size == 0:
            raise ValueError(
                f"Audio: data_or_path has shape {samples.shape}, expected (samples,) or "
                "(samples, channels)"
            )
        self._samples = samples
        self.source = Path("audio.wav")

    def write(self, folder: Path, stem: str) -> dict:
        if self._samples is None:
            ref = super().write(folder, stem)
        else:
            import numpy as np

            file = folder / f"{stem}.wav"
            samples = self._samples if self._samples.ndim == 2 else self._samples[:, None]
            peak = float(np.abs(samples).max()) or 1.0
            pcm = (np.clip(samples / max(peak, 1.0), -1, 1) * 32767).astype("<i2")
            with wave.open(str(file), "wb") as out:
                out.setnchannels(pcm.shape[1])
                out.setsampwidth(2)
                out.setframerate(int(self.sample_rate))
                out.writeframes(pcm.tobytes())
            ref = {"_type": self._type, "path": file.name}
            if self.caption is not None:
                ref["caption"] = self.caption
        if self.sample_rate is not None:
            ref["sample_rate"] = int(self.sample_rate)
        return ref


class Video(_FileMedia):
    """Video from a file (copied as is), or numpy frames (time, channels, height, width) written
    as an animated GIF with Pillow; other formats for frames need a video package, so they raise.

    >>> Video("rollout.mp4", caption="episode 3")  # doctest: +SKIP
    >>> Video(np.random.randint(0, 255, (10, 3, 32, 32), dtype=np.uint8), fps=4)  # doctest: +SKIP
    """

    _type = "video-file"

    def __init__(
        self, data_or_path: Any, caption: str | None = None, fps: int = 4, format: str | None = None
    ):
        self.caption = None if caption is None else str(caption)
        if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or fps <= 0:
            raise ValueError(f"Video: fps must be a positive number, not {fps!r}")
        self.fps = fps
        if isinstance(data_or_path, (str, os.PathLike)):
            self.source = _existing_file(data_or_path, "Video", "data_or_path")
            self._frames = None
            return
        fmt = (format or "gif").lower()
        if fmt != "gif":
            raise ValueError(
                f"Video: format {fmt!r} from frames needs a video encoder, which sweepnb does not "
                "bundle; pass format='gif', or write the video yourself and pass its file path"
            )
        frames = _as_array(data_or_path, "Video", "data_or_path")
        if frames.ndim == 3:
            frames = frames[:, None]  # (time, height, width): one channel
        if frames.ndim != 4 or frames.shape[1] not in (1, 3, 4) or frames.shape[0] == 0:
            raise ValueError(
                f"Video: data_or_path has shape {frames.shape}, expected (time, channels, "
                "height, width) with 1, 3 or 4 channels"
            )
        self._frames = [_to_pil(frame, None, "Video", "data_or_path") for frame in frames]
        self.source = Path("video.gif")

    def write(self, folder: Path, stem: str) -> dict:
        if self._frames is None:
            return super().write(folder, stem)
        file = folder / f"{stem}.gif"
        first, *rest = [f.convert("RGB") for f in self._frames]
        first.save(file, save_all=True, append_images=rest, duration=int(1000 / self.fps), loop=0)
        ref: dict[str, Any] = {"_type": self._type, "path": file.name, "fps": self.fps}
        if self.caption is not None:
            ref["caption"] = self.caption
        return ref
