"""Train a pixel classifier from an image and reference footprints, and save it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gis.progress import Progress
    from remote_sensing.classifier import PixelClassifier


def train_from_files(image: str | Path, reference: str | Path, *,
                     train_area: str | Path | None = None, save_to: str | Path | None = None,
                     overwrite: bool = False, progress: Progress | None = None,
                     **options) -> PixelClassifier:
    """Fit a :class:`~remote_sensing.classifier.PixelClassifier` on files.

    Parameters
    ----------
    image : path
        The image to learn from.
    reference : path
        Reference building footprints (any vector format mujun reads).
    train_area : path, optional
        Polygon(s) where the reference is complete (default: its bounding box).
    save_to : path, optional
        Where to save the model (``.joblib`` plus its ``.json`` card), atomically.
    overwrite : bool
        Replace an existing saved model.
    **options
        Passed to :func:`remote_sensing.classifier.train_classifier` (``max_iter``,
        ``seed``, ``tile_size``, ``samples_per_tile``).

    Raises
    ------
    OutputExistsError
        ``save_to`` exists and ``overwrite`` is false (checked before training).
    """
    from gis.atomic import existing_members
    from gis.errors import OutputExistsError
    from remote_sensing.classifier import train_classifier
    from remote_sensing.io import read_footprints

    if save_to is not None and not overwrite:
        target = Path(save_to).with_suffix(".joblib")
        found = [m.name for m in (target, target.with_suffix(".json")) if existing_members(m)]
        if found:
            raise OutputExistsError(f"{target}: model exists ({', '.join(found)}); add "
                                    "--overwrite to replace it")
    ref = read_footprints(reference)
    area = read_footprints(train_area) if train_area is not None else None
    model = train_classifier(image, ref, train_area=area, progress=progress, **options)
    if save_to is not None:
        model.save(save_to, overwrite=overwrite)
    return model
