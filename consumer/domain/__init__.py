"""Pure catalog rules. Nothing in this package performs I/O."""
