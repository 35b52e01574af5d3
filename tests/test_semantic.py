"""Semantic encoders: MiniLM offline text, and the full CLIP path (text + image) on a small random open_clip."""

import os

import numpy as np
import pytest
from PIL import Image

from model_runtime.errors import SignAvatarError
from model_runtime.generation import Generator
from model_runtime.semantic import build_encoder, parse_encoder_id
from model_runtime.semantic.clip import ClipEncoder
from model_runtime.semantic.minilm import MiniLMEncoder

from model_synth import GLOSSES, tiny_clip_files, trained_run


@pytest.fixture(scope="module")
def minilm():
    return MiniLMEncoder()


def test_minilm_is_offline_unit_length_and_semantic(minilm):
    v = minilm.encode_text(["drink", "beverage", "car", "automobile", "quantum chromodynamics"])
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert v.shape == (5, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    sim = v @ v.T
    assert sim[0, 1] > 0.7 and sim[2, 3] > 0.7  # synonyms
    assert sim[0, 4] < 0.3 and sim[2, 4] < 0.3  # unrelated
    assert np.array_equal(minilm.encode_text(["drink"]), minilm.encode_text(["drink"]))
    # padding in a batch does not change an embedding (mean pooling over real tokens only)
    alone = minilm.encode_text(["drink"])[0]
    assert np.allclose(alone, minilm.encode_text(["drink", "a much longer sentence about signs"])[0], atol=1e-5)
    with pytest.raises(SignAvatarError, match="text-only"):
        minilm.encode_image(["x.png"])


def test_encoder_ids_are_checked():
    assert parse_encoder_id("minilm") == ("minilm", "")
    assert parse_encoder_id("clip:ViT-B-32") == ("clip", "ViT-B-32")
    for bad in ("bert", "clip", "clip:"):
        with pytest.raises(SignAvatarError):
            parse_encoder_id(bad)
    with pytest.raises(SignAvatarError, match="no architecture 'ViT-Nope'"):
        build_encoder("clip:ViT-Nope", clip_weights="w.safetensors")


@pytest.fixture(scope="module")
def clip_files(tmp_path_factory):
    return tiny_clip_files(tmp_path_factory.mktemp("tinyclip"))


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "cup.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((48, 40, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_clip_encoder_text_and_image(clip_files, image, tmp_path):
    cfg, weights = clip_files
    enc = ClipEncoder.from_arch(str(cfg), weights=weights)
    assert enc.spec.id == "clip:tinyclip" and enc.spec.dim == 32 and enc.spec.clip_model_cfg["embed_dim"] == 32
    t = enc.encode_text(["drink", "car"])
    i = enc.encode_image([image])
    assert t.shape == (2, 32) and i.shape == (1, 32)
    assert np.allclose(np.linalg.norm(np.vstack([t, i]), axis=1), 1, atol=1e-5)
    with pytest.raises(SignAvatarError, match="not an image this reader knows"):
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"nope")
        enc.encode_image([bad])
    # the same architecture rebuilt from the stored spec alone (as a checkpoint does) gives the same vectors
    again = ClipEncoder(enc.spec, weights=weights)
    assert np.allclose(again.encode_text(["drink", "car"]), t, atol=1e-6)


def test_clip_without_or_with_wrong_weights_says_how_to_fix(clip_files, tmp_path, monkeypatch):
    cfg, weights = clip_files
    monkeypatch.delenv("SIGNAVATAR_CLIP_WEIGHTS", raising=False)
    with pytest.raises(SignAvatarError, match="--clip-weights FILE"):
        ClipEncoder.from_arch(str(cfg)).encode_text(["drink"])
    with pytest.raises(SignAvatarError, match="weights file not found"):
        ClipEncoder.from_arch(str(cfg), weights=tmp_path / "missing.safetensors").encode_text(["drink"])
    from safetensors.torch import save_file
    import torch
    wrong = tmp_path / "wrong.safetensors"
    save_file({"visual.proj": torch.zeros(3, 3)}, str(wrong))
    with pytest.raises(SignAvatarError, match="cannot load CLIP tinyclip weights"):
        ClipEncoder.from_arch(str(cfg), weights=wrong).encode_text(["drink"])


@pytest.fixture(scope="module")
def clip_run(tmp_path_factory, clip_files):
    cfg, weights = clip_files
    return trained_run(tmp_path_factory.getbasetemp() / "model_runs", name="clip", epochs=20,
                       extra=("--encoder", f"clip:{cfg}", "--clip-weights", str(weights)))


def test_clip_model_generates_from_text_and_images(clip_run, clip_files, image):
    cfg, weights = clip_files
    gen = Generator.load(clip_run, clip_weights=weights)
    assert gen.encoder_id == "clip:tinyclip" and gen.has_image_encoder
    assert gen.config.match_threshold == 0.8
    assert sorted(gen.vocabulary) == sorted(GLOSSES)
    m = gen.match_image(image)
    assert m.gloss in GLOSSES and -1 <= m.score <= 1 and len(m.suggestions) == 5
    near = gen.generate_from_image(image, seed=0, n=2)
    assert len(near) == 2 and all(x.gloss == m.gloss for x in near)
    assert np.allclose(near[0].poses, gen.generate(m.gloss, seed=0, n=2)[0].poses, atol=1e-5)
    emb = gen.generate_from_image(image, seed=0, mode="embedding", frames=25)
    assert emb[0].poses.shape == (25, 55, 3) and emb[0].gloss == "image:cup"
    assert np.array_equal(emb[0].poses, gen.generate_from_image(image, seed=0, mode="embedding", frames=25)[0].poses)
    with pytest.raises(SignAvatarError, match="image mode"):
        gen.generate_from_image(image, mode="telepathy")


def test_clip_model_without_weights_still_knows_its_glosses(clip_run, image, monkeypatch):
    monkeypatch.delenv("SIGNAVATAR_CLIP_WEIGHTS", raising=False)
    gen = Generator.load(clip_run)
    assert not gen.has_image_encoder
    assert gen.generate("drink", seed=0)[0].gloss == "drink"  # the stored embedding, no encoder needed
    with pytest.raises(SignAvatarError, match="--clip-weights FILE"):
        gen.generate_from_image(image)
    with pytest.raises(SignAvatarError, match=r"not a sign this model knows.*--clip-weights"):
        gen.match("beverage")


def test_clip_model_refuses_other_weights(clip_run, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file
    from model_synth import tiny_clip_files

    cfg, weights = tiny_clip_files(tmp_path)
    state = load_file(str(weights))
    torch.manual_seed(123)
    other = tmp_path / "other.safetensors"
    save_file({k: (v + 0.5 * torch.randn_like(v)) if v.is_floating_point() else v for k, v in state.items()},
              str(other))
    gen = Generator.load(clip_run, clip_weights=other)
    with pytest.raises(SignAvatarError, match="does not reproduce the embeddings"):
        gen.match("beverage")


def test_a_minilm_warm_start_reuses_the_models_gloss_embeddings_and_needs_no_encoder(tmp_path, monkeypatch):
    """The same gloss text always gets the same MiniLM embedding: a warm start covering the same glosses
    takes them from the model it starts from (it runs where the text encoder is missing); a new gloss
    needs the encoder again."""
    from safetensors.numpy import load_file

    from model_runtime.cli import main
    from model_runtime.semantic import factory

    from model_runtime.model.config import ModelConfig

    from model_synth import TINY_NET, synth_dataset

    data = synth_dataset(tmp_path / "d", ["drink", "eat", "car"], 4)
    common = ["--batch-size", "8", "--quiet", "--epochs", "1", "--save-every", "1", "--save-dtype", "float32",
              *TINY_NET]
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "a"), *common]) == 0

    def no_encoder(*args, **kwargs):
        raise AssertionError("the text encoder was built")

    monkeypatch.setattr(factory, "build_encoder", no_encoder)
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "b"), "--init-from", str(tmp_path / "a"),
                 *common]) == 0
    emb = lambda run: load_file(str(run / "gloss_embeddings.safetensors"))["embeddings"]  # noqa: E731
    assert np.array_equal(emb(tmp_path / "a"), emb(tmp_path / "b"))
    assert ModelConfig.load(tmp_path / "b" / "config.json").encoder == \
        ModelConfig.load(tmp_path / "a" / "config.json").encoder
    more = synth_dataset(tmp_path / "d2", ["drink", "eat", "car", "book"], 4)
    with pytest.raises(AssertionError, match="encoder was built"):  # 'book' is new: it must be embedded
        main(["train", "--data", str(more), "--out", str(tmp_path / "c"), "--init-from", str(tmp_path / "a"),
              *common])
