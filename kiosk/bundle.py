"""Copies the browser libraries installed by `npm ci` (in kiosk/) into kiosk/static/vendor/.

The pages load everything from the server itself (a meeting room may have no internet), so the
msgpack decoder the pages use is the package's own browser build, copied here by
`python3 -m kiosk.bundle` (scripts/setup runs it after `npm ci`). The copy drops the trailing
source-map comment, so browsers do not ask the server for a .map file it does not serve.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KIOSK = Path(__file__).resolve().parent
VENDOR = KIOSK / "static" / "vendor"

# (npm package, file inside it, name under static/vendor/)
FILES = (("@msgpack/msgpack", "dist.umd/msgpack.min.js", "msgpack.min.js"),)


def bundle(kiosk: Path = KIOSK, vendor: Path = VENDOR) -> list[Path]:
    vendor.mkdir(parents=True, exist_ok=True)
    written = []
    for package, inside, name in FILES:
        root = kiosk / "node_modules" / package
        source = root / inside
        if not source.is_file():
            raise SystemExit(f"kiosk.bundle: {source} is missing; run `npm ci` in {kiosk} first")
        version = json.loads((root / "package.json").read_text())["version"]
        lines = source.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if not line.startswith("//# sourceMappingURL=")]
        header = f"/* {package} {version} ({inside}), copied by kiosk/bundle.py */"
        target = vendor / name
        target.write_text("\n".join([header, *kept]) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main() -> None:
    for path in bundle():
        print(f"kiosk.bundle: wrote {path.relative_to(KIOSK.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
