"""One home per meter maker: layouts, list ids, implicit scalers, system title, preset, model."""
