"""JSON Schemas and saved samples of the registered events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.envelope import Envelope, Event
from contracts.registry import all_events

SAMPLES_DIR = Path(__file__).parent / "samples"


def contract_events() -> list[type[Event]]:
    """The events published by the services: those defined in this package (tests may register others)."""
    return [cls for cls in all_events() if cls.__module__.split(".")[0] == "contracts"]


def file_stem(cls: type[Event]) -> str:
    """The file name (without suffix) used for an event's schema and sample."""
    return f"{cls.TYPE}.v{cls.VERSION}"


def schema_of(cls: type[Event]) -> dict[str, Any]:
    """The JSON Schema of an event's envelope with its data model in place."""
    schema = Envelope.model_json_schema()
    schema["title"] = f"{cls.TYPE} v{cls.VERSION}"
    schema["description"] = (cls.__doc__ or "").strip()
    schema["properties"]["type"] = {"const": cls.TYPE}
    schema["properties"]["version"] = {"const": cls.VERSION}
    data_schema = cls.model_json_schema()
    schema.setdefault("$defs", {}).update(data_schema.pop("$defs", {}))
    schema["properties"]["data"] = data_schema
    return schema


def load_sample(cls: type[Event]) -> Envelope:
    """The saved sample envelope of an event class."""
    return Envelope.model_validate_json((SAMPLES_DIR / f"{file_stem(cls)}.json").read_text())


def breaking_changes(cls: type[Event], sample: Envelope) -> list[str]:
    """Why the current model cannot read or reproduce its saved sample (empty when additive)."""
    from pydantic import ValidationError

    try:
        parsed = cls.model_validate(sample.data)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    dumped = parsed.model_dump(mode="json")
    problems = []
    for field, value in sample.data.items():
        if field not in dumped:
            problems.append(f"{field}: removed")
        elif dumped[field] != value:
            problems.append(f"{field}: reads back as {dumped[field]!r}, sample has {value!r}")
    return problems


def write_schemas(out_dir: Path) -> list[Path]:
    """Write one JSON Schema file per registered event into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cls in contract_events():
        path = out_dir / f"{file_stem(cls)}.schema.json"
        path.write_text(json.dumps(schema_of(cls), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    import contracts  # noqa: F401  (registers every event)

    for written_path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/events")):
        print(written_path)
