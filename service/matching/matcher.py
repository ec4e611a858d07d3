"""The matching engine the service holds in app.state: networks, indexes, embedder, calibration, thread pools."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.orm import Session, sessionmaker

from models.encoders.encoder import Encoder
from models.encoders.listing_words import ListingWords
from models.encoders.photo_categories import ImageNetPhotoCategories
from models.encoders.sentences import SentenceEncoder
from models.encoders.taxonomy import TAXONOMY
from service.db.engine import make_engine, make_session_factory
from service.domain.images import ImageStore
from service.matching import calibration, familiarity, labelled, models, overlays
from service.matching.calibration import CalibrationSet
from service.matching.embedder import Embedder
from service.matching.familiarity import Familiarity
from service.matching.gallery_store import PHOTOS, GalleryStore
from service.matching.indexes import IndexSet
from service.settings import Matching, Settings

if TYPE_CHECKING:
    from service.matching.refresh import RefreshQueue

log = structlog.get_logger("scanmatch.matcher")


@dataclass(frozen=True)
class Networks:
    """The loaded networks; shareable between apps (tests build them once)."""

    encoder: Encoder
    sentences: SentenceEncoder
    familiarity: Encoder  # the embedding space familiarity is measured in
    gallery: Encoder  # the embedding space the labelled x-ray and listing-photo galleries are searched in
    photo_categories: ImageNetPhotoCategories | None = None
    listing_words: ListingWords | None = None  # the listing's own words read as categories

    @classmethod
    def load(cls, settings: Settings) -> Networks:
        m = settings.matching
        loaded: dict[str, Encoder] = {}

        def named(name: str) -> Encoder:  # each network once, whatever roles share it
            if name not in loaded:
                loaded[name] = models.load(settings, name)
            return loaded[name]

        encoder = named(m.encoder)
        classifier = ImageNetPhotoCategories(encoder.placement) if m.photo_classifier else None
        sentences = SentenceEncoder(encoder.placement)
        return cls(
            encoder=encoder,
            sentences=sentences,
            familiarity=named(m.familiarity_encoder),
            gallery=named(m.gallery_encoder),
            photo_categories=classifier,
            listing_words=ListingWords(sentences) if m.listing_words else None,
        )


class Matcher:
    def __init__(
        self, *, networks: Networks, settings: Settings, sessions: sessionmaker[Session], store: ImageStore
    ) -> None:
        self.networks = networks
        self.encoder = networks.encoder
        self.settings = settings.matching
        self.sessions = sessions
        self._worker_engine = make_engine(settings.resolved_database_url, pool_size=2)
        self.indexes = IndexSet(
            settings.index_dir,
            model_sha256=self.encoder.identity,
            dim=self.encoder.dim,
            exact_max=settings.matching.exact_index_max,
        )
        self.gallery = GalleryStore(
            encoder=networks.gallery,
            sessions=sessions,
            store=store,
            index_dir=settings.index_dir,
            exact_max=settings.matching.exact_index_max,
            k=settings.matching.gallery_k,
            prior=settings.matching.gallery_prior,
        )
        self.photo_gallery = GalleryStore(
            encoder=networks.gallery,
            sessions=sessions,
            store=store,
            index_dir=settings.index_dir,
            exact_max=settings.matching.exact_index_max,
            k=settings.matching.photo_gallery_k,
            prior=settings.matching.photo_gallery_prior,
            kind=PHOTOS,
        )
        self.embedder = Embedder(
            encoder=self.encoder,
            # Its own connection pool: requests that wait for an embedding hold connections from the
            # shared pool, and the worker that produces the embedding must never queue behind them.
            sessions=make_session_factory(self._worker_engine),
            store=store,
            indexes=self.indexes,
            max_batch_size=settings.matching.max_batch_size,
            max_wait_ms=settings.matching.max_wait_ms,
        )
        # The text tower's embedding of each category's name, for zero-shot categories (categories.py).
        self.categories = tuple(c for c in TAXONOMY)
        self.prompts = (
            self.encoder.embed_texts([TAXONOMY[c].label for c in self.categories]) if self.encoder.has_text else None
        )
        self.overlays = overlays.OverlayStore(settings.data_dir / overlays.FOLDER)  # service.matching.where_to_look
        self._calibration: CalibrationSet | None = None
        self._familiarity: dict[str, Familiarity] | None = None
        self.catch_up: threading.Thread | None = None
        self.stopping = threading.Event()  # set by close: long jobs (the catch-up) end between chunks
        # Verdict refreshes wait on the embedding worker: their own threads, so they never tie up the
        # threads that serve requests. Imported here: refresh reads verdicts, which read this module.
        from service.matching import refresh

        self.refresher: RefreshQueue = refresh.queue_for(self)

    def backlog(self) -> int:
        with self.sessions() as session:
            return len(self.embedder.missing(session))

    @property
    def calibration(self) -> CalibrationSet:
        if self._calibration is None:
            with self.sessions() as session:
                self._calibration = calibration.latest(session, self.encoder.identity)
            if self._calibration is None:
                raise RuntimeError(f"no calibration for model {self.encoder.version}: run `scanmatch calibrate` first")
        return self._calibration

    def use_calibration(self, params: CalibrationSet) -> None:
        self._calibration = params

    @property
    def familiarity(self) -> dict[str, Familiarity]:
        """Per modality, the embeddings this model is known to handle and the threshold fitted on them."""
        if self._familiarity is None:
            with self.sessions() as session:
                self._familiarity = familiarity.latest(session, self.networks.familiarity.identity)
            if self._familiarity is None:
                raise RuntimeError(
                    f"no familiarity references in {self.networks.familiarity.version}: restart the service"
                )
        return self._familiarity

    def use_familiarity(self, known: dict[str, Familiarity]) -> None:
        self._familiarity = known

    def close(self) -> None:
        """Stop within seconds: running refreshes and batches finish, queued work stays owed in the database."""
        self.stopping.set()
        self.refresher.close(timeout=10)
        if self.catch_up is not None:
            self.catch_up.join(timeout=10)
        self.embedder.close()
        self.gallery.index.save()
        self.photo_gallery.index.save()
        self._worker_engine.dispose()


def start(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    store: ImageStore,
    networks: Networks | None,
    phase: Callable[[str], None] = lambda _phase: None,
) -> Matcher:
    """Load (or take) the networks, open the indexes, fit what the model lacks, catch up in the background.

    `phase` hears each step as it begins ("loading models", "calibrating"), for readiness probes.
    """
    phase("loading models")
    matcher = Matcher(networks=networks or Networks.load(settings), settings=settings, sessions=sessions, store=store)
    m, space = settings.matching, matcher.networks.familiarity
    phase("calibrating")
    with sessions() as session:
        params = ensure_calibration(session, matcher.encoder, m)
        known = familiarity.latest(session, space.identity)
        if known is None:
            log.info("no familiarity references yet: embedding generated shipments", space=space.version)
            shipments = labelled.generated(space, n=m.calibration_pairs, seed=m.calibration_seed)
            known = familiarity.fit_all(
                shipments.photos,
                shipments.xrays,
                k=m.familiarity_k,
                quantile=m.familiarity_quantile,
                source="generated",
            )
            familiarity.save(session, model_sha256=space.identity, familiarity=known)
    matcher.use_calibration(params)
    matcher.use_familiarity(known)
    matcher.refresher.start()
    matcher.catch_up = threading.Thread(target=_catch_up, args=(matcher,), name="reconcile", daemon=True)
    matcher.catch_up.start()
    return matcher


def ensure_calibration(session: Session, encoder: Encoder, m: Matching, *, progress: bool = False) -> CalibrationSet:
    """The model's latest calibration; fitted on generated pairs (and saved) when it has none yet."""
    params = calibration.latest(session, encoder.identity)
    if params is None:
        log.info("no calibration for this model yet: fitting on generated pairs", model=encoder.version)
        cosines, labels = labelled.generated_pairs(
            encoder, n=m.calibration_pairs, seed=m.calibration_seed, progress=progress
        )
        params = calibration.fit(cosines, labels, target_false_alarm_rate=m.target_false_alarm_rate, source="generated")
        calibration.save(session, model_sha256=encoder.identity, calibration=params)
    return params


def _catch_up(matcher: Matcher) -> None:
    try:
        stop = matcher.stopping
        result = (
            matcher.embedder.reconcile(stop=stop)
            | matcher.gallery.reconcile(stop=stop)
            | matcher.photo_gallery.reconcile(stop=stop)
        )
        log.info("indexes agree with the database", **result)
    except Exception:  # the service keeps serving; `scanmatch reindex` repairs offline
        log.exception("catching up embeddings failed; run `scanmatch reindex`")
