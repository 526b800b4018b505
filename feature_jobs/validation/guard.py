"""Refuse to run with validation switched off, unless explicitly allowed (and logged).

Pandera reads ``PANDERA_VALIDATION_ENABLED`` and ``PANDERA_VALIDATION_DEPTH`` when it is
imported; a disabled or partial validation would let any batch through silently. Both the
environment and Pandera's effective configuration are checked, because either one can
switch validation off. Only full depth (``SCHEMA_AND_DATA``, the default) counts as on:
``SCHEMA_ONLY`` skips every value check, and ``DATA_ONLY`` skips null and type checks.
"""

from __future__ import annotations

import logging
import os

from feature_jobs.errors import ConfigError

log = logging.getLogger("skewless.validation")

_FALSY = {"false", "0", "no", "off"}


def disabled_reason() -> str | None:
    """Why validation is (partly) off, or None when Pandera validates fully."""
    from pandera.config import ValidationDepth, get_config_context

    env_enabled = os.environ.get("PANDERA_VALIDATION_ENABLED")
    if env_enabled is not None and env_enabled.strip().lower() in _FALSY:
        return f"PANDERA_VALIDATION_ENABLED={env_enabled}"
    env_depth = os.environ.get("PANDERA_VALIDATION_DEPTH")
    if env_depth and env_depth.strip().upper() != "SCHEMA_AND_DATA":
        return f"PANDERA_VALIDATION_DEPTH={env_depth}"
    config = get_config_context(validation_depth_default=None)
    if not config.validation_enabled:
        return "Pandera validation is disabled in its configuration"
    depth = config.validation_depth
    if depth is not None and depth != ValidationDepth.SCHEMA_AND_DATA:
        return f"Pandera validation depth is {depth.value}"
    return None


def validation_required(what: str, allow_unvalidated: bool) -> bool:
    """True when validation must run; False when it is off and that was allowed.

    Raises:
        ConfigError: validation is off and ``allow_unvalidated`` is False.
    """
    reason = disabled_reason()
    if reason is None:
        return True
    if not allow_unvalidated:
        raise ConfigError(
            f"{what}: refusing to run because validation is switched off ({reason}); "
            "unset it, or pass --allow-unvalidated to publish unvalidated data on purpose"
        )
    log.warning("%s: validation is switched off (%s); publishing UNVALIDATED data as "
                "allowed by --allow-unvalidated", what, reason)  # fmt: skip
    return False
