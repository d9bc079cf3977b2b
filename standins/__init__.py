"""Local stand-ins for government systems that cannot exist on a developer's machine (see README)."""
