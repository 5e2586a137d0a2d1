"""The taskkit plugin of the broken variants: one URL scheme each.

``test_broken_variants`` installs it through an entry point (a
``.dist-info`` folder on PYTHONPATH), so worker processes started by the
kit find the variants the way they find any installed backend.
"""

from __future__ import annotations

from taskkit_acme.plugin import CAPABILITIES as ACME_CAPABILITIES
from taskkit_acme.plugin import drop_acme, migrate_acme
from taskkit_core.hookspecs import hookimpl
from taskkit_core.memory.backend import CAPABILITIES as MEMORY_CAPABILITIES
from taskkit_core.registry import BackendRegistry

from . import acme_variants, variants


@hookimpl
def taskkit_register_backends(registry: BackendRegistry) -> None:
    for scheme, open_memory_variant in variants.OPENERS.items():
        registry.add(scheme, open_memory_variant, capabilities=MEMORY_CAPABILITIES)
    for scheme, open_acme_variant in acme_variants.OPENERS.items():
        registry.add(
            scheme,
            open_acme_variant,
            capabilities=ACME_CAPABILITIES,
            migrate=migrate_acme,
            drop=drop_acme,
        )
