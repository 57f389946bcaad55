"""Settings.GeneralLabels: label names and categories to keep or to leave out of DetectLabels' answer.

Rekognition's rules: with inclusion filters, a label is kept when its name is among LabelInclusionFilters or one
of its categories among LabelCategoryInclusionFilters; exclusion filters then leave out a label whose name or
category they list. Names and categories are compared without regard to case.
"""

from __future__ import annotations

import dataclasses

from altostratus.vision.errors import InvalidParameter
from altostratus.vision.results import Label

MAX_FILTERS = 100  # Rekognition's limit for each of the four lists


@dataclasses.dataclass(frozen=True)
class LabelFilters:
    """The four filter lists of Settings.GeneralLabels (empty: no filter)."""

    include_labels: tuple[str, ...] = ()
    exclude_labels: tuple[str, ...] = ()
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            values = getattr(self, field.name)
            if len(values) > MAX_FILTERS:
                raise InvalidParameter(f"{field.name} has {len(values)} entries; at most {MAX_FILTERS} are allowed")
            if any(not isinstance(v, str) or not v.strip() for v in values):
                raise InvalidParameter(f"{field.name}={list(values)!r}; every entry must be a non-empty string")

    @property
    def empty(self) -> bool:
        """Whether no filter is set."""
        return not (self.include_labels or self.exclude_labels or self.include_categories or self.exclude_categories)

    def admits(self, label: Label) -> bool:
        """Whether the label passes the filters."""
        name = label.name.casefold()
        categories = {c.casefold() for c in label.categories}
        if self.include_labels or self.include_categories:
            named = name in _folded(self.include_labels)
            categorised = bool(categories & _folded(self.include_categories))
            if not (named or categorised):
                return False
        return name not in _folded(self.exclude_labels) and not categories & _folded(self.exclude_categories)


def _folded(values: tuple[str, ...]) -> set[str]:
    return {v.casefold() for v in values}
