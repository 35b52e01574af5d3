"""Image -> sign with the shipped (MiniLM) model: bounded decode, the reviewed class table, text and objects, refusals."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from model_runtime.errors import SignAvatarError
from model_runtime.vision import understand
from model_runtime.vision.classify import class_table
from model_runtime.imageio import load_image

REPO = Path(__file__).resolve().parents[1]


def _font(size: int):
    import matplotlib

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"), size)


def word_image(path: Path, text: str, size=(420, 200), font=72) -> Path:
    im = Image.new("RGB", size, "white")
    ImageDraw.Draw(im).text((size[0] // 2, size[1] // 2), text, fill="black", font=_font(font), anchor="mm")
    im.save(path)
    return path


@pytest.fixture(scope="module")
def gen():
    from model_runtime.generation import Generator

    return Generator.load()


# ---- decoding ------------------------------------------------------------------------------------

def _png_header_only(path: Path, w: int, h: int) -> Path:
    """A PNG whose header claims w x h pixels (and whose data is one empty row): tests the size checks."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0"))
                     + chunk(b"IEND", b""))
    return path


def test_bad_files_are_refused_with_the_reason(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture at all")
    (tmp_path / "empty.jpg").write_bytes(b"")
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8)).save(buf, "PNG")
    (tmp_path / "cut.png").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    for name, msg in [("notes.png", "not an image this reader knows"), ("empty.jpg", "is empty"),
                      ("cut.png", "truncated or damaged"), ("missing.png", "image not found")]:
        with pytest.raises(SignAvatarError, match=msg):
            load_image(tmp_path / name)
    with pytest.raises(SignAvatarError, match="too large to decode safely"):  # 10^10 pixels claimed
        load_image(_png_header_only(tmp_path / "bomb.png", 100_000, 100_000))
    with pytest.raises(SignAvatarError, match="at most 50 megapixels are decoded"):  # 81 MP: over the PNG bound
        load_image(_png_header_only(tmp_path / "big.png", 9000, 9000))


def test_large_jpeg_is_decoded_downscaled(tmp_path):
    a = np.zeros((1500, 2000, 3), np.uint8)
    a[:, 1000:] = 255
    Image.fromarray(a).save(tmp_path / "big.jpg", quality=90)
    img = load_image(tmp_path / "big.jpg", max_side=200, max_pixels=1_000_000)  # a 3 MP file counts as huge
    assert img.rgb.shape == (150, 200, 3) and img.size == (2000, 1500)
    assert "decoded at 250x188" in img.notes[0]  # libjpeg's 1/8 scale: never the full-size bitmap
    assert img.rgb[:, :90].mean() < 10 and img.rgb[:, 110:].mean() > 245


def test_the_header_check_reads_no_pixels_and_a_jpeg_too_large_even_at_one_eighth_is_refused(tmp_path):
    from model_runtime.imageio import check_image

    Image.new("RGB", (2000, 1500), "white").save(tmp_path / "big.jpg")
    assert check_image(tmp_path / "big.jpg") == (2000, 1500, "JPEG")
    assert check_image(_png_header_only(tmp_path / "claims.png", 4000, 3000)) == (4000, 3000, "PNG")  # no data
    with pytest.raises(SignAvatarError, match="too large to decode safely"):  # 1/8 would still be 46875 px
        load_image(tmp_path / "big.jpg", max_pixels=40_000)


def test_gif_cmyk_16bit_and_transparent_images_decode_correctly(tmp_path):
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "lime", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    gif = load_image(tmp_path / "anim.gif")
    assert gif.rgb[15, 20].tolist() == [255, 0, 0] and "animated GIF (3 frames): the first frame" in gif.notes[0]

    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # red in CMYK
    cmyk = load_image(tmp_path / "cmyk.jpg")
    assert np.abs(cmyk.rgb[16, 16].astype(int) - [255, 0, 0]).max() < 30 and "CMYK" in cmyk.notes[0]

    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (8, 1))
    Image.fromarray(ramp).save(tmp_path / "deep.png")  # 16-bit greyscale
    deep = load_image(tmp_path / "deep.png")
    assert deep.rgb[0, 0, 0] == 0 and deep.rgb[0, -1, 0] == 255 and 120 <= deep.rgb[0, 32, 0] <= 135  # scaled
    assert "16-bit" in deep.notes[0]

    rgba = np.zeros((20, 20, 4), np.uint8)  # fully transparent, black "ink" in the middle
    rgba[8:12, 8:12] = [0, 0, 0, 255]
    Image.fromarray(rgba).save(tmp_path / "alpha.png")
    alpha = load_image(tmp_path / "alpha.png")
    assert alpha.rgb[0, 0].tolist() == [255, 255, 255] and alpha.rgb[10, 10].tolist() == [0, 0, 0]


# ---- the reviewed ImageNet -> gloss table --------------------------------------------------------

def test_class_table_maps_only_to_known_glosses_and_only_where_right(gen):
    names, glosses = class_table()
    assert len(names) == 1000 and set(glosses.values()) <= set(gen.vocabulary)
    by_name = {n: glosses.get(i) for i, n in enumerate(names)}
    right = {"tabby": "cat", "Granny Smith": "apple", "espresso": "coffee", "golden retriever": "dog",
             "sports car": "car", "school bus": "bus", "goldfish": "fish", "bald eagle": "bird", "banana": "banana",
             "teddy": "bear", "mortarboard": "graduation", "cash machine": "atm", "Chihuahua": "chihuahua"}
    assert {n: by_name[n] for n in right} == right
    for wrong in ("street sign", "water snake", "custard apple", "koala", "scuba diver", "seashore", "web site"):
        assert by_name[wrong] is None, wrong
    doc = json.loads((REPO / "model_runtime/vision/imagenet_glosses.json").read_text())
    assert "tools/build_imagenet_glosses.py" in doc["about"]


# ---- understanding -------------------------------------------------------------------------------

def test_printed_words_become_their_sign(gen, tmp_path):
    m = gen.match_image(word_image(tmp_path / "hello.png", "HELLO"))
    assert (m.gloss, m.source) == ("hello", "text") and m.score > 0.9
    assert m.summary.startswith("read \u201chello\u201d") and m.summary.endswith("\u2192 hello")
    two = Image.new("RGB", (480, 320), "white")  # a phrase over two lines is read as one
    d = ImageDraw.Draw(two)
    d.text((240, 100), "THANK", fill="black", font=_font(80), anchor="mm")
    d.text((240, 220), "YOU", fill="black", font=_font(80), anchor="mm")
    two.save(tmp_path / "thanks.jpg")
    assert gen.match_image(tmp_path / "thanks.jpg").gloss == "thank you"


def test_pages_of_text_and_noise_are_refused_with_evidence_and_suggestions(gen, tmp_path):
    page = Image.new("RGB", (600, 800), "white")
    d = ImageDraw.Draw(page)
    for k in range(8):
        d.text((30, 40 + 90 * k), f"line {k} of a long letter about water", fill="black", font=_font(28))
    page.save(tmp_path / "page.png")
    with pytest.raises(SignAvatarError, match="a page of text") as e:
        gen.match_image(tmp_path / "page.png")
    assert any(ev.kind == "text" for ev in e.value.evidence)
    noise = np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    with pytest.raises(SignAvatarError, match="no sign for noise.png") as e:
        gen.match_image(tmp_path / "noise.png")
    assert "Seen: " in str(e.value) and e.value.suggestions and set(e.value.suggestions) <= set(gen.vocabulary)


class _FakeReader:
    """The real decision logic over given OCR lines, face size and class probabilities."""

    def __init__(self, probs, face=0.0):
        from model_runtime.vision.classify import ObjectClassifier

        self.probs, self.face = np.asarray(probs, np.float64), face
        self.objects = ObjectClassifier

    def read_text(self, rgb):
        return []

    def look(self, rgb, seen, min_face_area=0.0):
        return understand.replace(seen, labels=self.objects.top(self.probs, 5), face=self.face,
                                  gloss_probs=self.objects.gloss_probabilities(self.probs)[:3])


def _probs(**by_name):
    names, _ = class_table()
    p = np.full(1000, 0.0)
    for n, v in by_name.items():
        p[names.index(n.replace("_", " "))] = v
    p += (1 - p.sum()) / 1000
    return p


def test_objects_need_one_confident_class_and_no_face(gen, tmp_path, monkeypatch):
    img = tmp_path / "photo.png"
    Image.new("RGB", (64, 64), "grey").save(img)
    cases = [(_probs(tabby=0.4, tiger_cat=0.3), 0.0, "cat"),
             (_probs(**{"golden retriever": 0.15, "Labrador retriever": 0.15, "kuvasz": 0.15, "borzoi": 0.15}),
              0.0, "nothing in it is recognised"),  # weak guesses do not add up to a dog
             (_probs(tripod=0.9), 0.0, "tripod .* which no sign"),
             (_probs(tabby=0.9), 0.05, "photo of people")]
    for probs, face, want in cases:
        monkeypatch.setattr(understand, "reader", lambda p=probs, f=face: _FakeReader(p, f))
        if want == "cat":
            m = gen.match_image(img)
            assert (m.gloss, m.source) == ("cat", "object") and m.score == pytest.approx(0.7, abs=0.01)
            assert m.evidence[0].what == "tabby"
        else:
            with pytest.raises(SignAvatarError, match=want):
                gen.match_image(img)


def test_a_real_photo_of_a_cat_is_cat(gen, tmp_path):
    from skimage import data  # scikit-image sample photograph (benchmark / test dependency)

    Image.fromarray(data.chelsea()).save(tmp_path / "chelsea.jpg")
    m = gen.match_image(tmp_path / "chelsea.jpg")
    assert (m.gloss, m.source) == ("cat", "object")


def test_the_face_search_starts_at_the_smallest_face_that_counts():
    from skimage import data

    from model_runtime.vision.faces import largest_face

    astronaut = data.astronaut()  # one frontal face, about 4 % of the picture
    full = largest_face(astronaut)
    assert 0.02 < full < 0.06
    assert largest_face(astronaut, 0.01) == pytest.approx(full)  # the bound used: 1 % (ReaderConfig.max_face_area)
    assert largest_face(astronaut, 0.1) == 0.0


def test_torch_threads_sets_and_gives_back_the_process_setting():
    import torch

    from model_runtime.runtime_env import torch_threads

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(KeyError), torch_threads(1):
            raise KeyError("a failing step")
        assert torch.get_num_threads() == 2
        with torch_threads(0):  # 0: leave the setting alone
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_generate_cli_signs_an_image_and_refuses_bad_ones(tmp_path):
    word_image(tmp_path / "drink.png", "drink")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "model_runtime", "generate", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=300)
    ok = cli("--image", str(tmp_path / "drink.png"), "-o", str(tmp_path / "out.npz"))
    assert ok.returncode == 0, ok.stderr
    assert "read \u201cdrink\u201d" in ok.stdout and "\u2192 drink" in ok.stdout and (tmp_path / "out.npz").is_file()
    bad = cli("--image", str(tmp_path / "bad.jpg"), "-o", str(tmp_path / "bad.npz"))
    assert bad.returncode == 2 and bad.stderr.count("error:") == 1 and not (tmp_path / "bad.npz").exists()


def test_ocr_detector_input_is_capped_and_sessions_do_not_spin():
    from model_runtime.vision.ocr import OcrConfig, TextReader
    engine = TextReader(OcrConfig(det_limit_side=640))._load()
    pre = engine.text_det.get_preprocess(1200)
    assert (pre.limit_side_len, pre.limit_type) == (640, "max")
    opts = engine.text_det.infer.session.get_session_options()
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
