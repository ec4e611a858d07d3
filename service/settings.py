"""Runtime configuration: one Settings class, read from SCANMATCH_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ImageLimits(BaseModel):
    # 25 MB covers a 16-bit 4k x 3k scanner export; larger uploads are refused before decoding.
    max_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    # Well under Pillow's own decompression-bomb threshold (~89 MP), so we refuse first, clearly.
    max_pixels: int = Field(default=40_000_000, gt=0)


class Matching(BaseModel):
    enabled: bool = True
    # The served photo / x-ray / text model: a name in models.encoders.registry, the shipped artifact or one
    # trained for the operator in `models_dir`. Embeddings, indexes and calibration are kept per model, so
    # `scanmatch reindex --model NAME` prepares another while this one serves, and changing this switches.
    encoder: str = "scanmatch-effl0-minilm"
    device: str | None = None  # None: CUDA when present, else CPU
    max_batch_size: int = Field(default=16, ge=1)
    max_wait_ms: float = Field(default=10.0, ge=0)
    # Load the networks and calibrate on a thread: /healthz answers at once, /readyz says "calibrating"
    # and the matching routes answer 503 until matching is ready (a liveness probe must not kill a
    # process that is warming up). Off: the process answers nothing until matching is ready.
    start_in_background: bool = True
    # Verdict refreshes queued in memory, one per shipment however many filings it gets; past this,
    # shipments wait in the database (their verdict is missing) and are swept up when there is room,
    # so memory stays bounded under any intake and nothing is lost (service.matching.refresh).
    refresh_queue_max: int = Field(default=10_000, ge=1)
    # When the oldest verdict still owed has waited this long, receipts say verdicts are delayed.
    delayed_after_s: float = Field(default=60.0, gt=0)
    # False-alarm rate: the share of shipments whose contents do match that may be called mismatch.
    target_false_alarm_rate: float = Field(default=0.05, gt=0, lt=0.5)
    # Exact (flat) FAISS search up to this many vectors per index; a compressed IVF-PQ index past it.
    exact_index_max: int = Field(default=50_000, ge=1)
    neighbours: int = Field(default=5, ge=1, le=50)
    # With no calibration recorded for the model, fit one on this many generated pairs at start-up.
    calibration_pairs: int = Field(default=400, ge=20)
    # Generated calibration data uses a seed no training run or held-out evaluation uses.
    calibration_seed: int = 11
    # Name a listing's category from the product picture with the untouched ImageNet classifier where
    # it is sure (models.encoders.photo_categories): the trained photo tower misnames real photos.
    photo_classifier: bool = True
    # Read the listing's own words (its enhanced description) as a category with the untouched
    # sentence encoder (models.encoders.listing_words), fused with the picture's reading: the
    # trained text tower learned the generator's listings, not real titles.
    listing_words: bool = True
    # An image is unfamiliar when its k-th nearest known embedding lies below the cosine that all but
    # this share of held-out generated images reach (service.matching.familiarity), in the embedding
    # space of this encoder: the untouched ImageNet one, as the trained towers map real scans onto
    # generated ones (docs/evaluation/unfamiliar-images).
    familiarity_encoder: str = "imagenet-effl0"
    familiarity_k: int = Field(default=5, ge=1, le=50)
    familiarity_quantile: float = Field(default=0.01, gt=0, lt=0.5)
    # The labelled x-ray gallery (service.matching.gallery) is searched in this encoder's space: on
    # real scans the untouched ImageNet tower's mid-level features name a scan's category from its
    # labelled neighbours far better than the trained one (docs/evaluation/real-images). The same
    # name as familiarity_encoder (or encoder) loads the network once, and reads a scan in one pass.
    gallery_encoder: str = "imagenet-effl0"
    gallery_k: int = Field(default=10, ge=1, le=100)  # nearest labelled scans a verdict lists
    # The gallery's reading of a category, and of each item of concern, weighs n / (n + gallery_prior)
    # for its n labelled scans (5: half weight at 5 scans, 0.8 at 20); the rest is the model's own.
    gallery_prior: float = Field(default=5.0, gt=0)
    # The labelled listing-photo gallery (models.encoders.photo_gallery), in the gallery encoder's
    # space: its k nearest labelled photos' vote is a third reading of a listing's category, beside
    # the listing's words and the ImageNet classifier, weighted n / (n + photo_gallery_prior).
    photo_gallery_k: int = Field(default=10, ge=1, le=100)
    photo_gallery_prior: float = Field(default=20.0, gt=0)
    # A listing's product picture joins the photo gallery, labelled by the listing's own words, when
    # the words name the category with at least this probability and the ImageNet classifier does not
    # name another with P >= 0.5 (models.encoders.photo_categories.SURE_FROM).
    photo_gallery_words_from: float = Field(default=0.95, gt=0, le=1)


class Console(BaseModel):
    # How long a console sign-in lasts; revoking the key ends its sessions sooner.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Mark the session cookie Secure (sent over HTTPS only): set true wherever the console is served over TLS.
    secure_cookie: bool = False
    page_size: int = Field(default=25, ge=1, le=500)  # shipments per queue page


class Retention(BaseModel):
    """How long shipment data is kept, in days; None keeps it. `scanmatch purge` applies it (README: Data retention).

    The PIA (section 5.1) keeps Section 321 records as permanent records until a NARA-approved retention
    schedule exists, so nothing expires by default: an operator sets the schedule's periods here. A shipment
    under an enforcement hold (PIA 5.1: records linked to a law enforcement matter) is kept, with its images,
    until the hold is released, whatever these say.
    """

    # A shipment, with its filings, identifiers, verdict and examinations, goes this long after its last filing.
    filings_days: int | None = Field(default=None, ge=0)
    # A filing's images (and what is derived from them: embeddings, index entries, labelled-gallery rows of
    # filed images, where-to-look overlays) go this long after the filing was received; None: with the filing.
    images_days: int | None = Field(default=None, ge=0)
    # Audit records go this long after they were written (None: permanent, as the records they account for).
    audit_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _images_go_with_their_filing(self) -> Retention:
        if self.filings_days is not None and self.images_days is not None and self.images_days > self.filings_days:
            raise ValueError(
                f"images_days ({self.images_days}) is longer than filings_days ({self.filings_days}): a filing's "
                "images go with it, so they cannot be kept longer; set images_days to at most filings_days"
            )
        return self

    @property
    def keeps_everything(self) -> bool:
        return self.filings_days is None and self.images_days is None and self.audit_days is None


class Settings(BaseSettings):
    """Everything the service reads from its environment (prefix SCANMATCH_, nesting with __)."""

    model_config = SettingsConfigDict(env_prefix="SCANMATCH_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    # Artifacts trained for this operator (`python -m models.train ... --artifact DIR/NAME`), each folder
    # a model named after it; default `$SCANMATCH_DATA_DIR/models`.
    models_dir: Path | None = None
    images: ImageLimits = ImageLimits()
    matching: Matching = Matching()
    console: Console = Console()
    retention: Retention = Retention()
    auto_migrate: bool = True
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "json"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'scanmatch.db').resolve()}"

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "indexes"

    @property
    def model_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else self.data_dir / "models"


@lru_cache
def get_settings() -> Settings:
    return Settings()
