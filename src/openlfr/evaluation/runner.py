"""One evaluation run: load the data, embed it once (cached), run the protocols, collect results.

:class:`~openlfr.evaluation.options.EvaluationOptions` says what to run; the
names it defines are re-exported here for callers of the runner.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from openlfr.evaluation.analysis import (
    StatsOptions,
    groupings,
    open_set_report,
    split_grouping,
    verification_report,
)
from openlfr.evaluation.cache import EmbeddingCache, ExtractionSettings
from openlfr.evaluation.caveats import caveats_for
from openlfr.evaluation.datasets import (
    DatasetError,
    LabelledDataset,
    RowProblem,
    load_dataset,
    read_aliases,
    read_pairs,
    read_video_list,
    require_rows,
)
from openlfr.evaluation.estimates import Metric, group_rates, rate_curve
from openlfr.evaluation.extraction import DecodeLimits, extract_faces
from openlfr.evaluation.faces import AcquisitionStatus, FaceRule, ImageFaces
from openlfr.evaluation.identification import (
    OpenSetScores,
    OpenSetSplit,
    score_open_set,
    split_open_set,
)
from openlfr.evaluation.options import (
    DEFAULT_REPORT_THRESHOLDS,
    EvaluationOptions,
    ProgressFactory,
    Protocol,
    sweep_thresholds,
)
from openlfr.evaluation.results import (
    CrossSetScreen,
    DatasetSummary,
    EvaluationReport,
    ModelInfo,
)
from openlfr.evaluation.screening import read_review, screen_cross_set, split_reviewed
from openlfr.evaluation.verification import score_pairs
from openlfr.evaluation.video import VideoError, VideoReport, sample_clip, video_report
from openlfr.services import Services

__all__ = [
    "DEFAULT_REPORT_THRESHOLDS",
    "EmbeddedDataset",
    "EvaluationOptions",
    "Evaluator",
    "OpenSetInputs",
    "ProgressFactory",
    "Protocol",
    "sweep_thresholds",
]
from openlfr.types import FloatArray
from openlfr.watchlist.gallery import Gallery


@dataclass(frozen=True, slots=True)
class EmbeddedDataset:
    """A dataset with the faces found in each of its images."""

    data: LabelledDataset
    faces: tuple[ImageFaces, ...]
    pad: float

    def embeddings(self, rule: FaceRule) -> list[FloatArray | None]:
        return [f.labelled_embedding(rule) for f in self.faces]


def openlfr_version() -> str:
    try:
        return version("openlfr")
    except PackageNotFoundError:
        return "unknown"


class Evaluator:
    """Runs evaluations with one set of services (models, data key, configuration)."""

    def __init__(self, services: Services, progress: ProgressFactory | None = None) -> None:
        self._svc = services
        self._progress = progress
        self.cache_hits = 0
        self.cache_misses = 0

    @property
    def cache_root(self) -> Path:
        return self._svc.settings.home / "cache" / "embeddings"

    def embed(
        self, data: LabelledDataset, *, pad: float, use_cache: bool = True
    ) -> EmbeddedDataset:
        """Faces for every image of ``data``, from the cache where possible."""
        pack = self._svc.pack
        settings = self._svc.settings
        cache = None
        if use_cache:
            extraction = ExtractionSettings.from_config(
                pack.model_id, pack.name, settings.detector, pad
            )
            cache = EmbeddingCache(self.cache_root, self._svc.cipher, extraction)
        limits = DecodeLimits(settings.enrolment.max_bytes, settings.enrolment.max_pixels)
        callback = self._progress(f"faces in {data.name}", len(data)) if self._progress else None
        faces = extract_faces(
            pack,
            [img.path for img in data.images],
            cache=cache,
            pad=pad,
            limits=limits,
            progress=callback,
        )
        if cache is not None:
            self.cache_hits += cache.hits
            self.cache_misses += cache.misses
        return EmbeddedDataset(data, tuple(faces), pad)

    def load(self, options: EvaluationOptions) -> tuple[EmbeddedDataset, EmbeddedDataset | None]:
        """Read and check the datasets the options name, then find their faces."""
        aliases = read_aliases(options.aliases) if options.aliases else None
        main = require_rows(
            load_dataset(options.dataset, options.labels, aliases=aliases, exclude=options.exclude),
            "dataset",
        )
        other = (
            require_rows(
                load_dataset(
                    options.nonmated_dataset, options.nonmated_labels, exclude=options.exclude
                ),
                "non-mated dataset",
            )
            if options.nonmated_dataset is not None
            else None
        )
        available = set(main.attribute_columns) | set(other.attribute_columns if other else ())
        wanted = [c for g in options.groups for c in split_grouping(g)]
        wanted += [c for c, _ in options.exclude]
        unknown = [c for c in dict.fromkeys(wanted) if c not in available]
        if unknown:
            raise DatasetError(
                f"no column {', '.join(unknown)} in the labels; group columns available: "
                f"{', '.join(sorted(available)) or 'none'}"
            )
        if Protocol.PAIRS in options.protocols and options.pairs is None:
            raise DatasetError("the pairs protocol needs a pairs file (--pairs)")
        needs_ids = {Protocol.OPEN_SET, Protocol.VIDEO} & set(options.protocols)
        if needs_ids and not main.has_identities:
            raise DatasetError(f"{main.labels_path} has no identity column: open-set needs one")
        if Protocol.VIDEO in options.protocols and options.videos is None:
            raise DatasetError("the video protocol needs a list of clips (--videos)")
        embedded = self.embed(main, pad=options.pad, use_cache=options.use_cache)
        embedded_other = (
            self.embed(other, pad=options.nonmated_pad, use_cache=options.use_cache)
            if other
            else None
        )
        return embedded, embedded_other

    def run(self, options: EvaluationOptions) -> EvaluationReport:
        """Everything :class:`EvaluationOptions` asks for, as one typed report."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        settings = self._svc.settings
        configured = settings.matching.threshold
        verify = settings.matching.verify_threshold
        sweep = sweep_thresholds([*options.thresholds, verify], configured)
        report_thresholds = tuple(sorted({*options.thresholds, configured}))
        opts = StatsOptions(
            sweep=sweep,
            report_thresholds=report_thresholds,
            interval=options.interval,
            alpha=options.alpha,
            seed=options.seed,
            watchlist_sizes=options.watchlist_sizes,
        )
        t0 = time.perf_counter()
        embedded, embedded_other = self.load(options)
        timings["faces_s"] = time.perf_counter() - t0
        main = embedded.data
        rule = options.face_rule
        summaries = [self._summary(embedded, "watchlist and mated searches", options, opts)]
        if embedded_other is not None:
            summaries.append(self._summary(embedded_other, "non-mated searches", options, opts))
        attrs = {c: main.attribute(c) for c in main.attribute_columns}
        identities = [img.identity for img in main.images]
        verification = None
        if Protocol.PAIRS in options.protocols and options.pairs is not None:
            t0 = time.perf_counter()
            pair_list = read_pairs(options.pairs, main)
            scored = score_pairs(pair_list.pairs, embedded.embeddings(rule))
            verification = verification_report(
                pair_list, scored, identities, attrs, options.groups, opts
            )
            timings["pairs_s"] = time.perf_counter() - t0
        open_set = None
        if Protocol.OPEN_SET in options.protocols:
            t0 = time.perf_counter()
            inputs = self.open_set_inputs(embedded, embedded_other, options)
            open_set = open_set_report(
                inputs.split,
                inputs.scores,
                mated_identities=inputs.mated_identities,
                mated_labels=inputs.mated_labels,
                nonmated_identities=inputs.nonmated_identities,
                nonmated_files=inputs.nonmated_files,
                nonmated_labels=inputs.nonmated_labels,
                subject_labels=inputs.subject_labels,
                columns=options.groups,
                nonmated_source=inputs.nonmated_source,
                opts=opts,
            )
            open_set = dataclasses.replace(open_set, cross_set=inputs.cross_set)
            timings["open_set_s"] = time.perf_counter() - t0
        video = None
        if Protocol.VIDEO in options.protocols and options.videos is not None:
            t0 = time.perf_counter()
            video = self._video(embedded, options, sweep, configured)
            timings["video_s"] = time.perf_counter() - t0
        timings["total_s"] = time.perf_counter() - started
        pack = self._svc.pack
        report = EvaluationReport(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            openlfr_version=openlfr_version(),
            command=options.command,
            model=ModelInfo(
                pack=pack.name,
                model_id=pack.model_id,
                detector_input_width=settings.detector.input_width,
                detector_score_threshold=settings.detector.score_threshold,
                detector_nms_threshold=settings.detector.nms_threshold,
                face_rule=str(rule),
            ),
            configured_threshold=configured,
            configured_verify_threshold=verify,
            report_thresholds=report_thresholds,
            interval_method=str(options.interval),
            alpha=options.alpha,
            seed=options.seed,
            datasets=tuple(summaries),
            verification=verification,
            open_set=open_set,
            video=video,
            timings={k: round(v, 2) for k, v in timings.items()},
            cache_hits=self.cache_hits,
            cache_misses=self.cache_misses,
            caveats=options.extra_caveats,
        )
        return dataclasses.replace(report, caveats=tuple(caveats_for(report)))

    def _summary(
        self, emb: EmbeddedDataset, role: str, options: EvaluationOptions, opts: StatsOptions
    ) -> DatasetSummary:
        data = emb.data
        status = [f.status for f in emb.faces]
        found = np.array([s is AcquisitionStatus.OK for s in status], dtype=bool)[:, None]
        detector_t = np.array([self._svc.settings.detector.score_threshold])
        clusters = [img.identity for img in data.images]
        values = {c: data.attribute(c) for c in data.attribute_columns}
        by_group = tuple(
            group_rates(
                Metric.DETECTION,
                name,
                found,
                labels,
                detector_t,
                clusters=clusters,
                method=opts.interval,
                alpha=opts.alpha,
                seed=opts.seed,
                min_group=opts.min_group,
            )
            for name, labels in groupings(options.groups, values)
        )
        counts = {c: _value_counts(v) for c, v in values.items()}
        return DatasetSummary(
            name=data.name,
            root=str(data.root),
            labels=str(data.labels_path),
            role=role,
            images=len(data),
            identities=len(data.identities) if data.has_identities else 0,
            has_identities=data.has_identities,
            pad=emb.pad,
            problems=data.problems,
            acquired=int(found.sum()),
            no_face=sum(s is AcquisitionStatus.NO_FACE for s in status),
            unreadable=sum(s is AcquisitionStatus.UNREADABLE for s in status),
            multiple_faces=sum(len(f) > 1 for f in emb.faces),
            no_face_files=tuple(
                img.file
                for img, s in zip(data.images, status, strict=True)
                if s is AcquisitionStatus.NO_FACE
            ),
            unreadable_files=tuple(
                (img.file, f.detail)
                for img, f in zip(data.images, emb.faces, strict=True)
                if f.status is AcquisitionStatus.UNREADABLE
            ),
            attribute_counts=counts,
            aliases=data.aliases,
            detection=rate_curve(
                found, detector_t, clusters=clusters, method=opts.interval, seed=opts.seed
            ),
            detection_by_group=by_group,
        )

    def _video(
        self,
        stills: EmbeddedDataset,
        options: EvaluationOptions,
        sweep: np.ndarray,
        configured: float,
    ) -> VideoReport:
        """Clip-level results against a watchlist of every still with a face."""
        assert options.videos is not None
        videos, problems = read_video_list(options.videos)
        rule = options.face_rule
        names, vectors = [], []
        for img, vector in zip(stills.data.images, stills.embeddings(rule), strict=True):
            if vector is not None:
                names.append(img.identity)
                vectors.append(vector)
        if not vectors:
            raise DatasetError("no still has a face: the video watchlist would be empty")
        pack = self._svc.pack
        gallery = Gallery(names, np.stack(vectors), pack.model_id)
        cache = None
        if options.use_cache:
            settings = ExtractionSettings.from_config(
                pack.model_id, pack.name, self._svc.settings.detector, 0.0
            )
            cache = EmbeddingCache(self.cache_root, self._svc.cipher, settings)
        clips = []
        for v in videos:
            callback = self._progress(f"frames of {v.file}", 1) if self._progress else None
            try:
                clips.append(
                    sample_clip(
                        pack, v, per_second=options.video_fps, cache=cache, progress=callback
                    )
                )
            except (VideoError, OSError) as exc:
                problems.append(RowProblem(options.videos.name, 0, v.file, str(exc)))
        if cache is not None:
            self.cache_hits += cache.hits
            self.cache_misses += cache.misses
        return video_report(
            clips,
            gallery,
            watchlist_source=stills.data.name,
            per_second=options.video_fps,
            thresholds=sweep,
            configured=configured,
            problems=problems,
        )

    def open_set_inputs(
        self, main: EmbeddedDataset, other: EmbeddedDataset | None, options: EvaluationOptions
    ) -> OpenSetInputs:
        """Split ``main`` into a watchlist and searches, and score every search against it."""
        rule = options.face_rule
        data = main.data
        vectors = main.embeddings(rule)
        identities = [img.identity for img in data.images]
        split = split_open_set(
            identities,
            [v is not None for v in vectors],
            references_per_identity=options.references_per_identity,
            nonmated_share=options.nonmated_share,
            seed=options.seed,
        )
        if not split.enrolled:
            raise DatasetError(
                "no identity has enough photos with a face to enrol "
                f"({options.references_per_identity} reference(s) + 1 search each); "
                f"{data.name}: {acquisition_summary(main)}"
            )
        ref_ids = [
            name for name, refs in zip(split.enrolled, split.references, strict=True) for _ in refs
        ]
        ref_vecs = np.stack(
            [v for refs in split.references for i in refs if (v := vectors[i]) is not None]
        )
        gallery = Gallery(ref_ids, ref_vecs, self._svc.pack.model_id)
        mated = list(split.mated)
        first_ref = {
            name: refs[0] for name, refs in zip(split.enrolled, split.references, strict=True)
        }
        screen = None
        if other is None:
            non_source, non_columns = data.name, data.attribute_columns
            non_vectors = [vectors[i] for i in split.nonmated]
            non_images = [data.images[i] for i in split.nonmated]
        else:
            non_source, non_columns = other.data.name, other.data.attribute_columns
            review = read_review(options.reviewed) if options.reviewed else None
            all_vectors = other.embeddings(rule)
            kept, excluded = split_reviewed(other.data.images, review, set(data.identities))
            non_vectors = [all_vectors[i] for i in kept]
            non_images = [other.data.images[i] for i in kept]
            screen = screen_cross_set(
                gallery,
                all_vectors,
                other.data.images,
                excluded=excluded,
                review=review,
                subject_files={s: data.images[i].file for s, i in first_ref.items()},
                nonmated_source=other.data.name,
                nonmated_root=other.data.root,
                watchlist_source=data.name,
                watchlist_root=data.root,
                count=options.review_count,
            )
        scores = score_open_set(
            gallery, [vectors[i] for i in mated], [identities[i] for i in mated], non_vectors
        )
        return OpenSetInputs(
            split=split,
            scores=scores,
            mated_identities=[identities[i] for i in mated],
            mated_labels={
                c: [data.images[i].attributes.get(c, "") for i in mated]
                for c in data.attribute_columns
            },
            nonmated_identities=[img.identity for img in non_images],
            nonmated_files=[img.file for img in non_images],
            nonmated_labels={
                c: [img.attributes.get(c, "") for img in non_images] for c in non_columns
            },
            subject_labels={
                c: [data.images[first_ref[s]].attributes.get(c, "") for s in gallery.subjects]
                for c in data.attribute_columns
            },
            nonmated_source=non_source,
            cross_set=screen,
        )


@dataclass(frozen=True, slots=True)
class OpenSetInputs:
    """A scored open-set split with the labels of every search, ready for analysis.

    Per-search lists run over every search in split order, with a face or not;
    ``scores`` says which positions had one.
    """

    split: OpenSetSplit
    scores: OpenSetScores
    mated_identities: list[str]
    mated_labels: dict[str, list[str]]
    nonmated_identities: list[str]
    nonmated_files: list[str]
    nonmated_labels: dict[str, list[str]]
    subject_labels: dict[str, list[str]]
    nonmated_source: str
    cross_set: CrossSetScreen | None = None


def refusal_reasons(faces: Sequence[ImageFaces]) -> dict[str, int]:
    """How many images were refused (could not be read or decoded), by reason."""
    out: dict[str, int] = {}
    for f in faces:
        if f.status is AcquisitionStatus.UNREADABLE:
            out[f.detail or "unreadable"] = out.get(f.detail or "unreadable", 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def acquisition_summary(emb: EmbeddedDataset) -> str:
    """``"400 images: 400 refused (PPM images are not supported ×400), 0 with no face"``."""
    refused = refusal_reasons(emb.faces)
    no_face = sum(f.status is AcquisitionStatus.NO_FACE for f in emb.faces)
    why = ", ".join(f"{reason} ×{n:,}" for reason, n in refused.items())
    count = sum(refused.values())
    return (
        f"{len(emb.faces):,} images: {count:,} refused{f' ({why})' if why else ''}, "
        f"{no_face:,} with no face found"
    )


def _value_counts(values: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        key = v or "(unknown)"
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))
