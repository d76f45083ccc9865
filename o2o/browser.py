"""Debian's chromium for the browser journeys (Playwright drives it; never a download).

    python -m o2o.browser ensure   # install chromium with apt when it is missing (root)
"""

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags chromium keeps dialling out, which this
# shop's machines (and many shops' tills) cannot do.
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps",
]


def ensure() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if shutil.which("apt-get") and os.geteuid() == 0:
        print("[o2o] installing Debian's chromium for the browser tests", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-noto-cjk"],
                       check=True, env=env)
        return 0
    print(f"[o2o] the browser tests need chromium at {CHROMIUM}: install Debian's package "
          "'chromium' (sudo apt-get install chromium fonts-noto-cjk) or set CHROMIUM_PATH.",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:] != ["ensure"]:
        sys.exit("usage: python -m o2o.browser ensure")
    sys.exit(ensure())
