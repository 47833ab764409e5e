"""Which directory authorities and fallbacks a configuration ends up using.

tor's ``consider_adding_dir_servers`` (``src/app/config/config.c``): configured
DirAuthority lines replace the defaults entirely; otherwise the default v3 authorities
are used unless AlternateDirAuthority is set, the default bridge authority unless
AlternateBridgeAuthority is set, and the default fallbacks only when DirAuthority,
AlternateDirAuthority and FallbackDir are all unset and UseDefaultFallbackDirs is 1.
"""

from __future__ import annotations

from zwiebel.config.authorities import (
    DirAuthoritySpec,
    FallbackDirSpec,
    default_authorities,
    default_fallbacks,
)
from zwiebel.config.options import Options


def trusted_authorities(options: Options) -> tuple[DirAuthoritySpec, ...]:
    """The authorities in use: configured ones, or the public network's."""
    configured: tuple[DirAuthoritySpec, ...] = options.dir_authorities
    if configured:
        return configured
    alt_dir: tuple[DirAuthoritySpec, ...] = options.alternate_dir_authorities
    alt_bridge: tuple[DirAuthoritySpec, ...] = options.alternate_bridge_authorities
    defaults = tuple(
        auth for auth in default_authorities()
        if (auth.is_bridge_authority and not alt_bridge)
        or (auth.is_v3 and not alt_dir)
    )
    return defaults + alt_bridge + alt_dir


def fallback_directories(options: Options) -> tuple[FallbackDirSpec, ...]:
    """The fallback directories in use."""
    configured: tuple[FallbackDirSpec, ...] = options.fallback_dirs
    if configured:
        return configured
    if options.dir_authorities or options.alternate_dir_authorities:
        return ()
    return default_fallbacks() if options.use_default_fallback_dirs else ()
