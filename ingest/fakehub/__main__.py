"""Run fakehub by hand: python -m ingest.fakehub [--port 8765] [--seed 7] [--fault-rate 0]."""

import argparse
import time

from ingest.fakehub import FakeHub, Faults, build_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--models", type=int, default=400)
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--fault-rate", type=float, default=0.0, help="probability of each fault kind")
    args = parser.parse_args()
    world = build_world(seed=args.seed, n_models=args.models, n_images=args.images)
    hub = FakeHub(world, Faults.every_kind(args.fault_rate, retry_after=1, slow_seconds=1.0))
    hub.start(args.port)
    print(f"fakehub on {hub.base_url}: CIVITAI_API_BASE={hub.civitai_base} HF_ENDPOINT={hub.hf_endpoint}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        hub.stop()


if __name__ == "__main__":
    main()
