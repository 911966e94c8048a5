"""Live pipeline benchmark: openlfr against face_recognition and a naive pipeline, same run.

    .venv/bin/python bench/pipeline.py                 # everything (a few minutes on 2 cores)
    .venv/bin/python bench/pipeline.py --fr-frames 10  # shorter face_recognition baseline
    .venv/bin/python bench/pipeline.py --profile       # where openlfr's time goes (cProfile)
    .venv/bin/python bench/pipeline.py --decoders      # PyAV against OpenCV on the 1080p clip

Each variant runs in a child process of its own, so its peak RSS and CPU
time are its own. Throughput: the 1080p crowd clip (``facenet_pytorch_video.mp4``,
25 fps, decode included). Correct alerts: the Hamilton clip against stills of
Miranda, Lacamoire, Obama and Biden. Latency and sustained load: one and two
copies of the 1080p clip paced at 25 fps like live cameras (per-look latency:
capture of the frame to the end of its processing, where an alert would be
emitted), and the alert latencies of the Hamilton and Obama clips paced alike.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline_variants as v

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data"))
CROWD = DATA / "videos/facenet_pytorch_video.mp4"
HAMILTON = DATA / "videos/short_hamilton_clip.mp4"


def child(args: argparse.Namespace) -> None:
    """Run one variant and print its outcome as one JSON line."""
    clip = Path(args.clip)
    if args.variant == "face_recognition":
        outcome = v.run_face_recognition(DATA, clip, args.frames)
    else:
        pack = v.load_models()
        gallery = v.stills_gallery(pack, DATA)
        if args.variant == "ours":
            outcome = v.run_ours(pack, gallery, clip, args.frames)
        elif args.variant == "naive":
            outcome = v.run_naive(pack, gallery, clip, args.frames)
        else:
            cameras = int(args.variant.split("-")[1])
            share = not args.variant.endswith("own")
            outcome = v.run_realtime(pack, gallery, clip, cameras, args.seconds, share)
    result = asdict(outcome)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(variant: str, clip: Path, frames: int = 10**9, seconds: float = 0.0) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--variant", variant, "--clip", str(clip)]
    cmd += ["--frames", str(frames), "--seconds", str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def describe(name: str, r: dict[str, float]) -> str:
    fps = r["frames"] / r["seconds"]
    faces_s = r["faces"] / r["seconds"]
    per_face = r["embeddings"] / max(r["faces"], 1)
    cores = r["cpu_seconds"] / r["seconds"]
    return (
        f"{name:<18} {r['frames']:>5.0f} frames {fps:7.2f} fps {faces_s:7.1f} faces/s "
        f"{per_face:5.2f} emb/face  {cores:4.2f} cores {r['peak_rss_mb']:6.0f} MB peak RSS"
    )


def main_compare(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} cores; data {DATA}")
    print("\n== Throughput: 1080p crowd clip, every frame, decode included ==")
    ours = spawn("ours", CROWD)
    naive = spawn("naive", CROWD)
    fr = spawn("face_recognition", CROWD, frames=args.fr_frames)
    for name, r in (("openlfr", ours), ("naive every-frame", naive), ("face_recognition", fr)):
        print(describe(name, r))
    fps = {k: r["frames"] / r["seconds"] for k, r in (("ours", ours), ("naive", naive), ("fr", fr))}
    print(f"ratio openlfr / face_recognition: {fps['ours'] / fps['fr']:.1f}x (target >= 25x)")
    print(f"ratio openlfr / naive:            {fps['ours'] / fps['naive']:.1f}x (target >= 3x)")

    print(f"\n== Correct alerts: Hamilton clip, first {args.hamilton_frames} frames ==")
    for name, variant in (
        ("openlfr", "ours"),
        ("naive", "naive"),
        ("face_recognition", "face_recognition"),
    ):
        r = spawn(variant, HAMILTON, frames=args.hamilton_frames)
        alerted = sorted(set(r["alerted"]))  # type: ignore[arg-type]
        print(f"{name:<18} alerted {alerted}  ({describe('', r).strip()})")

    print(
        "\n== Alert latency at the native frame rate (capture of the deciding crop -> emitted) =="
    )
    for clip, seconds in ((HAMILTON, 9.5), (DATA / "videos/obama_whcd_clip.mp4", 4.5)):
        r = spawn("live-1", clip, seconds=seconds)
        values = ", ".join(f"{x:.0f} ms" for x in r["alert_latencies_ms"])  # type: ignore[attr-defined]
        print(f"{clip.name:<28} alerts {sorted(set(r['alerted']))} latency [{values}]")  # type: ignore[arg-type]

    print(f"\n== Live: 1080p clip paced at 25 fps, looped, {args.seconds:.0f} s ==")
    for variant in ("live-1", "live-2", "live-2-own"):
        r = spawn(variant, CROWD, seconds=args.seconds)
        lat = np.asarray(r["latencies_ms"]) if r["latencies_ms"] else np.zeros(1)
        per_cam = ", ".join(f"{x:.1f}" for x in r["per_camera_fps"])  # type: ignore[attr-defined]
        label = {
            "live-1": "1 camera",
            "live-2": "2 cameras, shared recogniser",
            "live-2-own": "2 cameras, own sessions (default)",
        }
        print(
            f"{label[variant]:<34} fps per camera [{per_cam}] dropped {r['dropped']:.0f} "
            f"latency p50 {np.percentile(lat, 50):.0f} ms p95 {np.percentile(lat, 95):.0f} ms "
            f"(n={len(r['latencies_ms'])}) {r['cpu_seconds'] / r['seconds']:.2f} cores "
            f"{r['peak_rss_mb']:.0f} MB"
        )


def main_profile() -> None:
    pack = v.load_models()
    gallery = v.stills_gallery(pack, DATA)
    profiler = cProfile.Profile()
    profiler.enable()
    outcome = v.run_ours(pack, gallery, CROWD, 10**9)
    profiler.disable()
    print(f"{outcome.frames} frames in {outcome.seconds:.2f} s (decoding runs on its own thread)")
    stats = pstats.Stats(profiler).sort_stats("tottime")
    stats.print_stats(15)


def main_decoders() -> None:
    import av
    import cv2

    def pyav() -> int:
        n = 0
        with av.open(str(CROWD)) as container:
            for frame in container.decode(video=0):
                frame.to_ndarray(format="bgr24")
                n += 1
        return n

    def opencv() -> int:
        capture, n = cv2.VideoCapture(str(CROWD)), 0
        while capture.read()[0]:
            n += 1
        return n

    for name, fn in (("PyAV", pyav), ("OpenCV", opencv), ("PyAV", pyav), ("OpenCV", opencv)):
        start, cpu = time.perf_counter(), time.process_time()
        n = fn()
        wall, used = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"{name:<7} {n} frames 1080p H.264 to BGR: {1000 * wall / n:5.2f} ms/frame wall, "
            f"{1000 * used / n:5.2f} ms/frame CPU"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--clip", help=argparse.SUPPRESS)
    parser.add_argument("--frames", type=int, default=10**9, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of each live run.")
    parser.add_argument(
        "--fr-frames", type=int, default=15, help="Crowd frames for face_recognition."
    )
    parser.add_argument(
        "--hamilton-frames", type=int, default=150, help="Hamilton frames per method."
    )
    parser.add_argument("--profile", action="store_true", help="Profile openlfr on the crowd clip.")
    parser.add_argument("--decoders", action="store_true", help="Compare PyAV and OpenCV decoding.")
    args = parser.parse_args()
    if not CROWD.is_file():
        raise SystemExit(f"clips not found under {DATA} (set OPENLFR_SHARED_DATA)")
    if args.variant:
        child(args)
    elif args.profile:
        main_profile()
    elif args.decoders:
        main_decoders()
    else:
        main_compare(args)


if __name__ == "__main__":
    main()
