"""A module shipped in a layer: importable only when the layer is on the runtime's path."""

GREETING = "hello from the layer"
