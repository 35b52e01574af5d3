"""Write ``model_runtime/vision/imagenet_glosses.json``: ImageNet-1k class names and the reviewed class -> gloss table.

    .venv/bin/python tools/build_imagenet_glosses.py

The class names (first WordNet lemma of each of the 1,000 synsets, in the classifier's output order) come from the
tables timm ships (``timm/data/_info``). The mapping below was reviewed by hand against the shipped model's
vocabulary (``Generator.load().vocabulary``): a class is mapped only where the gloss names what the photo shows
(a tabby is CAT, a Granny Smith is APPLE, an espresso is COFFEE). Left out on purpose: people (scuba diver, groom,
ballplayer), scenes (seashore, alp, valley, cliff...), and look-alike words (street sign is not SIGN, a water
snake is not WATER, custard apple is not APPLE, a koala is not a bear).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "model_runtime" / "vision" / "imagenet_glosses.json"

# Whole families, by class index range (inclusive), from the ImageNet-1k order.
RANGES = {
    "fish": [(0, 6), (389, 397)],
    "bird": [(9, 24), (80, 100), (127, 146)],
    "dog": [(152, 268)],       # every domestic dog breed after the Chihuahua
    "cat": [(281, 285)],       # tabby, tiger cat, Persian, Siamese, Egyptian cat
    "bear": [(294, 297)],
    "butterfly": [(321, 326)],
    "ape": [(365, 369)],       # orangutan, gorilla, chimpanzee, gibbon, siamang
}

# First lemma of a class -> gloss.
BY_NAME = {
    "cock": "chicken", "hen": "chicken", "African chameleon": "chameleon", "Indian cobra": "cobra",
    "Chihuahua": "chihuahua", "cheetah": "cheetah", "ant": "ant", "wood rabbit": "bunny", "hare": "bunny",
    "Angora": "bunny", "bison": "bison", "Arabian camel": "camel", "badger": "badger", "armadillo": "armidillo",
    "giant panda": "bear", "teddy": "bear", "spider web": "cobweb",
    # vehicles
    "sports car": "car", "convertible": "car", "cab": "car", "jeep": "car", "limousine": "car", "minivan": "car",
    "Model T": "car", "racer": "car", "beach wagon": "car", "school bus": "bus", "trolleybus": "bus",
    "minibus": "bus", "mountain bike": "bicycle", "bicycle-built-for-two": "bicycle", "canoe": "boat",
    "speedboat": "boat", "lifeboat": "boat", "fireboat": "boat", "yawl": "boat", "catamaran": "boat",
    "trimaran": "boat", "schooner": "boat", "gondola": "boat", "container ship": "boat", "liner": "boat",
    "pirate": "boat", "horse cart": "carriage", "oxcart": "carriage", "jinrikisha": "carriage",
    # food and drink
    "banana": "banana", "orange": "orange", "Granny Smith": "apple", "strawberry": "berries", "bagel": "bagel",
    "cheeseburger": "cheeseburger", "pizza": "pizza", "ice cream": "ice cream", "corn": "corn", "ear": "corn",
    "French loaf": "baguette", "burrito": "burrito", "espresso": "coffee", "coffee mug": "coffee",
    "coffeepot": "coffee", "espresso maker": "coffee", "teapot": "tea", "consomme": "soup", "soup bowl": "soup",
    "chocolate sauce": "chocolate", "confectionery": "candy", "beer bottle": "beer", "beer glass": "beer",
    "pop bottle": "soda pop", "milk can": "milk", "cocktail shaker": "cocktail", "water bottle": "bottle",
    "wine bottle": "bottle", "pill bottle": "bottle", "mixing bowl": "bowl",
    # things
    "apron": "apron", "backpack": "backpack", "balloon": "balloon", "banjo": "banjo", "barn": "barn",
    "baseball": "baseball", "basketball": "basketball", "bathtub": "bath", "binder": "binder",
    "binoculars": "binocular", "bookcase": "bookcase", "bookshop": "bookstore", "bow tie": "bowtie",
    "brassiere": "bra", "broom": "broom", "Band Aid": "bandage", "barbershop": "barber", "barometer": "barometer",
    "book jacket": "book", "comic book": "book", "reflex camera": "camera", "Polaroid camera": "camera",
    "cassette": "cassette", "cash machine": "atm", "castle": "castle", "church": "church", "cinema": "cinema",
    "cowboy boot": "boots", "cowboy hat": "hat", "sombrero": "hat", "bonnet": "hat", "china cabinet": "cabinet",
    "medicine chest": "cabinet", "chime": "bell", "desktop computer": "computer", "laptop": "computer",
    "notebook": "computer", "computer keyboard": "computer", "cellular telephone": "phone",
    "dial telephone": "phone", "pay-phone": "phone", "dining table": "table", "folding chair": "chair",
    "rocking chair": "chair", "barber chair": "chair", "four-poster": "bed", "park bench": "bench",
    "hatchet": "axe", "apiary": "beehive", "jersey": "shirt", "lab coat": "coat", "fur coat": "coat",
    "trench coat": "coat", "combination lock": "lock", "padlock": "lock", "mortarboard": "graduation",
    "academic gown": "graduation", "mountain tent": "camping", "pool table": "billiard", "quilt": "blanket",
    "shopping basket": "basket", "hamper": "basket", "mailbag": "bag", "plastic bag": "bag", "purse": "bag",
    "punching bag": "boxing", "slot": "casino", "soccer ball": "ball", "tennis ball": "ball", "golf ball": "ball",
    "ping-pong ball": "ball", "volleyball": "ball", "croquet ball": "ball", "football helmet": "football",
    "suspension bridge": "bridge", "steel arch bridge": "bridge", "viaduct": "bridge", "triumphal arch": "arch",
    "toilet seat": "toilet", "toilet tissue": "toilet", "wallet": "billfold", "wardrobe": "closet",
    "carton": "box", "crate": "box", "bearskin": "hat",
}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from model_runtime import runtime_env

    runtime_env.apply()
    import timm

    info = Path(timm.__file__).parent / "data" / "_info"
    synsets = (info / "imagenet_synsets.txt").read_text().split()
    lemmas = dict(line.split("\t", 1) for line in (info / "imagenet_synset_to_lemma.txt").read_text().splitlines())
    labels = [lemmas[s].split(",")[0].strip() for s in synsets]
    if len(labels) != 1000:
        raise SystemExit(f"expected 1000 ImageNet classes, got {len(labels)}")
    from model_runtime.generation import Generator

    vocab = set(Generator.load().vocabulary)
    mapping: dict[int, str] = {}
    for gloss, spans in RANGES.items():
        for a, b in spans:
            mapping.update({i: gloss for i in range(a, b + 1)})
    index = {name: i for i, name in enumerate(labels)}
    problems = [f"no class named {n!r}" for n in BY_NAME if n not in index]
    problems += [f"{g!r} is not a gloss of the shipped model" for g in set(BY_NAME.values()) | set(RANGES)
                 if g not in vocab]
    if problems:
        raise SystemExit("; ".join(problems))
    mapping.update({index[n]: g for n, g in BY_NAME.items()})
    doc = {"about": "ImageNet-1k class names (first WordNet lemma, classifier output order) and the reviewed "
                    "class -> gloss table of the shipped model's vocabulary; written by "
                    "tools/build_imagenet_glosses.py",
           "labels": labels, "glosses": {str(i): mapping[i] for i in sorted(mapping)}}
    OUT.write_text(json.dumps(doc, indent=0, ensure_ascii=False) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(mapping)} of 1000 classes mapped to "
          f"{len(set(mapping.values()))} glosses")
    return 0


if __name__ == "__main__":
    sys.exit(main())
