"""Known corpora: manifests under ``corpora/manifests/*.yaml`` (name, format, source, license, citation)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import XkdeError
from .resources import resource_path


@dataclass(frozen=True)
class CorpusManifest:
    name: str
    format: str
    description: str
    license: str
    citation: str
    source: str = ""  # Hub id or URL where the corpus can be obtained
    path: str = ""  # a file shipped with xkde (demo corpus), relative to corpora/
    pretty_name: str = ""

    def local_path(self) -> Path | None:
        return resource_path(f"corpora/{self.path}") if self.path else None


@lru_cache(maxsize=None)
def manifests() -> dict[str, CorpusManifest]:
    out = {}
    for file in sorted(resource_path("corpora/manifests").glob("*.yaml")):
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        try:
            manifest = CorpusManifest(**data)
        except TypeError as err:
            raise XkdeError(f"bad corpus manifest: {err}", file=str(file)) from None
        out[manifest.name] = manifest
    return out


def resolve(name_or_path: str) -> tuple[str, str | None, CorpusManifest | None]:
    """A corpus name or a path -> (source to import, format, manifest if known)."""
    known = manifests()
    if name_or_path in known:
        manifest = known[name_or_path]
        local = manifest.local_path()
        if local is not None:
            return str(local), manifest.format, manifest
        if manifest.source.startswith("hub:") or "/" in manifest.source:
            src = manifest.source if manifest.source.startswith("hub:") else f"hub:{manifest.source}"
            return src, "hub", manifest
        raise XkdeError(f"corpus {name_or_path!r} is not shipped with xkde; download it from "
                        f"{manifest.source} and pass its path")
    return name_or_path, None, None
