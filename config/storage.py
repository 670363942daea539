"""Static files in production: WhiteNoise's compressed, hashed-name storage, so each file is
served with a one-year immutable cache header and a new name whenever it changes."""

from __future__ import annotations

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class StaticFilesStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]
    """Names from collectstatic's manifest. Before collectstatic has run at all (a quick trial
    with DEBUG off) pages link the plain names, with one warning, instead of failing to render;
    a file missing from an existing manifest is still an error."""

    _warned = False

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:
            if not StaticFilesStorage._warned:
                StaticFilesStorage._warned = True
                logger.warning(
                    "Static files are not collected: pages link %s unhashed and without their "
                    "styles unless served otherwise. Run `manage.py collectstatic` (the Docker "
                    "image does it when built).",
                    self.location,
                )
            return name
        return str(super().stored_name(name))
