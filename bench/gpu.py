"""GPU benchmark: 1080p/25 cameras sustained per GPU, against the CPU path on the same machine.

    .venv/bin/python bench/gpu.py                          # CPU, CUDA (and TensorRT if installed)
    .venv/bin/python bench/gpu.py --seconds 30 --max-cameras 64 --devices cuda tensorrt
    .venv/bin/python bench/gpu.py --cpu-only --seconds 3 --max-cameras 1   # smoke run, any machine

On a machine without an NVIDIA GPU it says so and exits 0 (nothing to measure).
Where there is one but onnxruntime has no CUDA provider (the CPU wheel), it
prints the install step and exits 1.

Input: 1080p copies of the real clips (the 1080p crowd clip, the Hamilton and
Obama clips scaled up), written once into a temporary folder and paced at 25
fps, looped, like live cameras (``../shared/data``, or ``OPENLFR_SHARED_DATA``).
For each device the camera count doubles (1, 2, 4, …) while the cameras are
sustained (under 1% of frames dropped); each count runs in a child process of
its own so sessions, threads and memory start clean. Per run: frames per
second, dropped share, faces/s, embeddings/s, p95 latency from a frame's
capture to the end of its processing, the child's peak RSS, and on a GPU its
memory (``nvidia-smi``, sampled). Models: the default pack; batching across
cameras (``pipeline.batching``) and hardware decoding (``--hwaccel``) as set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("OPENLFR_SHARED_DATA", REPO.parent / "shared" / "data"))
CLIPS = ("facenet_pytorch_video.mp4", "short_hamilton_clip.mp4", "obama_whcd_clip.mp4")


def nvidia_gpus() -> list[str]:
    """The NVIDIA GPUs ``nvidia-smi`` lists (empty without a driver or a GPU)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in done.stdout.splitlines() if line.startswith("GPU ")]


def gpu_memory_mb(pid: int) -> float | None:
    """GPU memory the process ``pid`` holds now, per ``nvidia-smi``."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    query = ["--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run([smi, *query], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    used = [
        float(b)
        for a, b in (line.split(",") for line in out.splitlines() if "," in line)
        if a.strip() == str(pid)
    ]
    return sum(used) if used else 0.0


def prepare_clips(folder: Path) -> list[Path]:
    """1080p, 25 fps H.264 copies of the real clips (written once per run)."""
    import av
    import cv2

    out = []
    for name in CLIPS:
        src, dst = DATA / "videos" / name, folder / f"1080p-{name}"
        with av.open(str(src)) as inp, av.open(str(dst), "w") as enc:
            stream = enc.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "20"}
            for frame in inp.decode(video=0):
                image = frame.to_ndarray(format="bgr24")
                if image.shape[:2] != (1080, 1920):
                    image = cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_LINEAR)
                picture = av.VideoFrame.from_ndarray(image, format="bgr24")
                for packet in stream.encode(picture):
                    enc.mux(packet)
            for packet in stream.encode():
                enc.mux(packet)
        out.append(dst)
    return out


def child(args: argparse.Namespace) -> None:
    """One device, one camera count: run the cameras and print one JSON line."""
    import numpy as np

    from openlfr.alerts import CollectingSink
    from openlfr.config import Settings
    from openlfr.stream import CameraPipeline, Runner, parse_source, pipeline_factory
    from openlfr.types import Detections, Frame
    from openlfr.vision import load_pack
    from openlfr.watchlist import Gallery, LiveGallery

    settings = Settings(
        runtime={"device": args.device},
        pipeline={"source": {"realtime": True, "loop": True, "hwaccel": args.hwaccel}},
    )
    pack = load_pack(settings.models, settings.detector, settings.runtime)
    rng = np.random.default_rng(0)
    listed = rng.standard_normal((1000, pack.recogniser.dim)).astype(np.float32)
    listed /= np.linalg.norm(listed, axis=1, keepdims=True)
    gallery = LiveGallery(Gallery([f"s{i}" for i in range(1000)], listed, pack.model_id))
    build = pipeline_factory(settings, pack, gallery, watchlist="bench", cameras=args.cameras)
    latencies: list[float] = []
    lock = threading.Lock()

    def observe(frame: Frame, _d: Detections, _t: object, _a: object) -> None:
        with lock:
            latencies.append(time.time() - frame.captured_at)

    def factory(camera_id: str) -> CameraPipeline:
        pipeline = build(camera_id)
        pipeline.observer = observe
        return pipeline

    clips = args.clips.split(",")
    specs = [parse_source(f"cam{i}={clips[i % len(clips)]}") for i in range(args.cameras)]
    runner = Runner(specs, factory, CollectingSink(), settings.pipeline.source)
    runner.start()
    time.sleep(args.warmup)  # sessions built, engines loaded, first frames through
    before = {s.camera_id: s for s in runner.status()}
    with lock:
        latencies.clear()
    gpu_peak = 0.0
    start = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - start < args.seconds:
        time.sleep(min(1.0, args.seconds))
        used = gpu_memory_mb(os.getpid()) if args.device != "cpu" else None
        gpu_peak = max(gpu_peak, used or 0.0)
    elapsed = time.perf_counter() - start
    used_cpu = time.process_time() - cpu
    after = runner.status()
    runner.stop()
    runner.wait(30)

    def delta(field: str) -> int:
        total = 0
        for s in after:
            was = before.get(s.camera_id)
            now = s.dropped if field == "dropped" else getattr(s.counters, field)
            then = (
                (was.dropped if field == "dropped" else getattr(was.counters, field)) if was else 0
            )
            total += now - then
        return total

    with lock:
        lat = np.asarray(latencies or [float("nan")])
    frames, dropped = delta("frames"), delta("dropped")
    decoders = sorted({getattr(c.source, "decoder", "cpu") for c in runner._cameras})
    print(
        json.dumps(
            {
                "device": args.device,
                "cameras": args.cameras,
                "seconds": elapsed,
                "frames": frames,
                "dropped": dropped,
                "faces": delta("faces"),
                "embeddings": delta("embeddings"),
                "p50_ms": float(np.nanpercentile(lat, 50) * 1000),
                "p95_ms": float(np.nanpercentile(lat, 95) * 1000),
                "cores": used_cpu / elapsed,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "gpu_mb": gpu_peak if args.device != "cpu" else None,
                "decoders": decoders,
                "failed": [s.error for s in after if s.error],
            }
        )
    )


def spawn(args: argparse.Namespace, device: str, cameras: int, clips: list[Path]) -> dict:  # type: ignore[type-arg]
    cmd = [
        sys.executable, __file__, "--child", "--device", device, "--cameras", str(cameras),
        "--seconds", str(args.seconds), "--warmup", str(args.warmup), "--hwaccel", args.hwaccel,
        "--clips", ",".join(str(c) for c in clips),
    ]  # fmt: skip
    limit = args.seconds + args.warmup + 900  # a TensorRT engine build takes minutes
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{device} x{cameras} failed:\n{done.stderr[-3000:]}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[type-arg]
    return result


def row(r: dict) -> str:  # type: ignore[type-arg]
    total = r["frames"] + r["dropped"]
    share = 100.0 * r["dropped"] / max(1, total)
    gpu = f"{r['gpu_mb']:.0f}" if r.get("gpu_mb") is not None else "-"
    return (
        f"{r['device']:9} {r['cameras']:>4} {r['frames'] / r['seconds'] / r['cameras']:7.1f} "
        f"{share:6.1f} {r['faces'] / r['seconds']:8.0f} {r['embeddings'] / r['seconds']:7.1f} "
        f"{r['p95_ms']:7.0f} {r['cores']:5.2f} {r['rss_mb']:6.0f} {gpu:>7} "
        f"{','.join(r['decoders'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clips", help=argparse.SUPPRESS)
    parser.add_argument("--cameras", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=20.0, help="Measured seconds per run.")
    parser.add_argument("--warmup", type=float, default=8.0, help="Seconds before measuring.")
    parser.add_argument("--max-cameras", type=int, default=128)
    parser.add_argument("--devices", nargs="+", default=["cuda", "tensorrt"])
    parser.add_argument("--hwaccel", default="auto", help="pipeline.source.hwaccel for GPU runs.")
    parser.add_argument(
        "--cpu-only", action="store_true", help="Only the CPU path (a smoke run on any machine)."
    )
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    gpus = nvidia_gpus()
    if not gpus and not args.cpu_only:
        print("no NVIDIA GPU on this machine (nvidia-smi lists none): nothing to measure.")
        print(
            "Run bench/gpu.py on a GPU machine with onnxruntime-gpu installed (docs/pipeline.md)."
        )
        return
    devices = ["cpu"]
    if not args.cpu_only:
        import onnxruntime as ort

        have = set(ort.get_available_providers())
        if "CUDAExecutionProvider" not in have:
            print(f"GPU found ({gpus[0]}) but onnxruntime has no CUDA provider: install")
            print("onnxruntime-gpu in place of onnxruntime (docs/pipeline.md), then rerun.")
            raise SystemExit(1)
        wanted = {"cuda": "CUDAExecutionProvider", "tensorrt": "TensorrtExecutionProvider"}
        devices += [d for d in args.devices if wanted.get(d) in have]
    if not (DATA / "videos" / CLIPS[0]).is_file():
        raise SystemExit(f"clips not found under {DATA} (set OPENLFR_SHARED_DATA)")
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; GPUs: {gpus or 'none'}")
    folder = Path(tempfile.mkdtemp(prefix="openlfr-bench-gpu-"))
    try:
        clips = prepare_clips(folder)
        print(
            f"{'device':9} {'cams':>4} {'fps/cam':>7} {'drop%':>6} {'faces/s':>8} {'emb/s':>7} "
            f"{'p95 ms':>7} {'cores':>5} {'RSS MB':>6} {'GPU MB':>7} decoder"
        )
        best: dict[str, int] = {}
        for device in devices:
            cameras = 1
            while cameras <= args.max_cameras:
                r = spawn(args if device != "cpu" else _cpu(args), device, cameras, clips)
                print(row(r), flush=True)
                total = r["frames"] + r["dropped"]
                if r["failed"] or r["dropped"] > 0.01 * max(1, total):
                    break
                best[device] = cameras
                cameras *= 2
        print("\ncameras sustained (1080p/25, under 1% dropped), doubling from 1:")
        for device in devices:
            print(f"  {device:9} {best.get(device, 0)}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _cpu(args: argparse.Namespace) -> argparse.Namespace:
    """The CPU baseline decodes on the CPU too."""
    return argparse.Namespace(**{**vars(args), "hwaccel": "off"})


if __name__ == "__main__":
    main()
