"""The conformance kit's own tests: each new kit test fails against a backend that breaks it.

``variants`` (memory://) and ``acme_variants`` (the acme example) hold one
deliberately broken backend per promise; ``plugin`` registers each under a
URL scheme of its own; ``test_broken_variants`` runs the kit against them.
"""
