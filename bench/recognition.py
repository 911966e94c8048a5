"""Recognition-core timings, each beside a baseline measured in the same run.

Run:  .venv/bin/python bench/recognition.py [--frames 30] [--repeat 5]

- detection ms/frame at 640 and 1280 input width (and native 1920) on real
  1080p frames: openlfr's YuNet on onnxruntime vs OpenCV's cv2.FaceDetectorYN
  on the same model file;
- embedding ms/face at batch 1 and 16: openlfr's SFace on onnxruntime vs
  OpenCV's cv2.FaceRecognizerSF one face at a time;
- search ms/probe over 10k and 100k templates (synthetic unit vectors):
  openlfr's Gallery (argpartition top-k) vs a full argsort of every score.

Medians over repeats; machines are noisy, so compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import av
import cv2
import numpy as np

from openlfr.config import DetectorConfig, RuntimeConfig
from openlfr.vision.align import align_face
from openlfr.vision.detector import YuNetDetector
from openlfr.vision.recogniser import OnnxRecogniser
from openlfr.vision.weights import SFACE_2021DEC, YUNET_2023MAR
from openlfr.watchlist.gallery import Gallery


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: first runs allocate
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def frames_from(path: Path, count: int) -> list[np.ndarray]:
    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="bgr24"))
            if len(out) == count:
                break
    return out


def bench_detection(frames: list[np.ndarray], repeat: int) -> None:
    height, width = frames[0].shape[:2]
    print(f"\n## Detection on {len(frames)} real {width}×{height} frames (ms/frame)")
    header = ("input width", "onnxruntime", "cv2.FaceDetectorYN", "ratio", "faces")
    print("{:>12} {:>12} {:>19} {:>6} {:>6}".format(*header))
    for input_width in (640, 1280, width):
        ours = YuNetDetector(
            YUNET_2023MAR.locate(), DetectorConfig(input_width=input_width), RuntimeConfig()
        )
        scale = input_width / width
        size = (input_width, round(height * scale))
        ref = cv2.FaceDetectorYN.create(str(YUNET_2023MAR.locate()), "", size, 0.6, 0.3, 5000)
        resized = [
            cv2.resize(f, size, interpolation=cv2.INTER_AREA) if scale != 1 else f for f in frames
        ]
        faces = sum(len(ours.detect(f)) for f in frames)
        t_ours = median_ms(lambda d=ours: [d.detect(f) for f in frames], repeat) / len(frames)
        # The baseline gets frames already resized (its resize is untimed): a
        # comparison tilted in its favour.
        t_ref = median_ms(lambda d=ref, fs=resized: [d.detect(f) for f in fs], repeat) / len(frames)
        print(
            f"{input_width:>12} {t_ours:>12.2f} {t_ref:>19.2f} {t_ref / t_ours:>5.2f}× {faces:>6}"
        )


def bench_embedding(crops: list[np.ndarray], repeat: int) -> None:
    ref = cv2.FaceRecognizerSF.create(str(SFACE_2021DEC.locate()), "")
    batch16 = (crops * 16)[:16]
    t_ref = median_ms(lambda: [ref.feature(c) for c in batch16], repeat) / 16
    print("\n## Embedding (SFace, ms/face)")
    print(f"baseline cv2.FaceRecognizerSF, one face at a time: {t_ref:.2f}")
    for backend in ("opencv", "onnxruntime"):
        ours = OnnxRecogniser(
            SFACE_2021DEC.locate(), RuntimeConfig(recogniser_backend=backend), model_id="sface"
        )
        t_b1 = median_ms(lambda r=ours: [r.embed([c]) for c in batch16], repeat) / 16
        t_b16 = median_ms(lambda r=ours: r.embed(batch16), repeat) / 16
        for label, t in (("batch 1", t_b1), ("batch 16", t_b16)):
            print(f"openlfr on {backend:<11} {label:<8}: {t:6.2f}  ({t_ref / t:.2f}× the baseline)")


def bench_search(repeat: int) -> None:
    rng = np.random.default_rng(0)
    print("\n## 1:N search, exact cosine, top-5 (ms/probe)")
    print(f"{'templates':>10} {'probes':>7} {'Gallery':>9} {'full argsort':>13} {'ratio':>6}")
    for size in (10_000, 100_000):
        templates = rng.standard_normal((size, 128)).astype(np.float32)
        templates /= np.linalg.norm(templates, axis=1, keepdims=True)
        # Two templates per subject, as when custody images are enrolled in pairs.
        gallery = Gallery([f"s{i // 2}" for i in range(size)], templates, "bench")
        for n_probes in (1, 16):
            probes = rng.standard_normal((n_probes, 128)).astype(np.float32)
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)

            def baseline(p: np.ndarray = probes, t: np.ndarray = templates) -> list[np.ndarray]:
                return [np.argsort(-row)[:5] for row in p @ t.T]

            t_ours = median_ms(lambda p=probes, g=gallery: g.search(p, top_k=5), repeat) / n_probes
            t_base = median_ms(baseline, repeat) / n_probes
            print(
                f"{size:>10} {n_probes:>7} {t_ours:>9.3f} {t_base:>13.3f} {t_base / t_ours:>5.2f}×"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    data = Path(os.environ.get("OPENLFR_SHARED_DATA", "../shared/data"))
    parser.add_argument("--video", type=Path, default=data / "videos/facenet_pytorch_video.mp4")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    frames = frames_from(args.video, args.frames)
    bench_detection(frames, args.repeat)
    detector = YuNetDetector(YUNET_2023MAR.locate(), DetectorConfig(input_width=0), RuntimeConfig())
    crops = [align_face(f, d.landmarks) for f in frames[:5] for d in detector.detect(f)]
    bench_embedding(crops, args.repeat)
    bench_search(max(args.repeat * 4, 20))  # cheap calls: more repeats steady the medians


if __name__ == "__main__":
    main()
