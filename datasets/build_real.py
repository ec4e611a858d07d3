"""Rebuild the real-image EVALUATION set (real bag x-rays, real product photos) from public repositories.

Evaluation only: never committed, never in CI, never used to train shipped weights. The upstream
datasets (SIXray, GDXray, Caltech-101, ImageNet; Flipkart, Myntra and DummyJSON listing photos
collected from shops) are for research / non-commercial evaluation only.

    python datasets/build_real.py --sources SRC --out datasets/real

SRC holds one folder per repository, named ``owner+name`` (a plain clone, a bare git directory, or a
folder with a ``repo`` clone inside). Files are read at the pinned commit when the folder is a git
repository; a plain folder (an unpacked archive of that commit) is read as is. Output:

    OUT/xray/<category>/<source>__<name>.<ext>        whole bag scans, by what they contain
    OUT/xray/benign/...                                scans the dataset labels as holding none
    OUT/xray_crops/<category>/...                      item crops
    OUT/photo/<category>/...                           product photographs
    OUT/manifest.jsonl                                 one line per image (see datasets/README.md)

Standard library + pillow + numpy only (pillow only checks that every image decodes).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

# ---------------------------------------------------------------------------------------------
# Data: repositories, commits, files and class mappings.
# ---------------------------------------------------------------------------------------------

COMMITS = {
    "Tempsa/SIXray": "720aa4e47ec73fc1066ed88262845430483b4efb",
    "Hariharan112/Anomaly-detection-in-Xray-baggage-scans": "5467f518885321ff4ae2a68d2ee16acc70257d57",
    "iokmikey/Prohibited-Items-Detection_Web": "54a5c3c1b9110043b73084c08b7979734a20c8d0",
    "computervision-xray-testing/pyxvis": "30de3af0edee237ac3fb7838a14d9f156a7e2fa5",
    "MachineLearning2020/Homework2-Caltech101": "836044dd000296b2bb74d0aa4b4e462e459b01d7",
    "EliSchwartz/imagenet-sample-images": "bc69043e2862758a1906c6a24a792bb28c6bb2ff",
    "st120721/Xray-object-detection": "89b712458788277baf979d315c776aadec343861",
    "sruthi0107/Threat-Object-Detection-in-Baggage-Screening": "c7d9615819870d4cdbcc0e24b008c7e55c5f5e84",
    "charlottemllt/Classification-automatique-des-biens-de-consommation": "9303da69c02bfef4f52dd1e54f23a508e6ad98ca",
    "PreetiNalawade/Product-Recommendations-Streamlit-App-": "4a8ab8fefb4ca36913fda0be91ab1a097fcf2a57",
    "Ovi/DummyJSON": "cbc2504d52a3b37728e86bed47d6bd5c5fce464e",
}

# SIXray image-level labels (the official classification split files, positives P*, negatives N*).
SIXRAY_LABELS = ("Tempsa/SIXray", ["data/datasets/X-ray_cls_trainval.csv", "data/datasets/X-ray_cls_test.csv"])
# SIXray class -> taxonomy category. SIXray's sixth class (Hammer) is not in these label files.
SIXRAY_MAP = {
    "Gun": "handgun",
    "Knife": "kitchen_knife",
    "Wrench": "wrench",
    "Pliers": "pliers",
    "Scissors": "scissors",
}
# A scan holding several categories is filed under the first of these it holds (its manifest line
# lists them all in "labels").
PRIMARY_ORDER = ["handgun", "kitchen_knife", "scissors", "wrench", "pliers"]

# iokmikey/Prohibited-Items-Detection_Web weights/img holds 802 SIXray positives, but 721 of them have a
# detector's boxes and class names drawn into the pixels (several boxes contradict the SIXray labels, so
# they are predictions, not annotations): only these 81 without drawn boxes are used.
IOKMIKEY_CLEAN = [
    "P00001", "P00890", "P01279", "P01635", "P01854", "P02106", "P03471", "P03813", "P03839", "P03849",
    "P03952", "P03981", "P04070", "P04080", "P04277", "P04288", "P04339", "P04451", "P04536", "P04572",
    "P04608", "P04613", "P04666", "P04881", "P04910", "P04913", "P04957", "P05081", "P05154", "P05196",
    "P05234", "P05287", "P05328", "P05516", "P05594", "P05616", "P05649", "P05718", "P05727", "P05743",
    "P05949", "P05972", "P05984", "P06005", "P06072", "P06121", "P06122", "P06124", "P06150", "P06333",
    "P06549", "P06741", "P06793", "P06842", "P06889", "P06930", "P07092", "P07098", "P07158", "P07184",
    "P07235", "P07510", "P07528", "P07534", "P07543", "P07613", "P07665", "P07781", "P07840", "P07877",
    "P07903", "P08111", "P08140", "P08339", "P08340", "P08369", "P08437", "P08659", "P08735", "P08766",
    "P08888",
]  # fmt: skip

# SIXray's own box annotations (VOC XML, owner MeioJane) for 1,100 positives, with the scans renamed
# 0000.jpg ... 1099.jpg: dataset/Annotation/NNNN.xml names the SIXray image in <filename> and boxes Gun,
# Knife or Wrench (this "simplified" copy keeps those three classes only). The scans are byte-identical to
# the same SIXray names elsewhere. Where the split-file labels above disagree with a scan's boxes (they
# do for about half of these 1,100, e.g. cleavers labelled Gun), the boxes win: they were checked by eye.
# dataset/test_positiv (401 scans, no annotation) is left out.
SIXRAY_BOXES = (
    "st120721/Xray-object-detection",
    "dataset/Annotation/",
    ["dataset/train/", "dataset/val/", "dataset/test/"],
)
SIXRAY_BOX_MAP = SIXRAY_MAP

# GDXray baggage scans (series B0013-B0048) with VOC boxes drawn by the repository's author: Handgun,
# Knife, RazorBlade, Shuriken. Whole single-energy greyscale scans; razor blades and shuriken have no
# taxonomy category (a scan holding only those is left out; their boxes are dropped).
GDXRAY_VOC = ("sruthi0107/Threat-Object-Detection-in-Baggage-Screening", "dataset/Annotations/", "dataset/JPEGImages/")
GDXRAY_VOC_MAP = {"Handgun": "handgun", "Knife": "kitchen_knife"}

# Caltech-101 photographs, hand-checked: drawings, clip-art, logos, adverts and greyscale images left out.
CALTECH_DIR = "101_ObjectCategories"
CALTECH = {  # Caltech-101 class -> (taxonomy category, image numbers)
    "cellphone": (
        "smartphone",
        "0001 0002 0003 0004 0005 0006 0007 0008 0009 0011 0013 0014 0016 0017 0018 0019 0020 0021 "
        "0022 0023 0024 0025 0026 0027 0028 0029 0031",
    ),
    "headphone": (
        "headphones",
        "0001 0003 0004 0005 0006 0008 0009 0010 0011 0013 0014 0015 0016 0019 0020 0022 0024 0025 "
        "0026 0029 0030 0031 0033 0034 0035 0037",
    ),
    "laptop": (
        "laptop",
        "0001 0002 0004 0005 0006 0007 0008 0009 0010 0011 0012 0013 0014 0015 0016 0017 0018 0019 "
        "0020 0021 0022 0024 0025 0026 0027 0028 0029 0030 0031",
    ),
    "revolver": (
        "handgun",
        "0001 0002 0003 0005 0006 0009 0010 0011 0012 0013 0015 0016 0017 0022 0023 0025 0026 0027 "
        "0029 0030 0031 0032 0033 0035 0038 0039",
    ),
    "scissors": (
        "scissors",
        "0001 0002 0005 0006 0007 0008 0009 0010 0011 0014 0015 0016 0018 0019 0020 0022 0023 0025 "
        "0026 0027 0028 0029 0030 0033 0034 0035 0036 0039",
    ),
    "umbrella": (
        "umbrella",
        "0001 0002 0007 0008 0011 0012 0013 0014 0016 0017 0018 0025 0026 0027 0029 0031 0032",
    ),
    "watch": (
        "watch",
        "0001 0002 0003 0004 0005 0006 0007 0008 0009 0010 0011 0012 0013 0014 0015 0016 0017 0018 "
        "0019 0020 0021 0022 0023 0024 0025 0026 0027 0028 0029 0030",
    ),
    "wrench": (
        "wrench",
        "0001 0008 0012 0013 0016 0018 0019 0021 0027 0028 0029 0030 0031 0032 0036 0037 0039",
    ),
}

# One ImageNet validation photograph per class (hand-checked; cleaver, hand-held computer, wallet, iPod left out).
IMAGENET = {
    "n02992529_cellular_telephone": "smartphone",
    "n03642806_laptop": "laptop",
    "n03492542_hard_disc": "hard_disk",
    "n03197337_digital_watch": "watch",
    "n04120489_running_shoe": "sneakers",
    "n03124043_cowboy_boot": "boots",
    "n04026417_purse": "handbag",
    "n04507155_umbrella": "umbrella",
    "n07248320_book_jacket": "book",
    "n03916031_perfume": "perfume_bottle",
    "n03676483_lipstick": "lipstick",
    "n04557648_water_bottle": "liquid_bottle",
    "n03983396_pop_bottle": "liquid_bottle",
    "n04399382_teddy": "toy",
    "n03666591_lighter": "lighter",
    "n03481172_hammer": "hammer",
    "n04154565_screwdriver": "screwdriver",
    "n04086273_revolver": "handgun",
}

# GDXray baggage series as cut by the pyxvis book code (Mery & Pieringer): class_0 of "threatobjects"
# is handguns (B0049 single guns, B0079 guns among clutter); class_1 shuriken and class_2 razor blades
# have no taxonomy category and are left out. Single-energy greyscale, already cropped around the item.
PYXVIS_GUNS = ["listings/images/threatobjects/train/class_0/", "listings/images/threatobjects/test/class_0/"]

# Listing photographs WITH their listing titles. The category comes from the marketplace's own category
# field, never from the title (the title is what the service reads, so taking the label from it would make
# the title measurement circular); a product whose category field maps to none of these is left out.

# Flipkart (PromptCloud crawl, 2016): the 1,050-product sample used by the OpenClassrooms "Place de marche"
# project, one photo per product in Images/<image>, with product_name (the listing title) and
# product_category_tree ("Watches >> Wrist Watches >> Maxima Wrist Watches"). A product is mapped by the
# longest prefix of its category path listed here. Left out on purpose: "Fragrances >> Deodorants" (65
# aerosol body-spray cans, which are not perfume bottles), "Laptop Accessories >> Batteries" (laptop
# batteries, not power banks), "Watches >> Clocks", "Makeup >> Lips >> Lip Liners", and the rest of the
# sample (home furnishing, baby care, mugs, decor, routers...), which has no taxonomy category.
FLIPKART = (
    "charlottemllt/Classification-automatique-des-biens-de-consommation",
    "flipkart_com-ecommerce_sample_1050.csv",
    "Images/",
)
FLIPKART_MAP = {
    "Watches >> Wrist Watches": "watch",
    "Computers >> Laptops": "laptop",
    "Computers >> Laptop Accessories >> Adapters": "charger",  # laptop power adapters ("Replacement Charger")
    "Computers >> Laptop Accessories >> Laptop Adapters": "charger",
    "Beauty and Personal Care >> Makeup >> Lips >> Lipsticks": "lipstick",
    "Kitchen & Dining >> Containers & Bottles >> Bottles & Sippers": "liquid_bottle",
}

# Myntra catalogue photos (Kaggle "Fashion Product Images", Aggarwal 2019) at full resolution: a 1,099-row
# subset of styles.csv with images/<id>.jpg. Mapped by articleType; "Casual Shoes" (sneakers mixed with
# loafers and boat shoes) and all clothing (worn by models, not folded) are left out.
MYNTRA = ("PreetiNalawade/Product-Recommendations-Streamlit-App-", "styles.csv", "images/")
MYNTRA_MAP = {"Sports Shoes": "sneakers", "Handbags": "handbag", "Water Bottle": "liquid_bottle"}

# DummyJSON's first product catalogue (100 products, photographs collected from shops on the web): the
# first photo of each product (src/data/images/products/<id>/1.*) with its title, mapped by its category.
DUMMYJSON = ("Ovi/DummyJSON", "src/data/products.json", "src/data/images/products/")
DUMMYJSON_MAP = {
    "smartphones": "smartphone",
    "laptops": "laptop",
    "fragrances": "perfume_bottle",
    "mens-watches": "watch",
    "womens-watches": "watch",
    "womens-bags": "handbag",
}

# models/encoders/taxonomy.py CATEGORIES (copied so that the script stays self-contained)
CATEGORIES = [
    *("smartphone", "laptop", "tablet", "headphones", "watch", "power_bank", "charger", "sneakers", "boots"),
    *("handbag", "folded_clothing", "book", "perfume_bottle", "lipstick", "liquid_bottle", "toy", "kitchen_knife"),
    *("scissors", "wrench", "pliers", "hammer", "screwdriver", "umbrella", "hard_disk", "lighter", "handgun"),
]

# ---------------------------------------------------------------------------------------------
# Reading a source repository (git at the pinned commit, or a plain folder).
# ---------------------------------------------------------------------------------------------


class Source:
    def __init__(self, root: Path, repo: str):
        self.repo, self.commit = repo, COMMITS[repo]
        base = root / repo.replace("/", "+")
        self.git: Path | None = None
        self.tree: Path | None = None
        for cand in (base, base / "repo", base / ".git", base / "repo" / ".git"):
            if (cand / "HEAD").is_file() and (cand / "objects").is_dir():
                self.git = cand
                break
        if self.git is None:
            for cand in (base, base / "repo"):
                if cand.is_dir():
                    self.tree = cand
                    break
        if self.git is None and self.tree is None:
            raise FileNotFoundError(f"{repo}: no folder {base} (clone it at {self.commit})")
        self.note = ""
        if self.git is not None:
            ok = subprocess.run(
                ["git", "--git-dir", str(self.git), "cat-file", "-e", f"{self.commit}^{{commit}}"],
                capture_output=True,
            )
            if ok.returncode != 0:
                raise RuntimeError(f"{repo}: commit {self.commit} is not in {self.git}; fetch it")
        else:
            self.note = " (plain folder: commit not checked)"

    def list(self, prefix: str) -> list[str]:
        if self.git is not None:
            out = subprocess.run(
                ["git", "--git-dir", str(self.git), "ls-tree", "-r", "--name-only", self.commit, "--", prefix],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            return sorted(p for p in out.splitlines() if p)
        assert self.tree is not None
        top = self.tree / prefix
        if top.is_file():
            return [prefix]
        return sorted(str(p.relative_to(self.tree)) for p in top.rglob("*") if p.is_file()) if top.is_dir() else []

    def read(self, path: str) -> bytes:
        if self.git is not None:
            return subprocess.run(
                ["git", "--git-dir", str(self.git), "cat-file", "blob", f"{self.commit}:{path}"],
                capture_output=True, check=True,
            ).stdout  # fmt: skip
        assert self.tree is not None
        return (self.tree / path).read_bytes()

    def ref(self, path: str) -> str:
        return f"{self.repo}@{self.commit}:{path}"


# ---------------------------------------------------------------------------------------------
# Building.
# ---------------------------------------------------------------------------------------------


class Builder:
    def __init__(self, out: Path):
        self.out = out
        self.records: list[dict] = []
        self.seen_hash: dict[str, str] = {}
        self.seen_key: set[str] = set()
        self.skipped: Counter = Counter()

    def add(self, src: Source, path: str, *, modality: str, kind: str, category: str, tag: str,
            labels: list[str] | None = None, key: str | None = None, boxes: list[list] | None = None,
            title: str = "") -> bool:  # fmt: skip
        if key is not None and key in self.seen_key:
            self.skipped[f"{tag}: same dataset image already taken from another repository"] += 1
            return False
        data = src.read(path)
        if len(data) == 0:
            self.skipped[f"{tag}: empty file (LFS pointer or missing blob)"] += 1
            return False
        digest = hashlib.sha256(data).hexdigest()
        if digest in self.seen_hash:
            self.skipped[f"{tag}: byte-identical duplicate"] += 1
            return False
        try:
            from PIL import Image

            with Image.open(io.BytesIO(data)) as im:
                im.verify()
        except Exception:  # noqa: BLE001 - any decoding failure means the file is unusable
            self.skipped[f"{tag}: does not decode as an image"] += 1
            return False
        folder = {"whole": "xray", "crop": "xray_crops", "photo": "photo"}[kind]
        name = path.rsplit("/", 1)[-1]
        rel = f"{folder}/{category}/{tag}__{name}"
        dest = self.out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        rec: dict[str, object] = {"path": rel, "modality": modality, "category": category}
        rec.update(source=src.ref(path), kind=kind)
        if labels is not None:
            rec["labels"] = labels
        if boxes:
            rec["boxes"] = boxes
        if title:
            rec["title"] = title
        self.records.append(rec)
        self.seen_hash[digest] = rel
        if key is not None:
            self.seen_key.add(key)
        return True


def sixray_labels(src: Source) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for path in SIXRAY_LABELS[1]:
        for row in csv.DictReader(io.StringIO(src.read(path).decode("utf-8"))):
            labels[row["name"]] = [SIXRAY_MAP[c] for c in SIXRAY_MAP if row[c].strip() == "1"]
    return labels


def voc(data: bytes, mapping: dict[str, str]) -> tuple[str, tuple[int, int], list[list]]:
    """A VOC annotation: <filename>, (width, height) and the boxes of mapped classes, in file order."""
    root = ET.fromstring(data)
    size = (int(root.findtext("size/width") or 0), int(root.findtext("size/height") or 0))
    boxes: list[list] = []
    for obj in root.iter("object"):
        cat = mapping.get((obj.findtext("name") or "").strip())
        box = obj.find("bndbox")
        if cat is None or box is None:
            continue
        coords = [float(box.findtext(k) or "nan") for k in ("xmin", "ymin", "xmax", "ymax")]
        boxes.append([*coords, cat])
    return (root.findtext("filename") or "").strip(), size, boxes


def sixray_boxes(src: Source) -> dict[str, tuple[str, tuple[int, int], list[list]]]:
    """SIXray name -> (scan path in the repository, (width, height), boxes)."""
    images = {p.rsplit("/", 1)[-1].rsplit(".", 1)[0]: p for prefix in SIXRAY_BOXES[2] for p in src.list(prefix)}
    out = {}
    for path in src.list(SIXRAY_BOXES[1]):
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if stem not in images:
            continue
        filename, size, boxes = voc(src.read(path), SIXRAY_BOX_MAP)
        out[filename.rsplit(".", 1)[0]] = (images[stem], size, boxes)
    return out


def flipkart_category(tree: str) -> str | None:
    """The taxonomy category of a Flipkart category tree ('["A >> B >> C"]'): its longest mapped prefix."""
    path = [part.strip() for part in json.loads(tree)[0].split(">>")]
    for n in range(len(path), 0, -1):
        cat = FLIPKART_MAP.get(" >> ".join(path[:n]))
        if cat is not None:
            return cat
    return None


def box_labels(boxes: list[list]) -> list[str]:
    return [c for c in PRIMARY_ORDER if any(b[4] == c for b in boxes)]


def primary(cats: list[str]) -> str:
    return next(c for c in PRIMARY_ORDER if c in cats)


def build(sources: Path, out: Path) -> list[dict]:
    if out.exists():
        for sub in ("xray", "xray_crops", "photo"):
            shutil.rmtree(out / sub, ignore_errors=True)
        (out / "manifest.jsonl").unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    b = Builder(out)

    def progress(src: Source, what: str, before: int) -> None:
        print(f"[{src.repo}@{src.commit[:10]}]{src.note} {what}: {len(b.records) - before} images", flush=True)

    lab_src = Source(sources, SIXRAY_LABELS[0])
    labels = sixray_labels(lab_src)
    print(f"[{lab_src.repo}@{lab_src.commit[:10]}]{lab_src.note} SIXray labels: {len(labels)} image names", flush=True)
    box_src = Source(sources, SIXRAY_BOXES[0])
    boxed = sixray_boxes(box_src)
    # A boxed scan is filed under its boxes' class. Its labels are the boxes' classes plus the split
    # file's when the split file names at least one boxed class; when it names none, it is wrong for
    # that scan (checked by eye) and only the boxes' classes are kept.
    filed: dict[str, str] = {}
    wrong = 0
    for name, (_, _, boxes) in boxed.items():
        in_boxes = box_labels(boxes)
        if not in_boxes:
            continue
        listed = labels.get(name, [])
        if not set(in_boxes) & set(listed):
            wrong += 1
            listed = []
        labels[name] = [c for c in PRIMARY_ORDER if c in in_boxes or c in listed]
        filed[name] = primary(in_boxes)
    print(f"[{box_src.repo}@{box_src.commit[:10]}]{box_src.note} SIXray box annotations: {len(boxed)} scans; "
          f"the split files name none of the boxed classes for {wrong} of them", flush=True)  # fmt: skip

    def boxes_for(src: Source, path: str, stem: str) -> list[list] | None:
        """The SIXray boxes of `stem` when its scan here has the annotated size (else none)."""
        if stem not in boxed:
            return None
        from PIL import Image

        with Image.open(io.BytesIO(src.read(path))) as im:
            return boxed[stem][2] if im.size == boxed[stem][1] else None

    # SIXray positives and negatives (Hariharan112), positives without drawn boxes (iokmikey).
    src = Source(sources, "Hariharan112/Anomaly-detection-in-Xray-baggage-scans")
    n0 = len(b.records)
    for path in src.list("datasets/sixray/input/"):
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if not path.endswith(".jpg"):
            continue
        cats = labels.get(stem)
        if not cats:
            b.skipped["sixray-h112: no SIXray label"] += 1
            continue
        b.add(src, path, modality="xray", kind="whole", category=filed.get(stem) or primary(cats), labels=cats,
              tag="sixray-h112", key=f"sixray:{stem}", boxes=boxes_for(src, path, stem))  # fmt: skip
    for path in src.list("datasets/sixray/train_data/normal/"):
        stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        b.add(src, path, modality="xray", kind="whole", category="benign", labels=[], tag="sixray-h112",
              key=f"sixray:{stem}")  # fmt: skip
    progress(src, "SIXray whole scans (positives labelled by the SIXray split files; negatives)", n0)

    src = Source(sources, "iokmikey/Prohibited-Items-Detection_Web")
    n0 = len(b.records)
    for stem in IOKMIKEY_CLEAN:
        cats = labels.get(stem)
        if not cats:
            b.skipped["sixray-iok: no SIXray label"] += 1
            continue
        path = f"weights/img/{stem}.jpg"
        b.add(src, path, modality="xray", kind="whole", category=filed.get(stem) or primary(cats), labels=cats,
              tag="sixray-iok", key=f"sixray:{stem}", boxes=boxes_for(src, path, stem))  # fmt: skip
    progress(src, "SIXray whole scans without drawn boxes", n0)

    src = box_src
    n0 = len(b.records)
    for stem in sorted(boxed):
        path = boxed[stem][0]
        if stem not in filed:
            b.skipped["sixray-st: no box of a mapped class"] += 1
            continue
        b.add(src, path, modality="xray", kind="whole", category=filed[stem], labels=labels[stem],
              tag="sixray-st", key=f"sixray:{stem}", boxes=boxes_for(src, path, stem))  # fmt: skip
    progress(src, "SIXray whole scans with SIXray's boxes", n0)

    src = Source(sources, GDXRAY_VOC[0])
    n0 = len(b.records)
    for path in src.list(GDXRAY_VOC[1]):
        if not path.endswith(".xml"):
            continue
        filename, _, gd_boxes = voc(src.read(path), GDXRAY_VOC_MAP)
        cats = box_labels(gd_boxes)
        if not cats:
            b.skipped["gdxray-sruthi: only razor blades / shuriken (no taxonomy category)"] += 1
            continue
        stem = filename.rsplit(".", 1)[0]
        b.add(src, f"{GDXRAY_VOC[2]}{filename}", modality="xray", kind="whole", category=primary(cats),
              labels=cats, tag="gdxray-sruthi", key=f"gdxray:{stem}", boxes=gd_boxes)  # fmt: skip
    progress(src, "GDXray whole baggage scans with boxes (greyscale)", n0)

    src = Source(sources, "computervision-xray-testing/pyxvis")
    n0 = len(b.records)
    for prefix in PYXVIS_GUNS:
        for path in src.list(prefix):
            if path.lower().endswith((".jpg", ".png")):
                b.add(src, path, modality="xray", kind="crop", category="handgun", labels=["handgun"],
                      tag="gdxray-pyxvis")  # fmt: skip
    progress(src, "GDXray handgun crops (greyscale)", n0)

    src = Source(sources, "MachineLearning2020/Homework2-Caltech101")
    n0 = len(b.records)
    for cls, (cat, numbers) in CALTECH.items():
        for num in numbers.split():
            b.add(src, f"{CALTECH_DIR}/{cls}/image_{num}.jpg", modality="photo", kind="photo", category=cat,
                  tag=f"caltech101-{cls}")  # fmt: skip
    progress(src, "Caltech-101 photographs", n0)

    src = Source(sources, "EliSchwartz/imagenet-sample-images")
    n0 = len(b.records)
    for stem, cat in IMAGENET.items():
        b.add(src, f"{stem}.JPEG", modality="photo", kind="photo", category=cat, tag="imagenet-sample")
    progress(src, "ImageNet sample photographs", n0)

    # Listing photographs with their titles, mapped by the marketplace's own category field.
    src = Source(sources, FLIPKART[0])
    n0 = len(b.records)
    for row in csv.DictReader(io.StringIO(src.read(FLIPKART[1]).decode("utf-8"))):
        fk_cat = flipkart_category(row["product_category_tree"])
        if fk_cat is None:
            b.skipped["flipkart1050: category path maps to no taxonomy category"] += 1
            continue
        b.add(src, f"{FLIPKART[2]}{row['image']}", modality="photo", kind="photo", category=fk_cat,
              tag="flipkart1050", title=" ".join(row["product_name"].split()))  # fmt: skip
    progress(src, "Flipkart listing photos with titles", n0)

    src = Source(sources, MYNTRA[0])
    n0 = len(b.records)
    have = set(src.list(MYNTRA[2]))
    styles = csv.reader(io.StringIO(src.read(MYNTRA[1]).decode("utf-8")))
    next(styles)
    for fields in styles:
        my_cat = MYNTRA_MAP.get(fields[4]) if len(fields) >= 10 else None
        if my_cat is None:
            b.skipped["myntra: articleType maps to no taxonomy category"] += 1
            continue
        path = f"{MYNTRA[2]}{fields[0]}.jpg"
        if path not in have:
            b.skipped["myntra: listed in styles.csv, no image in the repository"] += 1
            continue
        title = " ".join(",".join(fields[9:]).split())  # a title may hold commas
        b.add(src, path, modality="photo", kind="photo", category=my_cat, tag="myntra", title=title)
    progress(src, "Myntra catalogue photos with titles", n0)

    src = Source(sources, DUMMYJSON[0])
    n0 = len(b.records)
    for product in json.loads(src.read(DUMMYJSON[1])):
        dj_cat = DUMMYJSON_MAP.get(product["category"])
        if dj_cat is None:
            b.skipped["dummyjson: category maps to no taxonomy category"] += 1
            continue
        if not product.get("images"):
            b.skipped["dummyjson: product without a photo"] += 1
            continue
        name = product["images"][0].rsplit("/", 1)[-1]
        b.add(src, f"{DUMMYJSON[2]}{product['id']}/{name}", modality="photo", kind="photo", category=dj_cat,
              tag=f"dummyjson-{product['id']}", title=" ".join(product["title"].split()))  # fmt: skip
    progress(src, "DummyJSON shop photos with titles", n0)

    bad = {r["category"] for r in b.records} - set(CATEGORIES) - {"benign"}
    if bad:
        raise SystemExit(f"categories outside the taxonomy: {sorted(bad)}")
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as fh:
        for rec in b.records:
            fh.write(json.dumps(rec, sort_keys=False) + "\n")
    for why, n in sorted(b.skipped.items()):
        print(f"skipped {n:4d}  {why}")
    return b.records


def summary(records: list[dict]) -> str:
    table: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        table[r["category"]][r["kind"]] += 1
        if r.get("boxes"):
            table[r["category"]]["with_boxes"] += 1
        if r["kind"] == "whole":
            for extra in r.get("labels", []):
                if extra != r["category"]:
                    table[extra]["also_in_whole"] += 1
    kinds = ["whole", "crop", "photo", "also_in_whole", "with_boxes"]
    lines = ["| category | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for cat in [c for c in CATEGORIES + ["benign"] if c in table]:
        lines.append(f"| {cat} | " + " | ".join(str(table[cat][k]) for k in kinds) + " |")
    tot = Counter(r["kind"] for r in records)
    boxed = sum(1 for r in records if r.get("boxes"))
    lines.append("| **total** | " + " | ".join(str(tot[k]) for k in kinds[:3]) + f" | | {boxed} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=Path, required=True, help="folder with one owner+name folder per repository")
    ap.add_argument("--out", type=Path, required=True, help="output folder (datasets/real)")
    args = ap.parse_args(argv)
    records = build(args.sources, args.out)
    print(summary(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
