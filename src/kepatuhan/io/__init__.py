"""Readers and writers: the only modules that touch files.

``rubric_toml`` reads and writes rubric files; ``observations_io`` reads observation
files (CSV, TOML, JSON); ``files`` holds the shared safety checks (size limit, a
directory given as a file, encodings).
"""
