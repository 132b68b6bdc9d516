"""Photo orientation (issue 19, finding 8): a phone's portrait photo carries its pixels
sideways and EXIF orientation 6 ("rotate 90° clockwise to show"); the stored photo must be
upright, with the EXIF gone."""

from __future__ import annotations

import io

import pytest

RED, BLUE = (220, 20, 20), (20, 20, 220)


def _sideways_jpeg(orientation: int = 6) -> bytes:
    """40x20 pixels, red left half and blue right half, with EXIF orientation and a GPS tag."""
    from PIL import Image

    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"   # camera make, dropped with the rest
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def _near(pixel, colour) -> bool:
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def _check_upright(data: bytes) -> None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as shown:
        assert shown.size == (20, 40)            # portrait, as the photographer held it
        # rotating 90° clockwise puts the red left half on top
        assert _near(shown.getpixel((10, 5)), RED) and _near(shown.getpixel((10, 35)), BLUE)
        exif = shown.getexif()
        assert 0x0112 not in exif and 0x010F not in exif


def test_orientation_is_applied_then_stripped():
    from maps.review.photos import validate_photo

    photo = validate_photo(_sideways_jpeg(), name="portrait.jpg", max_bytes=2**20)
    assert (photo.width, photo.height) == (20, 40)
    _check_upright(photo.data)


@pytest.mark.parametrize(("orientation", "size"), [(1, (40, 20)), (3, (40, 20)), (8, (20, 40))])
def test_other_orientations(orientation, size):
    from PIL import Image

    from maps.review.photos import validate_photo

    photo = validate_photo(_sideways_jpeg(orientation), name="p.jpg", max_bytes=2**20)
    with Image.open(io.BytesIO(photo.data)) as shown:
        assert shown.size == size and 0x0112 not in shown.getexif()
        top_left = shown.getpixel((2, 2))
    # 1: as stored (red left); 3: turned half round (blue left); 8: red ends at the bottom
    assert _near(top_left, {1: RED, 3: BLUE, 8: BLUE}[orientation])


@pytest.mark.postgis
def test_uploaded_portrait_is_served_upright(sessions, seeded):
    cid = seeded["东区"][15]
    tech = sessions["tech_east"]
    resp = tech.post(f"/api/candidates/{cid}/notes", data={"note": "竖拍的照片"},
                     files=[("photo", ("portrait.jpg", _sideways_jpeg(), "image/jpeg"))])
    assert resp.status_code == 201, resp.text
    photo = sessions["off_east"].get(f"/api/photos/{resp.json()['photos'][0]}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    _check_upright(photo.content)
