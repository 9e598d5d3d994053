"""Write (or check) the committed JSON Schema files generated from the models.

python -m shared.schemas.export          # rewrite file_event.schema.json
python -m shared.schemas.export --check  # exit 1 when the committed file is out of date
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shared.schemas.file_event import json_schema

SCHEMA_FILE = Path(__file__).with_name("file_event.schema.json")


def render() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in args:
        if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != text:
            print(
                f"{SCHEMA_FILE} is out of date: run python -m shared.schemas.export",
                file=sys.stderr,
            )
            return 1
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
