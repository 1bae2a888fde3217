"""The bundled demo fleet (installed from datasets/demo/)."""
