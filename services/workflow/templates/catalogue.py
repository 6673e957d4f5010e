"""A tenant's published templates: every version kept, a ticket always finding the one it runs on.

Publishing validates and numbers a new version; the older ones stay as they were, so a progress
(which names its template key and version) is never touched by a later publication.
Regional variants are templates of their own (own key, own versions) that name the template
they vary (`variant_of`) and the regions they serve. Regions are paths such as "广东/深圳":
a variant for "广东" serves "广东/深圳" too, and the most specific variant wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from collections.abc import Mapping

from shared.errors import Conflict, NotFound

from services.workflow.templates.model import Template
from services.workflow.templates.validation import validate


@dataclass(frozen=True)
class Catalogue:
    tenant: str
    published: Mapping[str, tuple[Template, ...]] = field(default_factory=dict)  # key -> versions 1, 2, …

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", MappingProxyType(dict(self.published)))

    def versions(self, key: str) -> tuple[Template, ...]:
        if key not in self.published:
            raise NotFound(f"tenant {self.tenant!r} has no template {key!r}", template=key)
        return self.published[key]

    def get(self, key: str, version: int) -> Template:
        versions = self.versions(key)
        if not 1 <= version <= len(versions):
            raise NotFound(f"template {key!r} has no version {version} (latest {len(versions)})", template=key)
        return versions[version - 1]

    def latest(self, key: str) -> Template:
        return self.versions(key)[-1]

    def publish(self, template: Template) -> Catalogue:
        """A catalogue with `template` as the next version of its key (its own version number is ignored)."""
        validate(template)
        if template.variant_of:
            self._check_variant(template)
        return self.recorded(replace(template, version=len(self.published.get(template.key, ())) + 1))

    def recorded(self, template: Template) -> Catalogue:
        """A catalogue with a version published earlier, as it was: replaying history does not
        validate again, so rules made stricter later never make an old version unreadable."""
        versions = self.published.get(template.key, ())
        if template.version != len(versions) + 1:
            raise Conflict(f"{template.key!r} v{template.version} does not follow v{len(versions)}")
        return replace(self, published={**self.published, template.key: versions + (template,)})

    def _check_variant(self, variant: Template) -> None:
        base = self.versions(variant.variant_of)[-1]
        if base.variant_of:
            raise Conflict(f"{variant.variant_of!r} is itself a variant; vary {base.variant_of!r} instead")
        for other in self._variants(variant.variant_of):
            clash = set(other.regions) & set(variant.regions)
            if other.key != variant.key and clash:
                raise Conflict(f"{other.key!r} already serves {', '.join(sorted(clash))} for {variant.variant_of!r}")

    def _variants(self, key: str) -> list[Template]:
        return [versions[-1] for versions in self.published.values() if versions[-1].variant_of == key]

    def select(self, key: str, region: str | None = None) -> Template:
        """The latest version of the template a new ticket in `region` should run on."""
        best, depth = self.latest(key), -1
        for variant in self._variants(key):
            for served in variant.regions:
                if region and (region == served or region.startswith(served + "/")) and served.count("/") > depth:
                    best, depth = variant, served.count("/")
        return best
