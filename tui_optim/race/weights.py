"""Racer slugs and weight-file names: unique, file-name-safe and the same in every engine
process of a split race."""

from __future__ import annotations

import re

from tui_optim.scenario import Scenario

#: Longest slug: a weight file name (slug, "-seed<n>", ".npz") stays far below 255 bytes.
MAX_SLUG_LENGTH = 96


def slugify(name: str) -> str:
    """A file-name-safe form of a racer name: ``"adam lr=0.01"`` -> ``"adam-lr-0.01"``."""
    slug = re.sub(r"[^a-z0-9.]+", "-", name.lower())[:MAX_SLUG_LENGTH].strip("-.")
    return slug or "racer"


def unique_slug(name: str, taken: set[str]) -> str:
    """``slugify(name)``, with ``-2``, ``-3`` ... appended until it is not in ``taken``."""
    base = slug = slugify(name)
    suffix = 2
    while slug in taken:
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def race_slugs(scenario: Scenario) -> list[str]:
    """The slug of each of the scenario's racers, in order: unique within the race and the
    same in every engine process of a split race (repeats of a racer share its slug)."""
    taken: set[str] = set()
    slugs = []
    for config in scenario.racers:
        slug = unique_slug(config.name, taken)
        taken.add(slug)
        slugs.append(slug)
    return slugs


def weight_file_stem(slug: str, seed: int, repeats: int) -> str:
    """The name (without ``.npz``) a racer's weights are saved under."""
    return f"{slug}-seed{seed}" if repeats > 1 else slug


