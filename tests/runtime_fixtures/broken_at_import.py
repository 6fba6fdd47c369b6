"""A function module that fails while it loads: the runtime reports an init error."""

raise RuntimeError("the configuration file is missing")
