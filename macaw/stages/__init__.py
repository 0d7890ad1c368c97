"""The seven stages, in the order a build runs them; each is one module here."""

STAGES = ("fetch", "extract", "write", "speak", "check", "master", "publish")
