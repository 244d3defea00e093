"""Maintainer tools: mutants (known-wrong implementations), stub checks, manifests."""
