"""Settings of the live pipeline: sources, tracking, best shot, decisions, privacy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """How frames are read from files, streams, webcams and folders."""

    realtime: bool = Field(
        default=False,
        description=(
            "Pace files and folders at their native frame rate, like a camera, keeping only the "
            "newest frame when processing falls behind. Off: every frame is processed, as fast "
            "as the pipeline goes (evaluation and benchmarks)."
        ),
    )
    loop: bool = Field(
        default=False, description="Start a file or folder again when it ends (demonstrations)."
    )
    buffer_frames: int = Field(
        default=4,
        ge=1,
        le=25,
        description=(
            "Frames a live camera may hold waiting for the pipeline. More than one absorbs a "
            "short stall (a burst of new faces, an alert being sealed) without dropping "
            "frames; when the pipeline stays behind the oldest waiting frame is dropped, so a "
            "frame waits at most this many frame intervals (4 at 25 fps: 160 ms)."
        ),
    )
    folder_fps: float = Field(
        default=5.0,
        gt=0.0,
        le=1000.0,
        description="Frame rate a folder of images stands for (its timeline and realtime pace).",
    )
    open_timeout_s: float = Field(
        default=10.0, gt=0.0, le=300.0, description="Longest wait to open a stream or device."
    )
    read_timeout_s: float = Field(
        default=5.0,
        gt=0.0,
        le=300.0,
        description="A stream silent for this long counts as lost and is reconnected.",
    )
    reconnect_initial_s: float = Field(
        default=0.5,
        gt=0.0,
        le=60.0,
        description="Wait before the first reconnection attempt; doubles after each failure.",
    )
    reconnect_max_s: float = Field(
        default=10.0, gt=0.0, le=600.0, description="Longest wait between reconnection attempts."
    )
    rtsp_transport: Literal["tcp", "udp"] = Field(
        default="tcp",
        description="RTSP transport. TCP survives lossy networks without smeared frames.",
    )
    hwaccel: Literal[
        "off", "auto", "cuda", "qsv", "vaapi", "videotoolbox", "d3d11va", "dxva2", "drm"
    ] = Field(
        default="off",
        description=(
            "Decode video on a hardware device: one named type, 'auto' (the first the installed "
            "FFmpeg supports: cuda, qsv, vaapi, …) or 'off'. A device that cannot be opened is "
            "skipped and the CPU decodes (logged once). Frames are copied back to memory for "
            "the pipeline, so it pays where decoding is the bottleneck (many 1080p streams)."
        ),
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> SourceConfig:
        if self.reconnect_max_s < self.reconnect_initial_s:
            raise ValueError("reconnect_max_s must be at least reconnect_initial_s")
        return self


class TrackerConfig(_Strict):
    """ByteTrack-style association of detections into tracks.

    Detections at or above ``high_score`` are associated first with every
    track; the remaining weaker ones only extend tracks that are already
    running (they rescue a face that blurs or turns for a few frames but never
    start a track).
    """

    high_score: float = Field(
        default=0.75,
        ge=0.0,
        le=1.0,
        description=(
            "Detections at or above this are associated first. Raising it leans more on the "
            "second, stricter stage; lowering it lets weak detections steal tracks."
        ),
    )
    new_track_score: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description=(
            "Smallest confidence that starts a new track. Raising it starts fewer spurious "
            "tracks and misses faces that are never seen clearly."
        ),
    )
    match_iou: float = Field(
        default=0.2,
        gt=0.0,
        le=1.0,
        description=(
            "Smallest overlap between a track's predicted box and a strong detection to "
            "associate them. Raising it splits fast-moving faces into several tracks; "
            "lowering it risks swapping neighbours."
        ),
    )
    low_match_iou: float = Field(
        default=0.5,
        gt=0.0,
        le=1.0,
        description="Smallest overlap for a weak detection to extend a running track.",
    )
    min_hits: int = Field(
        default=2,
        ge=1,
        le=30,
        description=(
            "Frames a new track must be matched in before it counts (and is recognised). "
            "Raising it ignores flickering false detections and delays recognition."
        ),
    )
    lost_ttl_s: float = Field(
        default=1.0,
        gt=0.0,
        le=30.0,
        description=(
            "How long a track that is no longer matched is kept for re-association. Raising "
            "it bridges longer occlusions (and keeps that track's state in memory longer)."
        ),
    )


class BestShotConfig(_Strict):
    """Which crops of a track are embedded (the recogniser is the costliest stage)."""

    min_inter_eye_px: float = Field(
        default=10.0,
        ge=1.0,
        description=(
            "Faces with eyes closer than this (source pixels) are never embedded. Lowering it "
            "tries smaller, more distant faces, whose embeddings are less reliable."
        ),
    )
    max_yaw_deg: float = Field(
        default=45.0,
        gt=0.0,
        le=90.0,
        description="Faces turned further sideways than this are never embedded.",
    )
    max_pitch_deg: float = Field(
        default=40.0, gt=0.0, le=90.0, description="Faces tilted further than this are skipped."
    )
    min_det_score: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Detections below this confidence are skipped."
    )
    min_quality: float = Field(
        default=0.15,
        ge=0.0,
        le=1.0,
        description=(
            "Crops whose overall quality (detector score x size x pose x sharpness, 0-1) is "
            "below this are never embedded: motion-blurred or tiny faces waste the per-track "
            "budget and score poorly. Lowering it tries harder on poor views."
        ),
    )
    min_gain: float = Field(
        default=0.25,
        ge=0.0,
        le=10.0,
        description=(
            "A crop is 'materially better' (embedded at once) when its quality beats the best "
            "embedded so far by this share. Lowering it spends more embeddings on small gains."
        ),
    )
    relook_interval_s: float = Field(
        default=0.5,
        ge=0.0,
        le=60.0,
        description=(
            "After this long without a materially better crop, the best crop since the last "
            "look is embedded anyway (so a track can gather agreeing looks). Lowering it "
            "reaches decisions sooner at more embeddings per face."
        ),
    )
    max_looks_per_track: int = Field(
        default=8,
        ge=1,
        le=100,
        description=(
            "Embeddings a track may use at most. Raising it gives long tracks more chances at "
            "a good view (and more chances of a false match)."
        ),
    )


class DecisionConfig(_Strict):
    """Rules that turn a track's looks into at most one alert per subject.

    The similarity threshold itself is ``matching.threshold``.
    """

    track_fusion: bool = Field(
        default=True,
        description=(
            "Fuse a track's looks into one template (their quality-weighted mean) and search "
            "that after each look; the track alerts when the fused template of at least "
            "min_agreeing_looks looks scores at or above the threshold. Off: each look is "
            "searched alone and min_agreeing_looks of them must agree. On the real clips and "
            "the demo both raise the same alerts; fused, Miranda's alerts on the second look "
            "instead of the third (bench/track_fusion.py)."
        ),
    )

    min_agreeing_looks: int = Field(
        default=2,
        ge=1,
        le=50,
        description=(
            "Looks of one track whose best candidate is the same subject at or above the "
            "threshold before it alerts (with track_fusion: looks fused into the template "
            "that scores so). Raising it cuts false alerts from a single unlucky crop and "
            "misses people seen only briefly; 1 alerts on the first look."
        ),
    )
    cooldown_s: float = Field(
        default=60.0,
        ge=0.0,
        le=86400.0,
        description=(
            "After an alert for a subject on a camera, further alerts for that subject on that "
            "camera are suppressed for this long (a person who leaves and re-enters the view "
            "would otherwise raise one alert per track). 0 disables it."
        ),
    )


class DetectionScheduleConfig(_Strict):
    """When the whole frame is searched for faces, and when only where faces are expected.

    Between full-frame detections the detector looks only in square windows
    around the boxes the tracker predicts for its faces (running, tentative and
    recently lost tracks); the tracker bridges the frames between. A face that
    enters the picture is found at the next full detection, at most
    ``full_interval`` - 1 frames late.
    """

    full_interval: int = Field(
        default=4,
        ge=1,
        le=100,
        description=(
            "Every n-th frame processed is searched whole; the others only around tracked "
            "faces. 1 searches every frame whole. Raising it saves detector time (most frames "
            "cost a few small windows, frames without faces nothing) and finds new faces "
            "later: at 25 fps, 4 means within 0.12 s."
        ),
    )
    window_scale: float = Field(
        default=2.0,
        ge=1.2,
        le=6.0,
        description=(
            "Side of the window around a predicted face, as a multiple of the face box's "
            "longer side. Raising it follows faster or worse-predicted faces, at more pixels."
        ),
    )
    window_size: int = Field(
        default=128,
        ge=64,
        le=640,
        multiple_of=32,
        description=(
            "Pixels of the square patch each window is resized to for the detector (a face "
            "fills about 1/window_scale of it). All windows share it, so they run as one batch."
        ),
    )
    max_window_share: float = Field(
        default=1.0,
        gt=0.0,
        le=10.0,
        description=(
            "Frames whose windows would hold more pixels than this share of a full "
            "detection's input are searched whole instead (crowds: one full pass is cheaper "
            "than many windows)."
        ),
    )


class BatchingConfig(_Strict):
    """Model calls shared by the cameras of one process (a worker's deployment).

    When on, the cameras share one recogniser and one window detector: crops and
    windows that several cameras submit within ``max_wait_ms`` run as one call.
    """

    mode: Literal["auto", "on", "off"] = Field(
        default="auto",
        description=(
            "'auto': on where the models run on a GPU (one call for many crops costs about "
            "what one for a few does), off on a CPU, where batching saves little and the wait "
            "adds latency. 'on' or 'off' force it."
        ),
    )
    max_wait_ms: float = Field(
        default=4.0,
        ge=0.0,
        le=100.0,
        description=(
            "Longest a camera's call waits for the other cameras' work to join it. Raising it "
            "makes larger batches and adds up to this much to every frame that embeds."
        ),
    )


class PipelineConfig(_Strict):
    """The live pipeline, from sources to alerts."""

    source: SourceConfig = Field(default_factory=SourceConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    detection: DetectionScheduleConfig = Field(default_factory=DetectionScheduleConfig)
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    best_shot: BestShotConfig = Field(default_factory=BestShotConfig)
    decision: DecisionConfig = Field(default_factory=DecisionConfig)
    retention_s: float = Field(
        default=5.0,
        gt=0.0,
        le=60.0,
        description=(
            "Longest time a crop of a face that has not alerted stays in memory; looks older "
            "than this no longer count towards a decision. Only counters outlive it."
        ),
    )
    share_recogniser: bool = Field(
        default=False,
        description=(
            "Cameras in one process share one recogniser session: about 80 MB less per "
            "camera, but their embeddings queue on it. Off (the default), each camera loads "
            "its own: with two 1080p cameras at 25 fps on 2 cores that dropped 9–15 frames "
            "in 10 s instead of 34–36, p95 latency 84–91 ms instead of 116–123 "
            "(bench/pipeline.py). Each camera always gets its own detector session."
        ),
    )
