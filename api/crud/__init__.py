"""Database access, one module per entity: queries and writes, no HTTP and no commits."""
